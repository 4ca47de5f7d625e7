/**
 * The zod schemas of mod_trpcauth's procedures (CONTRACT §3): what each procedure accepts and what it answers,
 * as a superjson client sees it (timestamps are `Date`s).
 *
 * - Input schemas mirror the module's own validation (it answers BAD_REQUEST with `data.zodError` field errors
 *   for what they reject): emails are trimmed and lower-cased, new passwords are 8..72 characters (the module
 *   counts bytes: bcrypt's limit), `amount` is a 32-bit integer.
 * - Output schemas are `.strict()`: an extra field on the wire (say a password hash) fails them. The client suite
 *   (test/client/schema-drift.test.mjs) parses real answers of the module with them, so these declarations cannot
 *   drift from what the module sends.
 *
 * This file depends on zod only; it is the single source of the router types in ./router.ts and ./v10/router.ts.
 */
import { z } from 'zod';

// ------------------------------------------------------------------------------------------------ enums

export const TXN_TYPES = ['Incoming', 'Outgoing'] as const;
export const TAGS = ['Food', 'Travel', 'Shopping', 'Investment', 'Salary', 'Bill', 'Others'] as const;

export const txnType = z.enum(TXN_TYPES);
export const tag = z.enum(TAGS);

// ------------------------------------------------------------------------------------------------ inputs

const email = z.string().trim().toLowerCase().email().max(254);
/** A new password: 8..72 (bcrypt ignores what follows byte 72; the module counts bytes). */
const newPassword = z.string().min(8).max(72);

export const registerInput = z.object({ email, password: newPassword });
export const loginInput = z.object({ email, password: z.string().max(1024) });
export const revokeSessionInput = z.object({ sessionId: z.string().min(1) });
export const changePasswordInput = z.object({ currentPassword: z.string().max(1024), newPassword });
/** The token of a mail link (the fragment's `token=`): 64 hex digits as the module makes them; anything else is
 *  BAD_REQUEST ("This link is invalid or has expired") at the module. */
const mailToken = z.string().min(1);
export const verifyEmailInput = z.object({ token: mailToken });
export const requestPasswordResetInput = z.object({ email });
export const resetPasswordInput = z.object({ token: mailToken, newPassword });
export const transactionCreateInput = z.object({
  amount: z.number().int().min(-2147483648).max(2147483647),
  txnType,
  /** absent or null: stored as null */
  summary: z.string().nullish(),
  /** absent: the column default "Others"; null: stored as null (as the tutorial's Drizzle insert) */
  tag: tag.nullish(),
});

// ------------------------------------------------------------------------------------------------ outputs

export const success = z.object({ success: z.literal(true) }).strict();

/** A user as auth.register and auth.me return it: never the password hash. */
export const user = z
  .object({
    id: z.number().int().positive(),
    email: z.string(),
    emailVerified: z.boolean(),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .strict();

/** A transaction row (tutorial's Drizzle schema: summary and tag are nullable columns). */
export const transaction = z
  .object({
    id: z.number().int().positive(),
    amount: z.number().int(),
    txnType,
    summary: z.string().nullable(),
    tag: tag.nullable(),
    userId: z.number().int().positive(),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .strict();

/** One session of auth.sessions. */
export const session = z
  .object({
    id: z.string(),
    current: z.boolean(),
    createdAt: z.date(),
    lastSeenAt: z.date(),
    ip: z.string(),
    userAgent: z.string(),
  })
  .strict();

export const registerOutput = z.object({ success: z.literal(true), user: z.array(user) }).strict();
export const loginOutput = success;
/** `accessToken` only with `TrpcAuthRefreshReturnsAccessToken On` (for the Next.js middleware). */
export const refreshAccessTokenOutput = z
  .object({ success: z.literal(true), accessToken: z.string().optional() })
  .strict();
/**
 * The same on a server configured with `TrpcAuthRefreshReturnsAccessToken On`: `accessToken` is always there. The
 * router type `AppRouterRefreshReturnsAccessToken` declares it, for frontends that rely on it (the tutorial's
 * middleware passes it straight to `response.cookies.set`, which takes a `string`).
 */
export const refreshAccessTokenReturnsAccessTokenOutput = z
  .object({ success: z.literal(true), accessToken: z.string() })
  .strict();
export const logoutOutput = success;
export const logoutAllOutput = success;
export const meOutput = user;
export const sessionsOutput = z.array(session);
export const revokeSessionOutput = success;
export const changePasswordOutput = success;
/** Mails a link unless the address is verified already; `{success: true}` either way. */
export const requestEmailVerificationOutput = success;
export const verifyEmailOutput = success;
/** `{success: true}` whether or not the address is registered. */
export const requestPasswordResetOutput = success;
export const resetPasswordOutput = success;
/** `[row]`: an array of the inserted row, as the tutorial's `.returning()`. */
export const transactionCreateOutput = z.array(transaction);
/** The caller's rows, newest first. */
export const transactionGetAllOutput = z.array(transaction);

/** Every procedure: kind and schemas (`input` undefined: takes no input). */
export const procedures = {
  'auth.register': { kind: 'mutation', input: registerInput, output: registerOutput },
  'auth.login': { kind: 'mutation', input: loginInput, output: loginOutput },
  'auth.refreshAccessToken': { kind: 'mutation', input: undefined, output: refreshAccessTokenOutput },
  'auth.logout': { kind: 'mutation', input: undefined, output: logoutOutput },
  'auth.logoutAll': { kind: 'mutation', input: undefined, output: logoutAllOutput },
  'auth.me': { kind: 'query', input: undefined, output: meOutput },
  'auth.sessions': { kind: 'query', input: undefined, output: sessionsOutput },
  'auth.revokeSession': { kind: 'mutation', input: revokeSessionInput, output: revokeSessionOutput },
  'auth.changePassword': { kind: 'mutation', input: changePasswordInput, output: changePasswordOutput },
  'auth.requestEmailVerification': { kind: 'mutation', input: undefined, output: requestEmailVerificationOutput },
  'auth.verifyEmail': { kind: 'mutation', input: verifyEmailInput, output: verifyEmailOutput },
  'auth.requestPasswordReset': { kind: 'mutation', input: requestPasswordResetInput, output: requestPasswordResetOutput },
  'auth.resetPassword': { kind: 'mutation', input: resetPasswordInput, output: resetPasswordOutput },
  'transaction.create': { kind: 'mutation', input: transactionCreateInput, output: transactionCreateOutput },
  'transaction.getAll': { kind: 'query', input: undefined, output: transactionGetAllOutput },
} as const;

// ------------------------------------------------------------------------------------------------ types

export type TxnType = z.infer<typeof txnType>;
export type Tag = z.infer<typeof tag>;
export type User = z.infer<typeof user>;
export type Transaction = z.infer<typeof transaction>;
export type Session = z.infer<typeof session>;
export type RegisterInput = z.input<typeof registerInput>;
export type LoginInput = z.input<typeof loginInput>;
export type TransactionCreateInput = z.input<typeof transactionCreateInput>;
export type VerifyEmailInput = z.input<typeof verifyEmailInput>;
export type RequestPasswordResetInput = z.input<typeof requestPasswordResetInput>;
export type ResetPasswordInput = z.input<typeof resetPasswordInput>;
