/**
 * mod_trpcauth for @trpc/client v10 (the tutorial frontend pins 10.45.2): `AppRouter` built with
 * @trpc/server 10.45.2, and the same zod schemas. The tutorial frontend (configured with
 * `TrpcAuthRefreshReturnsAccessToken On`) takes its AppRouter from `backend/src/index.d.ts`:
 *
 *     export type { AppRouterRefreshReturnsAccessToken as AppRouter } from '@mod-trpcauth/router/v10';
 */
export type { AppRouter, AppRouterRefreshReturnsAccessToken } from './router.js';
export * from '../schemas.js';
