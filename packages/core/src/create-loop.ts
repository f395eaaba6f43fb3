import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Capabilities } from './capabilities.js';
import { EventLoopError } from './errors.js';
import type { ErrorHandler, EventLoop } from './loop.js';

/** Options every backend's `createLoop` accepts. */
export interface LoopOptions {
  /** The error handler to start with (see {@link EventLoop.setErrorHandler}). */
  readonly onError?: ErrorHandler;
}

/** What a backend package exports (every backend exports these same names). */
export interface Backend {
  /** The backend's name, such as `'libuv'`. */
  readonly name: string;
  /** What its loops support. */
  readonly capabilities: Capabilities;
  /** Create a new, independent loop. */
  createLoop(options?: LoopOptions): EventLoop;
}

/** Options of {@link createLoop}. */
export interface CreateLoopOptions extends LoopOptions {
  /**
   * Backend name (one of {@link BACKENDS}: `'libuv'`, `'uws'`, `'epoll-ffi'`, `'virtual'`) or
   * full package name. Defaults to the
   * `LOOP_BACKEND` environment variable, then `'libuv'`.
   */
  readonly backend?: string;
}

const BACKEND_NAME = /^(?:@loop\/backend-)?([a-z0-9][a-z0-9-]*)$/;

/** The backends this project publishes, by name (each is the package `@loop/backend-<name>`). */
export const BACKENDS: readonly string[] = Object.freeze(['libuv', 'uws', 'epoll-ffi', 'virtual']);

/**
 * Find and load a backend package by name, resolving it from the running program's
 * directory and then from the current working directory, as a user's own import would.
 * @throws EventLoopError `ERR_INVALID_ARG` for a malformed name; `ERR_BACKEND_NOT_FOUND` when it
 * cannot be loaded: naming the package to install for one of {@link BACKENDS}, and listing
 * {@link BACKENDS} for any other name.
 */
export async function resolveBackend(name: string): Promise<Backend> {
  const match = BACKEND_NAME.exec(name);
  if (!match) {
    throw new EventLoopError('ERR_INVALID_ARG', `backend name must look like 'libuv' or '@loop/backend-libuv', got '${name}'`);
  }
  const packageName = `@loop/backend-${match[1]}`;
  const bases = [process.argv[1] ? dirname(process.argv[1]) : undefined, process.cwd()];
  let lastError: unknown;
  for (const base of bases) {
    if (!base) continue;
    try {
      const entry = createRequire(join(base, 'noop.js')).resolve(packageName);
      const loaded = (await import(pathToFileURL(entry).href)) as Partial<Backend>;
      if (typeof loaded.createLoop !== 'function') {
        throw new EventLoopError('ERR_BACKEND_NOT_FOUND', `${packageName} does not export createLoop(): is it a @loop backend?`);
      }
      return loaded as Backend;
    } catch (error) {
      if (error instanceof EventLoopError) throw error;
      lastError = error;
    }
  }
  throw backendNotFound(match[1] as string, lastError);
}

/**
 * The `ERR_BACKEND_NOT_FOUND` error for backend `name` that could not be loaded: for one of
 * {@link BACKENDS} it names the package to install, for any other name it lists the backends.
 */
export function backendNotFound(name: string, cause?: unknown): EventLoopError {
  const packageName = `@loop/backend-${name}`;
  return new EventLoopError(
    'ERR_BACKEND_NOT_FOUND',
    BACKENDS.includes(name)
      ? `backend '${name}' is not installed: add the package ${packageName} (npm install ${packageName})`
      : `there is no backend '${name}': the backends are ${BACKENDS.map((b) => `'${b}'`).join(', ')}`,
    { cause },
  );
}

/**
 * Create a loop on the chosen backend: `options.backend`, else `LOOP_BACKEND`, else `'libuv'`.
 * Each backend package also exports a synchronous `createLoop` of its own.
 * @throws EventLoopError `ERR_BACKEND_NOT_FOUND` (rejects) when the backend package is missing.
 * @example
 * ```ts
 * const loop = await createLoop({ backend: 'libuv' });
 * ```
 */
export async function createLoop(options: CreateLoopOptions = {}): Promise<EventLoop> {
  const name = options.backend ?? (process.env['LOOP_BACKEND'] || 'libuv');
  const backend = await resolveBackend(name);
  return backend.createLoop(options);
}
