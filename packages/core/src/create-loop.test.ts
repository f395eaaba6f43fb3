import { describe, expect, it } from 'vitest';
import { BACKENDS, backendNotFound, createLoop, resolveBackend } from './create-loop.js';
import { EventLoopError } from './errors.js';

describe('backend selection', () => {
  it('lists the backends that exist when asked for one that does not', async () => {
    const failure = await resolveBackend('nonexistent').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EventLoopError);
    expect(failure).toMatchObject({ code: 'ERR_BACKEND_NOT_FOUND' });
    expect((failure as Error).message).toContain("there is no backend 'nonexistent'");
    for (const name of BACKENDS) expect((failure as Error).message).toContain(`'${name}'`);
    expect((failure as Error).message).not.toContain('npm install');
  });

  it('names the package to install for a backend that exists but cannot be loaded', () => {
    const failure = backendNotFound('epoll-ffi', new Error('not found'));
    expect(failure).toMatchObject({ code: 'ERR_BACKEND_NOT_FOUND' });
    expect(failure.message).toContain('npm install @loop/backend-epoll-ffi');
    expect(backendNotFound('nope').message).toContain("there is no backend 'nope'");
  });

  it('rejects a malformed backend name with ERR_INVALID_ARG', async () => {
    await expect(resolveBackend('../../etc')).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
  });

  it('reads LOOP_BACKEND when no backend is given', async () => {
    const saved = process.env['LOOP_BACKEND'];
    process.env['LOOP_BACKEND'] = 'from-env';
    try {
      await expect(createLoop()).rejects.toThrow("there is no backend 'from-env'");
    } finally {
      if (saved === undefined) delete process.env['LOOP_BACKEND'];
      else process.env['LOOP_BACKEND'] = saved;
    }
  });
});
