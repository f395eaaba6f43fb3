import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { checkHttpCommon } from '../src/http/llhttp.js';

type Parser = Record<string, unknown> & { execute(input: Buffer): unknown };
const real = createRequire(import.meta.url)('_http_common') as { HTTPParser: (new () => Parser) & Record<string, number>; methods: string[] };
const Real = real.HTTPParser;

/** Node's HTTPParser, except that execute() answers what `execute` makes of the real answer. */
function parserWhoseExecute(execute: (input: Buffer, answer: unknown) => unknown): unknown {
  function Changed(): object {
    const parser = new Real();
    return new Proxy(parser, {
      get: (target, key) => {
        if (key === 'execute') return (input: Buffer) => execute(input, target.execute(input));
        const value = target[key as string];
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
      set: (target, key, value: unknown) => {
        target[key as string] = value;
        return true;
      },
    });
  }
  Object.assign(Changed, Real);
  return Changed;
}

/** The message checkHttpCommon refuses `module` with. */
function refusal(module: unknown): string {
  try {
    checkHttpCommon(module);
  } catch (error) {
    return (error as Error).message;
  }
  return 'accepted';
}

const prefix = `Node ${process.version}'s internal HTTPParser (_http_common) changed shape: `;
const suffix = '; @loop/backend-epoll-ffi needs updating';
const isBad = (input: Buffer): boolean => input.length === 1;

describe("the check of Node's HTTPParser before a server uses it", () => {
  it('accepts the HTTPParser of this Node as it is', () => {
    expect(refusal({ HTTPParser: parserWhoseExecute((_input, answer) => answer), methods: real.methods })).toBe('accepted');
  });

  it('refuses a parser whose answer to bad input is not an error with an HPE_ code, naming that', () => {
    const answers: [string, (answer: unknown) => unknown][] = [
      ['a number', () => 0],
      ['an error without a code', () => new Error('bad')],
      ['an error with a numeric code', () => Object.assign(new Error('bad'), { code: 7 })],
      ['an error with another kind of code', () => Object.assign(new Error('bad'), { code: 'ERR_BAD' })],
      ['a plain object with an HPE_ code', (answer) => ({ code: (answer as { code: string }).code })],
    ];
    for (const [what, change] of answers) {
      const module = { HTTPParser: parserWhoseExecute((input, answer) => (isBad(input) ? change(answer) : answer)), methods: real.methods };
      expect(refusal(module), what).toBe(`${prefix}execute() does not return an HPE_ error for bad input${suffix}`);
    }
  });

  it('refuses a parser that reports reading fewer bytes of a whole request than it was given, naming both', () => {
    const module = { HTTPParser: parserWhoseExecute((input, answer) => (isBad(input) ? answer : input.length - 1)), methods: real.methods };
    const length = Buffer.byteLength('POST /probe?q=1 HTTP/1.1\r\nHost: probe\r\nContent-Length: 2\r\n\r\nok');
    expect(refusal(module)).toBe(`${prefix}execute() returned ${length - 1} for a ${length}-byte request${suffix}`);
  });

  it('refuses a parser whose constants are not numbers, naming the constant', () => {
    function Missing(): object {
      return new Real();
    }
    Object.assign(Missing, Real, { kOnBody: 'x' });
    expect(refusal({ HTTPParser: Missing, methods: real.methods })).toBe(`${prefix}HTTPParser.kOnBody is not a number${suffix}`);
  });
});
