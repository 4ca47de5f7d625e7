// What the tutorial frontend needs in place of the Node backend: FT:frontend/src/utils/trpc.ts imports the
// AppRouter type from "../../../backend/src/index"; with the C module there is no backend/src/index.ts, and
// TypeScript then resolves this declaration file. (README: "Replacing the Finance Tracker backend".)
// The frontend's configuration has TrpcAuthRefreshReturnsAccessToken On, so auth.refreshAccessToken always returns
// accessToken, and its middleware relies on that (middleware.ts).
export type { AppRouterRefreshReturnsAccessToken as AppRouter } from '@mod-trpcauth/router/v10';
