import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { checkHttpCommon, loadLlhttp } from '../src/http/llhttp.js';

// The backend leans on two Node internals. Pinned here, so that a Node that changes them fails
// this file loudly instead of misparsing requests.
describe('the Node internals the backend relies on', () => {
  it("parses with this Node's HTTPParser from _http_common: constants, method table and callback arguments as expected", () => {
    const llhttp = loadLlhttp();
    expect(llhttp.methods[1]).toBe('GET');
    expect(typeof llhttp.kOnHeadersComplete).toBe('number');
    expect(typeof llhttp.REQUEST).toBe('number');
  });

  it('refuses an HTTPParser whose callback arguments moved, naming the change', () => {
    const real = createRequire(import.meta.url)('_http_common') as { HTTPParser: (new () => object) & Record<string, number>; methods: string[] };
    const Real = real.HTTPParser;
    const slot = String(Real['kOnHeadersComplete']);
    // The same parser, except that kOnHeadersComplete gets its arguments in reverse order.
    function Shuffled(): object {
      return new Proxy(new Real() as Record<string, unknown>, {
        get: (target, key) => {
          const value = target[key as string];
          return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
        },
        set: (target, key, value: unknown) => {
          target[key as string] = key === slot ? (...args: unknown[]) => (value as (...a: unknown[]) => unknown)(...args.reverse()) : value;
          return true;
        },
      });
    }
    Object.assign(Shuffled, Real);
    expect(() => checkHttpCommon({ HTTPParser: Shuffled, methods: real.methods })).toThrow(/changed shape: callbacks saw/);
    expect(() => checkHttpCommon({ methods: real.methods })).toThrow(/HTTPParser is not a constructor/);
    expect(() => checkHttpCommon({ HTTPParser: Real, methods: ['DELETE', 'PUT'] })).toThrow(/methods\[1\] is not GET/);
  });

  it("writes strings into buffers with Buffer's latin1Write and utf8Write", () => {
    const buffer = Buffer.alloc(8) as Buffer & { latin1Write(text: string, offset: number): number; utf8Write(text: string, offset: number): number };
    expect(typeof buffer.latin1Write).toBe('function');
    expect(buffer.latin1Write('ab', 1)).toBe(2);
    expect(buffer.utf8Write('é', 3)).toBe(2);
    expect([...buffer.subarray(0, 5)]).toEqual([0, 0x61, 0x62, 0xc3, 0xa9]);
  });
});
