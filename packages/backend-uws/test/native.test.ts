import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { EventLoopError } from '@loop/core';
import { createLoop } from '../src/index.js';
import { binaryPath, loadBinary, setBinaryPathForTesting, UwsBinaryError } from '../src/native.js';

describe('the uWebSockets.js binary', () => {
  afterEach(() => setBinaryPathForTesting(undefined));

  it('is loaded from the package’s binaries folder for this platform, CPU and Node ABI', () => {
    const path = binaryPath();
    expect(path).toMatch(new RegExp(`binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}\\.node$`));
    expect(existsSync(path)).toBe(true);
    const uws = loadBinary(path);
    // The real binary, not the package's pure-JS fallback (whose App is a plain JS function).
    expect(Function.prototype.toString.call(uws.App)).toContain('[native code]');
  });

  it('gives ERR_UWS_BINARY naming the file when the binary is missing, and never falls back', () => {
    const missing = `${binaryPath()}.missing`;
    const error = (() => {
      try {
        loadBinary(missing);
      } catch (thrown) {
        return thrown;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(UwsBinaryError);
    expect(error).toBeInstanceOf(EventLoopError);
    expect((error as UwsBinaryError).code).toBe('ERR_UWS_BINARY');
    expect((error as UwsBinaryError).path).toBe(missing);
    expect((error as Error).message).toContain('fallback is refused');
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('gives ERR_UWS_BINARY when the file loads but is not uWebSockets.js', () => {
    expect(() => loadBinary(new URL('./fixtures/not-uws.cjs', import.meta.url).pathname)).toThrow(
      expect.objectContaining({ code: 'ERR_UWS_BINARY', message: expect.stringContaining('does not export uWebSockets.js') }),
    );
  });

  it('makes createLoop throw the typed error when the binary cannot be loaded', () => {
    setBinaryPathForTesting('/nonexistent/uws_linux_x64_0.node');
    expect(() => createLoop()).toThrow(expect.objectContaining({ code: 'ERR_UWS_BINARY', path: '/nonexistent/uws_linux_x64_0.node' }));
    setBinaryPathForTesting(undefined);
    const loop = createLoop();
    loop.close();
  });
});
