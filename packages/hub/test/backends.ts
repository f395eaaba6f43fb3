// The backends the hub's suite runs on: one line each. A backend is listed here once it is
// complete (it passes the conformance suite) and is a devDependency of @loop/hub
// (`npx -y pnpm@10.34.9 add -D '@loop/backend-<name>@workspace:*' --filter @loop/hub`).
import type { Backend } from '@loop/core';

const ALL: readonly Backend[] = [
  await import('@loop/backend-libuv'),
  await import('@loop/backend-virtual'),
  await import('@loop/backend-uws'),
  await import('@loop/backend-epoll-ffi'),
];

/**
 * LOOP_HUB_BACKENDS (comma-separated names) narrows the list: the hub's mutation run sets it
 * (stryker.config.mjs), because a mutant in the hub's code is the same mutant on every backend and
 * running the suite four times per mutant would only multiply the run's length. `pnpm test` runs all.
 */
function selected(): readonly Backend[] {
  const names = process.env['LOOP_HUB_BACKENDS'];
  if (names === undefined || names === '') return ALL;
  const wanted = names.split(',').map((name) => name.trim());
  const unknown = wanted.filter((name) => !ALL.some((backend) => backend.name === name));
  if (unknown.length > 0) {
    throw new Error(`LOOP_HUB_BACKENDS names no such backend: ${unknown.join(', ')} (known: ${ALL.map((b) => b.name).join(', ')})`);
  }
  return ALL.filter((backend) => wanted.includes(backend.name));
}

export const BACKENDS: readonly Backend[] = selected();
