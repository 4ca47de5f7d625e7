/**
 * mod_trpcauth for @trpc/client v10 (the tutorial frontend pins 10.45.2): `AppRouter` built with
 * @trpc/server 10.45.2, and the same zod schemas. The tutorial frontend's `backend/src/index.d.ts`:
 *
 *     export type { AppRouter } from '@mod-trpcauth/router/v10';
 */
export type { AppRouter } from './router.js';
export * from '../schemas.js';
