/**
 * Type test (tsc --noEmit): the refresh in the tutorial frontend's Next.js middleware (FT:frontend/src/middleware.ts
 * at d97a6dc), the call that `next build` type-checks. It makes a v10 proxy client with only the refresh cookie,
 * calls auth.refreshAccessToken, destructures `accessToken` from the result and passes it straight to Next's
 * `response.cookies.set(name, value, options)`, whose value must be a `string`.
 *
 * With the AppRouter of backend/src/index.d.ts (AppRouterRefreshReturnsAccessToken) this compiles. run-tests also
 * compiles a copy importing the plain AppRouter (accessToken optional) and expects exactly the error `next build`
 * stopped with: TS2345 on the cookies.set line, "'string | undefined' is not assignable to type 'string'".
 */
import { createTRPCProxyClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';
import type { AppRouter } from './backend/src/index';

// ---- the part of next/server the middleware uses (next 14.2.5: next/dist/compiled/@edge-runtime/cookies) ----------
interface ResponseCookie {
  name: string;
  value: string;
  expires?: number | Date;
  domain?: string;
  path?: string;
  secure?: boolean;
  sameSite?: boolean | 'lax' | 'strict' | 'none';
  httpOnly?: boolean;
  maxAge?: number;
  priority?: 'low' | 'medium' | 'high';
}
interface ResponseCookies {
  set(...args: [key: string, value: string, cookie?: Partial<ResponseCookie>] | [options: ResponseCookie]): this;
}
interface NextResponse {
  cookies: ResponseCookies;
}

// ---- FT:frontend/src/utils/trpc.ts: the server-side client, with the headers the middleware gives it -------------
const createTRPCServerClient = (headers: Record<string, string>) =>
  createTRPCProxyClient<AppRouter>({
    transformer: superjson,
    links: [httpBatchLink({ url: 'http://localhost:4000/trpc', headers: () => headers })],
  });

// ---- FT:frontend/src/middleware.ts: refreshAccessToken(request, response, refreshToken) ---------------------------
export async function refreshAccessToken(response: NextResponse, refreshToken: string) {
  const client = createTRPCServerClient({
    Cookie: `refreshToken=${refreshToken}`,
  });

  const { accessToken } = await client.auth.refreshAccessToken.mutate();

  response.cookies.set("accessToken", accessToken, {
    httpOnly: true,
    secure: process.env.NODE_ENV === "production",
    sameSite: "strict",
    path: "/",
  });

  response.cookies.set("logged_in", "true", {
    httpOnly: true,
    secure: process.env.NODE_ENV === "production",
    sameSite: "strict",
    path: "/",
  });
}

declare const process: { env: Record<string, string | undefined> };
