import { describe, expect, it } from 'vitest';
import { EventLoopError } from '../errors.js';
import type { PeerAddress } from '../stream.js';
import { RequestHead } from './request-head.js';

/** A head as a parser that reuses its buffers would hand it over: the raw list is borrowed. */
class TestHead extends RequestHead {
  reads = 0;
  constructor(private raw: string[]) {
    super();
  }
  protected headMethod(): string {
    this.reads++;
    return 'POST';
  }
  protected headUrl(): string {
    return '/upload?x=1';
  }
  protected headVersion(): string {
    return '1.0';
  }
  protected headRemote(): PeerAddress | undefined {
    return { address: '127.0.0.1', family: 'IPv4', port: 5000 };
  }
  protected headRaw(): readonly string[] {
    return this.raw;
  }
  /** What a backend does when the handler returns: the parser takes its memory back. */
  expire(): void {
    this.live = false;
    this.raw = ['Host', 'the next request'];
  }
}

const RAW = ['Host', 'example', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'Accept', 'text/html', 'accept', 'application/json'];

describe('RequestHead', () => {
  it('reads the head the backend supplies while the handler runs, header lookups ignoring case', () => {
    const head = new TestHead([...RAW]);
    expect([head.method, head.url, head.httpVersion]).toEqual(['POST', '/upload?x=1', '1.0']);
    expect(head.remoteAddress).toEqual({ address: '127.0.0.1', family: 'IPv4', port: 5000 });
    expect(head.header('ACCEPT')).toBe('text/html, application/json');
    expect(head.headerValues('set-cookie')).toEqual(['a=1', 'b=2']);
    expect(head.header('missing')).toBeUndefined();
    const seen: string[] = [];
    head.forEachHeader((name, value) => seen.push(`${name}=${value}`));
    expect(seen).toEqual(['host=example', 'set-cookie=a=1', 'set-cookie=b=2', 'accept=text/html', 'accept=application/json']);
    expect(head.headers()).toEqual({ host: 'example', 'set-cookie': 'a=1', accept: 'text/html, application/json' });
  });

  it('keeps a snapshot that outlives the head: plain values, unchanged when the parser reuses its memory', () => {
    const head = new TestHead([...RAW]);
    const snapshot = head.snapshot();
    head.expire();
    expect(snapshot).toEqual({
      method: 'POST',
      url: '/upload?x=1',
      httpVersion: '1.0',
      headers: { host: 'example', 'set-cookie': 'a=1', accept: 'text/html, application/json' },
      remoteAddress: { address: '127.0.0.1', family: 'IPv4', port: 5000 },
    });
  });

  it('refuses every accessor once expired with ERR_REQUEST_EXPIRED naming it, and never reads the reused memory', () => {
    const head = new TestHead([...RAW]);
    head.expire();
    const reads = head.reads;
    const cases: [string, () => unknown][] = [
      ['request.method was read', () => head.method],
      ['request.url was read', () => head.url],
      ['request.httpVersion was read', () => head.httpVersion],
      ['request.remoteAddress was read', () => head.remoteAddress],
      ['request.header() was called', () => head.header('host')],
      ['request.headerValues() was called', () => head.headerValues('host')],
      ['request.forEachHeader() was called', () => head.forEachHeader(() => undefined)],
      ['request.headers() was called', () => head.headers()],
      ['request.snapshot() was called', () => head.snapshot()],
    ];
    for (const [what, read] of cases) {
      let caught: unknown;
      try {
        read();
      } catch (error) {
        caught = error;
      }
      expect(caught, what).toBeInstanceOf(EventLoopError);
      expect((caught as EventLoopError).code, what).toBe('ERR_REQUEST_EXPIRED');
      expect((caught as Error).message, what).toContain(what);
    }
    expect(head.reads).toBe(reads);
  });
});
