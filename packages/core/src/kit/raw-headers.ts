import { EventLoopError } from '../errors.js';

/**
 * Header lookups over a flat `[name, value, name, value, ...]` list as received (Node's
 * `rawHeaders`, an llhttp callback's output), with the combining rules of {@link HttpRequest}:
 * names match case-insensitively, several lines of one field join with `', '` (RFC 9110 §5.3),
 * `cookie` lines with `'; '` (RFC 9113 §8.2.3), and `set-cookie` is never combined.
 *
 * Nothing here allocates unless a field has several lines or the caller asks for a copy.
 */

/** `true` when `name` equals `lower` (already lower case) ignoring ASCII case; no allocation. */
export function sameHeaderName(name: string, lower: string): boolean {
  const length = name.length;
  if (length !== lower.length) return false;
  for (let i = 0; i < length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Lower-case `name` only when it has an upper-case ASCII letter, so the common case allocates nothing. */
export function lowerHeaderName(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) return name.toLowerCase();
  }
  return name;
}

/** How the lines of field `lower` are combined: their separator, or `undefined` for set-cookie. */
function separatorOf(lower: string): string | undefined {
  if (lower === 'cookie') return '; ';
  if (lower === 'set-cookie') return undefined;
  return ', ';
}

/** The combined value of header `name` in `raw`, or `undefined` when absent. */
export function rawHeaderValue(raw: readonly string[], name: string): string | undefined {
  const lower = lowerHeaderName(name);
  let value: string | undefined;
  let separator: string | undefined | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if (!sameHeaderName(raw[i] as string, lower)) continue;
    const line = raw[i + 1] as string;
    if (value === undefined) {
      value = line;
      continue;
    }
    if (separator === null) separator = separatorOf(lower);
    if (separator === undefined) return value; // set-cookie: the first line only
    value = value + separator + line;
  }
  return value;
}

/** Every line's value of header `name` in `raw`, in order. */
export function rawHeaderValues(raw: readonly string[], name: string): string[] {
  const lower = lowerHeaderName(name);
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (sameHeaderName(raw[i] as string, lower)) values.push(raw[i + 1] as string);
  }
  return values;
}

/** Call `callback(name, value)` per line of `raw`, names in lower case. */
export function forEachRawHeader(raw: readonly string[], callback: (name: string, value: string) => void): void {
  for (let i = 0; i < raw.length; i += 2) callback(lowerHeaderName(raw[i] as string), raw[i + 1] as string);
}

/** A new object of every field in `raw`, combined as {@link rawHeaderValue} does. */
export function rawHeaderObject(raw: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = lowerHeaderName(raw[i] as string);
    const line = raw[i + 1] as string;
    const previous = headers[lower];
    if (previous === undefined) {
      headers[lower] = line;
      continue;
    }
    const separator = separatorOf(lower);
    if (separator !== undefined) headers[lower] = previous + separator + line;
  }
  return headers;
}

/** The error every backend throws for a request head read after the handler returned. */
export function requestExpired(what: string): EventLoopError {
  return new EventLoopError(
    'ERR_REQUEST_EXPIRED',
    `${what} after the handler returned: the request head is valid during the handler's synchronous call only; keep what you need with request.snapshot()`,
  );
}
