import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { EventLoopError } from '@loop/core';
import type * as Uws from '@trufflesuite/uws-js-unofficial';

/** The uWebSockets.js module as its native binary exports it. */
export type UwsModule = typeof Uws;

/** The code of {@link UwsBinaryError}. */
export type UwsBinaryErrorCode = 'ERR_UWS_BINARY';

/**
 * The native uWebSockets.js binary for this platform, CPU and Node ABI could not be loaded.
 * `path` names the file that was tried; the loader's own error is in `cause`.
 *
 * The package's main module would fall back to a slow pure-JS imitation with two warnings on
 * stderr; this backend never does, so a missing binary is this error and not a quiet slowdown.
 */
export class UwsBinaryError extends EventLoopError<UwsBinaryErrorCode> {
  /** The binary that was tried. */
  readonly path: string;

  constructor(path: string, why: string, cause?: unknown) {
    super('ERR_UWS_BINARY', `backend 'uws': the uWebSockets.js binary ${path} cannot be used (${why}); its pure-JS fallback is refused, pick another backend (libuv) on this platform`, {
      cause,
    });
    this.name = 'UwsBinaryError';
    this.path = path;
  }
}

const require = createRequire(import.meta.url);

/**
 * Where the binary for this process lives: `<package>/binaries/uws_<platform>_<arch>_<abi>.node`.
 * The package directory comes from its package.json, never from its main module, which would
 * load the fallback when the binary fails.
 */
export function binaryPath(): string {
  const packageDir = dirname(require.resolve('@trufflesuite/uws-js-unofficial/package.json'));
  return join(packageDir, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
}

/**
 * Load the binary at `path` and check it is uWebSockets.js.
 * @throws UwsBinaryError (`ERR_UWS_BINARY`) when it is missing, built for another ABI, or not uWS
 */
export function loadBinary(path: string): UwsModule {
  let module: unknown;
  try {
    module = require(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new UwsBinaryError(path, `it does not load: ${reason}`, error);
  }
  const candidate = module as Partial<UwsModule> | null;
  if (typeof candidate?.App !== 'function' || typeof candidate.us_listen_socket_close !== 'function') {
    throw new UwsBinaryError(path, 'it loads but does not export uWebSockets.js (App, us_listen_socket_close)');
  }
  return module as UwsModule;
}

// The seam for tests: which file `uws()` loads. Tests point it at a bad path to see the typed
// error without deleting anything; `undefined` means binaryPath().
let pathOverride: string | undefined;
let loaded: UwsModule | undefined;

/** The uWebSockets.js binary, loaded once per process. @throws UwsBinaryError */
export function uws(): UwsModule {
  if (pathOverride !== undefined) return loadBinary(pathOverride);
  return (loaded ??= loadBinary(binaryPath()));
}

/**
 * Internal (tests only): make {@link uws} try `path` instead of the real binary (`undefined`
 * restores it). Not exported from the package.
 */
export function setBinaryPathForTesting(path: string | undefined): void {
  pathOverride = path;
}
