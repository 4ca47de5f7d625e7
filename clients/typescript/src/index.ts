/** mod_trpcauth for @trpc/client v11: `AppRouter` and the zod schemas of every procedure. */
export type { AppRouter, AppRouterRefreshReturnsAccessToken } from './router.js';
export * from './schemas.js';
