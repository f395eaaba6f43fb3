import { describe, expect, it } from 'vitest';
import { createLoop, resolveBackend } from './create-loop.js';
import { EventLoopError } from './errors.js';

describe('backend selection', () => {
  it('names the package to install when the backend is missing', async () => {
    const failure = await resolveBackend('nonexistent').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EventLoopError);
    expect(failure).toMatchObject({ code: 'ERR_BACKEND_NOT_FOUND' });
    expect((failure as Error).message).toContain('@loop/backend-nonexistent');
  });

  it('rejects a malformed backend name with ERR_INVALID_ARG', async () => {
    await expect(resolveBackend('../../etc')).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
  });

  it('reads LOOP_BACKEND when no backend is given', async () => {
    const saved = process.env['LOOP_BACKEND'];
    process.env['LOOP_BACKEND'] = 'from-env';
    try {
      await expect(createLoop()).rejects.toThrow('@loop/backend-from-env');
    } finally {
      if (saved === undefined) delete process.env['LOOP_BACKEND'];
      else process.env['LOOP_BACKEND'] = saved;
    }
  });
});
