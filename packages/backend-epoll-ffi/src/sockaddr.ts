import { isIPv4, isIPv6 } from 'node:net';
import type { SocketAddress } from '@loop/core';
import { AF_INET, AF_INET6 } from './constants.js';

/** Size of a buffer that holds either a `sockaddr_in` (16 bytes) or a `sockaddr_in6` (28 bytes). */
export const SOCKADDR_SIZE = 28;

/** Parse an IPv6 address in text form (`::1`, `fe80::1%2` without the zone, `::ffff:1.2.3.4`) into 16 bytes. */
function ipv6Bytes(text: string, into: Uint8Array, at: number): void {
  let head = text;
  let tail = '';
  const gap = text.indexOf('::');
  if (gap >= 0) {
    head = text.slice(0, gap);
    tail = text.slice(gap + 2);
  }
  const groups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = piece.split('.').map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const first = groups(head);
  const last = groups(tail);
  const all = [...first, ...new Array<number>(8 - first.length - last.length).fill(0), ...last];
  for (let i = 0; i < 8; i++) {
    const group = all[i] ?? 0;
    into[at + 2 * i] = group >> 8;
    into[at + 2 * i + 1] = group & 0xff;
  }
}

/** Text form of the 16 bytes at `at` (RFC 5952: lower case, the longest run of zero groups as `::`). */
function ipv6Text(bytes: Uint8Array, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(((bytes[at + 2 * i] as number) << 8) | (bytes[at + 2 * i + 1] as number));
  // IPv4-mapped addresses read as ::ffff:a.b.c.d, as Node shows them.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes[at + 12]}.${bytes[at + 13]}.${bytes[at + 14]}.${bytes[at + 15]}`;
  }
  let bestStart = -1;
  let bestLength = 1; // a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (list: number[]): string => list.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/**
 * Write the `sockaddr` of `host` (an IP literal) and `port` into `into`; returns its length (16 or
 * 28), or 0 when `host` is not an IP literal.
 */
export function encodeSockaddr(host: string, port: number, into: Uint8Array): number {
  into.fill(0);
  if (isIPv4(host)) {
    const view = new DataView(into.buffer, into.byteOffset, into.byteLength);
    view.setUint16(0, AF_INET, true);
    view.setUint16(2, port, false);
    const parts = host.split('.');
    for (let i = 0; i < 4; i++) into[4 + i] = Number(parts[i]);
    return 16;
  }
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const zone = bare.indexOf('%');
  const address = zone >= 0 ? bare.slice(0, zone) : bare;
  if (isIPv6(address)) {
    const view = new DataView(into.buffer, into.byteOffset, into.byteLength);
    view.setUint16(0, AF_INET6, true);
    view.setUint16(2, port, false);
    ipv6Bytes(address, into, 8);
    // A numeric zone is the interface index (sin6_scope_id); names would need if_nametoindex.
    if (zone >= 0) view.setUint32(24, Number(bare.slice(zone + 1)) >>> 0, true);
    return 28;
  }
  return 0;
}

/** Read a `sockaddr_in` or `sockaddr_in6` back into a {@link SocketAddress}; `undefined` for other families. */
export function decodeSockaddr(from: Uint8Array): SocketAddress | undefined {
  const view = new DataView(from.buffer, from.byteOffset, from.byteLength);
  const family = view.getUint16(0, true);
  const port = view.getUint16(2, false);
  if (family === AF_INET) return { address: `${from[4]}.${from[5]}.${from[6]}.${from[7]}`, port, family: 'IPv4' };
  if (family === AF_INET6) return { address: ipv6Text(from, 8), port, family: 'IPv6' };
  return undefined;
}
