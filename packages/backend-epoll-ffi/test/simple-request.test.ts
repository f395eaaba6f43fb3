import { describe, expect, it } from 'vitest';
import { loadLlhttp } from '../src/http/llhttp.js';
import { DECLINED, SimpleRequestParser, type SimpleRequest } from '../src/http/simple-request.js';

const llhttp = loadLlhttp();
const simple = new SimpleRequestParser(llhttp.methods);
const MAX_HEAD = 16 * 1024;

interface Reading {
  method: number;
  url: string;
  minor: number;
  headers: string[];
  keepAlive: boolean;
  body: string;
  length: number;
}

/** What the fast path reads from `bytes`, or undefined when it declines. */
function fast(bytes: Buffer): Reading | undefined {
  const out: SimpleRequest = { method: 0, url: '', minor: 0, headers: [], keepAlive: false, bodyStart: 0, bodyLength: 0 };
  const next = simple.parse(bytes, 0, bytes.length, MAX_HEAD, out);
  if (next === DECLINED) return undefined;
  const body = bytes.subarray(out.bodyStart, out.bodyStart + out.bodyLength).toString('latin1');
  return { method: out.method, url: out.url, minor: out.minor, headers: out.headers, keepAlive: out.keepAlive, body, length: next };
}

/** What llhttp reads as the first message of `bytes` (undefined: it refused, or did not complete one). */
function slow(bytes: Buffer): Reading | undefined {
  const parser = llhttp.create();
  parser.initialize(llhttp.REQUEST, {}, MAX_HEAD, llhttp.kLenientNone);
  let reading: Reading | undefined;
  let body = '';
  let done = false;
  let consumed = 0;
  parser[llhttp.kOnHeadersComplete] = (major: number, minor: number, headers: string[], method: number, url: string, _s: unknown, _m: unknown, upgrade: boolean, keepAlive: boolean): number => {
    if (major !== 1 || upgrade) return 0;
    reading = { method, url, minor, headers, keepAlive, body: '', length: 0 };
    return 0;
  };
  parser[llhttp.kOnBody] = (chunk: Buffer): void => {
    body += chunk.toString('latin1');
  };
  parser[llhttp.kOnMessageComplete] = (): void => {
    done = true;
  };
  // Feed byte by byte up to the end of the first message, so its length is known exactly.
  for (let i = 0; i < bytes.length && !done; i++) {
    const result = parser.execute(bytes.subarray(i, i + 1));
    if (typeof result !== 'number') {
      parser.close();
      return undefined;
    }
    consumed = i + 1;
  }
  parser.close();
  if (!done || reading === undefined) return undefined;
  return { ...reading, body, length: consumed };
}

const accepted = [
  'GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n',
  'GET /index.html?q=1&r=%20x#frag HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: */*\r\n\r\n',
  'HEAD /x HTTP/1.0\r\n\r\n',
  'GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n',
  'POST /api HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"hello":"x"}',
  'PUT /a HTTP/1.1\r\nhost:t\r\ncontent-length:   3  \r\n\r\nabc',
  'DELETE /a/b HTTP/1.1\r\nHost: t\r\nX-Empty:\r\nX-Tabs:\t\tv a l\t \r\n\r\n',
  'OPTIONS /* HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n',
  'PATCH /p HTTP/1.1\r\nHost: t\r\nContent-Length: 007\r\n\r\n1234567',
  "GET /!$&'()*+,;=:@-._~ HTTP/1.1\r\nHost: t\r\nX-Token-Name!#$%&'*+-.^_`|~: v\r\n\r\n",
];

