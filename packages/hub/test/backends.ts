// The backends the hub's suite runs on: one line each. A backend is listed here once it is
// complete (it passes the conformance suite) and is a devDependency of @loop/hub
// (`npx -y pnpm@10.34.9 add -D '@loop/backend-<name>@workspace:*' --filter @loop/hub`).
import type { Backend } from '@loop/core';

export const BACKENDS: readonly Backend[] = [
  await import('@loop/backend-libuv'),
  await import('@loop/backend-virtual'),
  await import('@loop/backend-uws'),
  await import('@loop/backend-epoll-ffi'),
];
