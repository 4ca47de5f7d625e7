/**
 * Type test (tsc --noEmit): the tutorial frontend's client code, as in FT:frontend/src/utils/trpc.ts and its
 * components at d97a6dc (@trpc/client + @trpc/react-query 10.45.2, superjson 2.2.1), against mod_trpcauth's
 * v10 AppRouter, imported the way the frontend imports it (a backend/src/index.d.ts re-export of
 * AppRouterRefreshReturnsAccessToken: the frontend's server has TrpcAuthRefreshReturnsAccessToken On).
 * Every `@ts-expect-error` line must be an error: a wrong input or a wrong output field does not compile.
 */
import { createTRPCProxyClient, httpBatchLink } from '@trpc/client';
import { createTRPCReact } from '@trpc/react-query';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import superjson from 'superjson';
import type { AppRouter } from './backend/src/index';

type IsAny<T> = 0 extends 1 & T ? true : false;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const notAny = <T>(_: T, ok: IsAny<T> extends false ? true : never) => ok;

const url = 'http://localhost:4000/trpc';

// ---- FT:frontend/src/utils/trpc.ts: the React hooks and the middleware's proxy client -----------------------------
export const trpc = createTRPCReact<AppRouter>();

export const serverClient = (refreshToken: string) =>
  createTRPCProxyClient<AppRouter>({
    transformer: superjson,
    links: [
      httpBatchLink({
        url,
        headers: () => ({ Cookie: `refreshToken=${refreshToken}` }),
        fetch: (input, init) => fetch(input, { ...init, credentials: 'include' }),
      }),
    ],
  });

// ---- FT:frontend/src/lib/providers/trpc.tsx: the browser's client -----------------------------------------------
export const browserClient = trpc.createClient({
  transformer: superjson,
  links: [httpBatchLink({ url, fetch: (input, init) => fetch(input, { ...init, credentials: 'include' }) })],
});

// @ts-expect-error the router has the superjson transformer: a client without it does not compile
createTRPCProxyClient<AppRouter>({ links: [httpBatchLink({ url })] });

// ---- the middleware's refresh (FT:frontend/src/middleware.ts) -------------------------------------------------
export async function middlewareRefresh(refreshToken: string): Promise<string> {
  const out = await serverClient(refreshToken).auth.refreshAccessToken.mutate();
  notAny(out, true);
  const ok: true = out.success;
  // @ts-expect-error the output has no refreshToken field
  out.refreshToken;
  void ok;
  return out.accessToken;
}

// ---- the components' hooks ------------------------------------------------------------------------------------
export function useDashboard() {
  const { data } = trpc.transaction.getAll.useQuery();
  notAny(data, true);
  const rows = data ?? [];
  const balance = rows.reduce((s, r) => s + (r.txnType === 'Incoming' ? r.amount : -r.amount), 0);
  const shown: string[] = rows.map((r) => `${r.id} ${r.amount.toFixed(2)} ${r.tag ?? ''} ${r.createdAt.toISOString()}`);
  // @ts-expect-error rows have no password (nor any other undeclared field)
  rows[0]?.password;
  // @ts-expect-error createdAt is a Date (superjson), not a string
  const created: string | undefined = rows[0]?.createdAt;
  // @ts-expect-error txnType is "Incoming" | "Outgoing"
  rows.filter((r) => r.txnType === 'Income');
  return { balance, shown, created };
}

export function useForms() {
  const utils = trpc.useUtils();
  const login = trpc.auth.login.useMutation({ onSuccess: () => undefined });
  const register = trpc.auth.register.useMutation();
  const create = trpc.transaction.create.useMutation({
    onSuccess: () => utils.transaction.getAll.invalidate(),
  });
  login.mutate({ email: 'user@example.com', password: 'password123' });
  register.mutate({ email: 'user@example.com', password: 'password123' });
  create.mutate({ amount: 7, txnType: 'Outgoing', summary: '', tag: undefined });
  create.mutate({ amount: 2500, txnType: 'Incoming', summary: 'November salary', tag: 'Salary' });
  // @ts-expect-error amount is a number, not a string
  create.mutate({ amount: '7', txnType: 'Outgoing' });
  // @ts-expect-error txnType is required
  create.mutate({ amount: 7 });
  // @ts-expect-error "Fun" is not a tag
  create.mutate({ amount: 7, txnType: 'Outgoing', tag: 'Fun' });
  // @ts-expect-error login needs a password
  login.mutate({ email: 'user@example.com' });
  // @ts-expect-error register output has no password hash
  register.data?.user[0]?.password;
}

// ---- the rest of CONTRACT §3 through the proxy client ------------------------------------------------------------
export async function everyProcedure(c: ReturnType<typeof serverClient>) {
  const reg = await c.auth.register.mutate({ email: 'a@example.com', password: 'password123' });
  const regUser: { id: number; email: string; emailVerified: boolean; createdAt: Date; updatedAt: Date } = reg.user[0]!;
  const me = await c.auth.me.query();
  const meCreated: Date = me.createdAt;
  const sessions = await c.auth.sessions.query();
  const current: boolean | undefined = sessions[0]?.current;
  const lastSeen: Date | undefined = sessions[0]?.lastSeenAt;
  await c.auth.revokeSession.mutate({ sessionId: sessions[0]!.id });
  await c.auth.changePassword.mutate({ currentPassword: 'password123', newPassword: 'password456' });
  const out: { success: true } = await c.auth.logoutAll.mutate();
  await c.auth.logout.mutate();
  const [row] = await c.transaction.create.mutate({ amount: 1, txnType: 'Incoming' });
  const summary: string | null | undefined = row?.summary;
  // @ts-expect-error revokeSession takes {sessionId}
  await c.auth.revokeSession.mutate({ id: 'x' });
  // @ts-expect-error auth.me is a query
  await c.auth.me.mutate();
  // @ts-expect-error no such procedure
  await c.auth.deleteAccount.mutate();
  // @ts-expect-error me has no password field
  me.password;
  return { regUser, meCreated, current, lastSeen, out, summary };
}

// ---- inference helpers agree with the schemas ---------------------------------------------------------------------
type In = inferRouterInputs<AppRouter>;
type Out = inferRouterOutputs<AppRouter>;
export const checks: [
  Equal<In['transaction']['create']['txnType'], 'Incoming' | 'Outgoing'>,
  Equal<Out['auth']['login'], { success: true }>,
  Equal<Out['auth']['refreshAccessToken']['accessToken'], string>,
  Equal<Out['transaction']['getAll'][number]['amount'], number>,
] = [true, true, true, true];
