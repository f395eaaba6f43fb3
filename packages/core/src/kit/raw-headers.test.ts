import { describe, expect, it } from 'vitest';
import {
  forEachRawHeader,
  lowerHeaderName,
  rawHeaderObject,
  rawHeaderValue,
  rawHeaderValues,
  requestExpired,
  sameHeaderName,
} from './raw-headers.js';

describe('header names', () => {
  it('match ignoring ASCII case only: the characters next to A-Z in ASCII stay themselves', () => {
    expect(sameHeaderName('Content-Type', 'content-type')).toBe(true);
    expect(sameHeaderName('AZ', 'az')).toBe(true);
    expect(sameHeaderName('x-a', 'x-b')).toBe(false);
    expect(sameHeaderName('content-typ', 'content-type')).toBe(false);
    expect(sameHeaderName('content-typee', 'content-type')).toBe(false);
    // '@' and '[' sit just outside 'A'..'Z': folding them like letters would make them '`' and '{'.
    expect(sameHeaderName('@', '`')).toBe(false);
    expect(sameHeaderName('[', '{')).toBe(false);
    expect(sameHeaderName('', '')).toBe(true);
  });

  it('are lower-cased only when they have an upper-case letter, and then completely', () => {
    const lower = 'x-already-lower';
    expect(lowerHeaderName(lower)).toBe(lower);
    expect(lowerHeaderName('X-Mixed-CASE')).toBe('x-mixed-case');
    expect(lowerHeaderName('x-trailing-Z')).toBe('x-trailing-z');
    expect(lowerHeaderName('A')).toBe('a');
    expect(lowerHeaderName('@[')).toBe('@[');
  });
});

describe('header values over a raw list', () => {
  const raw = [
    'Host', 'example',
    'Accept', 'text/html',
    'Cookie', 'a=1',
    'accept', 'application/json',
    'Set-Cookie', 's=1',
    'COOKIE', 'b=2',
    'set-cookie', 's=2',
    'X-Empty', '',
  ];

  it('joins the lines of a field with ", ", cookie lines with "; ", and gives the first set-cookie line', () => {
    expect(rawHeaderValue(raw, 'ACCEPT')).toBe('text/html, application/json');
    expect(rawHeaderValue(raw, 'cookie')).toBe('a=1; b=2');
    expect(rawHeaderValue(raw, 'Set-Cookie')).toBe('s=1');
    expect(rawHeaderValue(raw, 'host')).toBe('example');
    expect(rawHeaderValue(raw, 'x-empty')).toBe('');
    expect(rawHeaderValue(raw, 'x-missing')).toBeUndefined();
    expect(rawHeaderValue([], 'host')).toBeUndefined();
  });

  it('lists every line of a field in order, and none for a missing one', () => {
    expect(rawHeaderValues(raw, 'set-cookie')).toEqual(['s=1', 's=2']);
    expect(rawHeaderValues(raw, 'Accept')).toEqual(['text/html', 'application/json']);
    expect(rawHeaderValues(raw, 'x-missing')).toEqual([]);
  });

  it('visits every line with its name in lower case, in order', () => {
    const seen: string[] = [];
    forEachRawHeader(raw, (name, value) => seen.push(`${name}=${value}`));
    expect(seen).toEqual([
      'host=example',
      'accept=text/html',
      'cookie=a=1',
      'accept=application/json',
      'set-cookie=s=1',
      'cookie=b=2',
      'set-cookie=s=2',
      'x-empty=',
    ]);
  });

  it('builds a plain object of every field, combined by the same rules, with no prototype', () => {
    const headers = rawHeaderObject(raw);
    expect({ ...headers }).toEqual({
      host: 'example',
      accept: 'text/html, application/json',
      cookie: 'a=1; b=2',
      'set-cookie': 's=1',
      'x-empty': '',
    });
    expect(Object.getPrototypeOf(headers)).toBeNull();
    // Field names are data: '__proto__' and 'constructor' are fields like any other.
    const odd = rawHeaderObject(['__proto__', 'x', 'constructor', 'y']);
    expect(Object.keys(odd)).toEqual(['__proto__', 'constructor']);
    expect(odd['__proto__']).toBe('x');
    expect(odd['constructor']).toBe('y');
  });
});

describe('an expired request head', () => {
  it('is ERR_REQUEST_EXPIRED, naming what was read and how to keep it', () => {
    const error = requestExpired('request.url was read');
    expect(error.code).toBe('ERR_REQUEST_EXPIRED');
    expect(error.message).toBe(
      "request.url was read after the handler returned: the request head is valid during the handler's synchronous call only; keep what you need with request.snapshot()",
    );
  });
});
