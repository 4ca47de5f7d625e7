/**
 * Type test of the published package (run-tests, pack-v11): copied into a fresh project that installed the
 * `npm pack` tarball next to its own @trpc/client and @trpc/server 11, zod, superjson and typescript, and compiled
 * there with tsc --noEmit. Each `@ts-expect-error` line must be an error (tsc fails on an unused one).
 */
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import type { inferRouterOutputs } from '@trpc/server';
import superjson from 'superjson';
import type { AppRouter, AppRouterRefreshReturnsAccessToken, User } from '@mod-trpcauth/router';
import { transactionCreateInput } from '@mod-trpcauth/router/schemas';

type IsAny<T> = 0 extends 1 & T ? true : false;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

const links = [httpBatchLink({ url: 'http://localhost:4000/trpc', transformer: superjson })];
const client = createTRPCClient<AppRouter>({ links });
const frontendClient = createTRPCClient<AppRouterRefreshReturnsAccessToken>({ links });

export async function session() {
  await client.auth.login.mutate({ email: 'ada@example.com', password: 'correct horse' });
  const me = await client.auth.me.query();
  const user: User = me;
  const created: Date = me.createdAt;
  const rows = await client.transaction.getAll.query();
  const amounts: number[] = rows.map((r) => r.amount);
  // @ts-expect-error amount is a number
  await client.transaction.create.mutate({ amount: '7', txnType: 'Outgoing' });
  // @ts-expect-error users carry no password
  me.password;
  const { accessToken } = await frontendClient.auth.refreshAccessToken.mutate();
  const token: string = accessToken;
  await client.auth.logout.mutate();
  return { user, created, amounts, token, input: transactionCreateInput.parse({ amount: 1, txnType: 'Incoming' }) };
}

type Out = inferRouterOutputs<AppRouter>;
export const checks: [
  Equal<IsAny<Out>, false>,
  Equal<Out['auth']['me']['createdAt'], Date>,
  Equal<Out['auth']['refreshAccessToken']['accessToken'], string | undefined>,
  Equal<inferRouterOutputs<AppRouterRefreshReturnsAccessToken>['auth']['refreshAccessToken']['accessToken'], string>,
] = [true, true, true, true];