// Each is refused by llhttp, or means something llhttp handles itself: the fast path must decline.
const declined = [
  'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na',
  'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\nab',
  'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: t\r\nX-Folded: a\r\n b\r\n\r\n',
  'GET / HTTP/1.1\nHost: t\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: t\nX: y\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: t\rX: y\r\n\r\n',
  'GET /\r\n\r\n',
  'GET / HTTP/0.9\r\n\r\n',
  'GET / HTTP/2.0\r\n\r\n',
  'GET  / HTTP/1.1\r\n\r\n',
  '\r\nGET / HTTP/1.1\r\n\r\n',
  'GET http://example.com/ HTTP/1.1\r\nHost: t\r\n\r\n',
  'CONNECT example.com:443 HTTP/1.1\r\nHost: t\r\n\r\n',
  'GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
  'GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\t\r\n\r\n',
  'GET / HTTP/1.0\r\nConnection:\tkeep-alive\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\t\r\n\r\na',
  'GET / HTTP/1.1\r\nProxy-Connection: close\r\n\r\n',
  'GET / HTTP/1.1\r\nHost : t\r\n\r\n',
  'GET / HTTP/1.1\r\nX: caf\xe9\r\n\r\n',
  'GET / HTTP/1.1\r\nX: a\0b\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: t\r\n',
  'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nshort',
];

/** A small deterministic PRNG (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [13, 10, 32, 9, 58, 0, 0x7f, 0x80, 0xff, 47, 44, 48, 57, 65, 97, 34, 92, 35, 63];

describe('the fast path in front of llhttp', () => {
  it('reads the common requests exactly as llhttp reads them', () => {
    for (const text of accepted) {
      const bytes = Buffer.from(text, 'latin1');
      const reading = fast(bytes);
      expect(reading, text).toBeDefined();
      expect(reading, text).toEqual(slow(bytes));
    }
  });

  it('declines everything llhttp refuses, and what llhttp gives a meaning of its own', () => {
    for (const text of declined) expect(fast(Buffer.from(text, 'latin1')), JSON.stringify(text)).toBeUndefined();
  });

  it('accepts nothing llhttp would read differently: 30,000 random mutations of the common requests', () => {
    const next = random(0x5eed);
    let fastAccepted = 0;
    for (let round = 0; round < 30_000; round++) {
      const seed = Buffer.from(accepted[Math.floor(next() * accepted.length)] as string, 'latin1');
      const bytes = [...seed];
      const edits = 1 + Math.floor(next() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(next() * (bytes.length + 1));
        const byte = next() < 0.7 ? (INTERESTING[Math.floor(next() * INTERESTING.length)] as number) : Math.floor(next() * 256);
        const kind = next();
        if (kind < 0.4) bytes.splice(at, 0, byte);
        else if (kind < 0.7) bytes.splice(at, 1);
        else bytes[Math.min(at, bytes.length - 1)] = byte;
      }
      const mutated = Buffer.from(bytes);
      const reading = fast(mutated);
      if (reading === undefined) continue;
      fastAccepted++;
      expect(reading, JSON.stringify(mutated.toString('latin1'))).toEqual(slow(mutated));
    }
    // The mutations must reach the accepting side too, or the comparison proves nothing.
    expect(fastAccepted).toBeGreaterThan(3_000);
  });

  it('stops at the end of one request, so pipelined requests are read one by one', () => {
    const two = Buffer.from('GET /a HTTP/1.1\r\nHost: t\r\n\r\nPOST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi', 'latin1');
    const out: SimpleRequest = { method: 0, url: '', minor: 0, headers: [], keepAlive: false, bodyStart: 0, bodyLength: 0 };
    const first = simple.parse(two, 0, two.length, MAX_HEAD, out);
    expect([out.url, first]).toEqual(['/a', 28]);
    const second = simple.parse(two, first, two.length, MAX_HEAD, out);
    expect([out.url, two.subarray(out.bodyStart, out.bodyStart + out.bodyLength).toString(), second]).toEqual(['/b', 'hi', two.length]);
  });

  it('leaves a head longer than llhttp allows to llhttp (which answers 431)', () => {
    const long = Buffer.from(`GET / HTTP/1.1\r\nHost: t\r\nX: ${'v'.repeat(200)}\r\n\r\n`, 'latin1');
    const out: SimpleRequest = { method: 0, url: '', minor: 0, headers: [], keepAlive: false, bodyStart: 0, bodyLength: 0 };
    expect(simple.parse(long, 0, long.length, 100, out)).toBe(DECLINED);
    expect(simple.parse(long, 0, long.length, 1000, out)).toBe(long.length);
  });
});
