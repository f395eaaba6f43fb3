// The README's examples are this package's test/readme/*.ts, word for word: this test checks
// that they agree and runs the files (a real server and real clients, on libuv).
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const source = (name: string): string => readFileSync(new URL(`./readme/${name}.ts`, import.meta.url), 'utf8');

/** The fenced code block that follows `<!-- example: name -->` in the README. */
function block(name: string): string {
  const marker = readme.indexOf(`<!-- example: ${name} -->`);
  if (marker < 0) throw new Error(`no example marked ${name} in README.md`);
  const start = readme.indexOf('```ts\n', marker) + '```ts\n'.length;
  const end = readme.indexOf('\n```', start);
  return readme.slice(start, end + 1);
}

describe('README example', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('shows test/readme/intro.ts and test/readme/cooperative-http.ts as they are', () => {
    expect(block('intro')).toBe(source('intro'));
    expect(block('cooperative-http')).toBe(source('cooperative-http'));
  });

  it('runs the introduction: a greenlet sleeps and returns 42', async () => {
    const printed: unknown[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(...args);
    });
    await import('./readme/intro.js');
    expect(printed).toEqual([42]);
  });

  it('serves ten slow requests side by side and prints what the README says', async () => {
    const printed: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(args.join(' '));
    });
    await import('./readme/cooperative-http.js');
    expect(printed).toEqual(['10 answers; 10 requests were in before the first answer went out', 'slow hello from /0 ... slow hello from /9']);
  });
});
