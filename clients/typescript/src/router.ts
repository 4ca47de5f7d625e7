/**
 * mod_trpcauth's AppRouter for @trpc/client v11 (built with @trpc/server 11's own builder, superjson transformer).
 *
 * The procedures run in Apache (mod_trpcauth); nothing here is ever executed on a server. The resolvers only
 * throw: the router exists for its type. Keep the body below identical to ./v10/router.ts (run-tests checks it).
 */
import { initTRPC } from '@trpc/server';
import superjson from 'superjson';
import * as s from './schemas.js';

const t = initTRPC.create({ transformer: superjson });

// ---- router body (identical in ./v10/router.ts) ----
/** Never called: the output type comes from the procedure's output schema. */
const declared = (): never => {
  throw new Error('declaration only: mod_trpcauth runs this procedure in Apache httpd');
};

/** The auth procedures but auth.refreshAccessToken, whose output depends on the server's configuration. */
const auth = {
  register: t.procedure.input(s.registerInput).output(s.registerOutput).mutation(declared),
  login: t.procedure.input(s.loginInput).output(s.loginOutput).mutation(declared),
  logout: t.procedure.output(s.logoutOutput).mutation(declared),
  logoutAll: t.procedure.output(s.logoutAllOutput).mutation(declared),
  me: t.procedure.output(s.meOutput).query(declared),
  sessions: t.procedure.output(s.sessionsOutput).query(declared),
  revokeSession: t.procedure.input(s.revokeSessionInput).output(s.revokeSessionOutput).mutation(declared),
  changePassword: t.procedure.input(s.changePasswordInput).output(s.changePasswordOutput).mutation(declared),
  requestEmailVerification: t.procedure.output(s.requestEmailVerificationOutput).mutation(declared),
  verifyEmail: t.procedure.input(s.verifyEmailInput).output(s.verifyEmailOutput).mutation(declared),
  requestPasswordReset: t.procedure
    .input(s.requestPasswordResetInput)
    .output(s.requestPasswordResetOutput)
    .mutation(declared),
  resetPassword: t.procedure.input(s.resetPasswordInput).output(s.resetPasswordOutput).mutation(declared),
};

const transaction = t.router({
  create: t.procedure.input(s.transactionCreateInput).output(s.transactionCreateOutput).mutation(declared),
  getAll: t.procedure.output(s.transactionGetAllOutput).query(declared),
});

const appRouter = t.router({
  auth: t.router({
    ...auth,
    refreshAccessToken: t.procedure.output(s.refreshAccessTokenOutput).mutation(declared),
  }),
  transaction,
});

const appRouterRefreshReturnsAccessToken = t.router({
  auth: t.router({
    ...auth,
    refreshAccessToken: t.procedure.output(s.refreshAccessTokenReturnsAccessTokenOutput).mutation(declared),
  }),
  transaction,
});

/** The procedures of any configuration: auth.refreshAccessToken's `accessToken` is optional. */
export type AppRouter = typeof appRouter;
/**
 * The same for a server with `TrpcAuthRefreshReturnsAccessToken On`, where auth.refreshAccessToken always answers
 * `{success: true, accessToken: string}` (the tutorial frontend's configuration: its middleware sets that token).
 */
export type AppRouterRefreshReturnsAccessToken = typeof appRouterRefreshReturnsAccessToken;
// ---- end of router body ----
