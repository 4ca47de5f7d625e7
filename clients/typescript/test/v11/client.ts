/**
 * Type test (tsc --noEmit): a @trpc/client v11 app against mod_trpcauth's AppRouter (@mod-trpcauth/router),
 * with each v11 link. Every `@ts-expect-error` line must be an error: a wrong input or a wrong output field
 * does not compile.
 */
import { createTRPCClient, httpBatchLink, httpBatchStreamLink, httpLink } from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import superjson from 'superjson';
import type { AppRouter, AppRouterRefreshReturnsAccessToken, Transaction } from '@mod-trpcauth/router';
import { transactionCreateInput } from '@mod-trpcauth/router/schemas';

type IsAny<T> = 0 extends 1 & T ? true : false;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const notAny = <T>(_: T, ok: IsAny<T> extends false ? true : never) => ok;

const url = 'http://localhost:4000/trpc';
const fetchWithCookies: typeof fetch = (input, init) => fetch(input, { ...init, credentials: 'include' });

export const batch = createTRPCClient<AppRouter>({
  links: [httpBatchLink({ url, transformer: superjson, fetch: fetchWithCookies })],
});
export const single = createTRPCClient<AppRouter>({ links: [httpLink({ url, transformer: superjson })] });
export const stream = createTRPCClient<AppRouter>({ links: [httpBatchStreamLink({ url, transformer: superjson })] });

// @ts-expect-error the router has the superjson transformer: a link without it does not compile
createTRPCClient<AppRouter>({ links: [httpBatchLink<AppRouter>({ url })] });

export async function flow(c: typeof batch) {
  const reg = await c.auth.register.mutate({ email: 'a@example.com', password: 'password123' });
  notAny(reg, true);
  const ok: true = reg.success;
  const created: Date = reg.user[0]!.createdAt;
  await c.auth.login.mutate({ email: 'a@example.com', password: 'password123' });
  const me = await c.auth.me.query();
  const id: number = me.id;
  const rows: Transaction[] = await c.transaction.create.mutate({ amount: 7, txnType: 'Outgoing', summary: '', tag: undefined });
  const all = await c.transaction.getAll.query();
  notAny(all, true);
  const shown = all.map((r) => `${r.amount.toFixed(2)} ${r.txnType} ${r.tag ?? ''} ${r.createdAt.getTime()}`);
  const refreshed = await c.auth.refreshAccessToken.mutate();
  const token: string | undefined = refreshed.accessToken;
  const sessions = await c.auth.sessions.query();
  const current: boolean | undefined = sessions.find((s) => s.current)?.current;
  await c.auth.revokeSession.mutate({ sessionId: sessions[0]!.id });
  await c.auth.changePassword.mutate({ currentPassword: 'password123', newPassword: 'password456' });
  await c.auth.logoutAll.mutate();
  await c.auth.logout.mutate();
  const asked: true = (await c.auth.requestPasswordReset.mutate({ email: 'a@example.com' })).success;
  await c.auth.resetPassword.mutate({ token: 'f'.repeat(64), newPassword: 'password789' });
  await c.auth.requestEmailVerification.mutate();
  await c.auth.verifyEmail.mutate({ token: 'f'.repeat(64) });

  // ---- wrong inputs
  // @ts-expect-error amount is a number
  await c.transaction.create.mutate({ amount: '7', txnType: 'Outgoing' });
  // @ts-expect-error txnType is "Incoming" | "Outgoing"
  await c.transaction.create.mutate({ amount: 7, txnType: 'Sideways' });
  // @ts-expect-error auth.login needs its input
  await c.auth.login.mutate();
  // @ts-expect-error revokeSession takes {sessionId}
  await c.auth.revokeSession.mutate({ id: 'x' });
  // @ts-expect-error changePassword needs currentPassword
  await c.auth.changePassword.mutate({ newPassword: 'password456' });
  // @ts-expect-error resetPassword needs the token of the link
  await c.auth.resetPassword.mutate({ newPassword: 'password789' });
  // @ts-expect-error requestPasswordReset takes {email}
  await c.auth.requestPasswordReset.mutate({ address: 'a@example.com' });
  // @ts-expect-error requestEmailVerification takes no input: the address is the caller's
  await c.auth.requestEmailVerification.mutate({ email: 'a@example.com' });

  // ---- wrong outputs
  // @ts-expect-error the register output never carries the password hash
  reg.user[0]!.password;
  // @ts-expect-error rows have no `category` field (it is `tag`)
  all[0]!.category;
  // @ts-expect-error createdAt is a Date, not a string
  const s: string = all[0]!.createdAt;
  // @ts-expect-error login answers {success:true} only
  (await c.auth.login.mutate({ email: 'a@example.com', password: 'x' })).user;

  // ---- wrong procedures
  // @ts-expect-error no such procedure
  await c.auth.deleteAccount.mutate();
  // @ts-expect-error transaction.getAll is a query
  await c.transaction.getAll.mutate();

  return { ok, created, id, rows, shown, token, current, s };
}

// the runtime schemas are the same ones the types come from
export const parsed = transactionCreateInput.parse({ amount: 1, txnType: 'Incoming' });

type In = inferRouterInputs<AppRouter>;
type Out = inferRouterOutputs<AppRouter>;
// TrpcAuthRefreshReturnsAccessToken On: accessToken always there; the rest of the router is the same.
type OutWithToken = inferRouterOutputs<AppRouterRefreshReturnsAccessToken>;
export const checks: [
  Equal<In['transaction']['create']['tag'], 'Food' | 'Travel' | 'Shopping' | 'Investment' | 'Salary' | 'Bill' | 'Others' | null | undefined>,
  Equal<Out['auth']['logout'], { success: true }>,
  Equal<Out['auth']['sessions'][number]['lastSeenAt'], Date>,
  Equal<Out['transaction']['getAll'][number]['summary'], string | null>,
  Equal<Out['auth']['refreshAccessToken'], { success: true; accessToken?: string | undefined }>,
  Equal<OutWithToken['auth']['refreshAccessToken'], { success: true; accessToken: string }>,
  Equal<Omit<OutWithToken, 'auth'>, Omit<Out, 'auth'>>,
  Equal<Omit<OutWithToken['auth'], 'refreshAccessToken'>, Omit<Out['auth'], 'refreshAccessToken'>>,
] = [true, true, true, true, true, true, true, true];
