// Re-export of @trpc/client 10.45.2 (the version the tutorial's Next.js frontend pins).
// It lives in its own package so that its @trpc/server@10 peer resolves next to it,
// while the suite's top level uses @trpc/client/@trpc/server 11.
export * from '@trpc/client';
