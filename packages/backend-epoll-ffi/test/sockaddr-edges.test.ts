import { describe, expect, it } from 'vitest';
import { decodeSockaddr, encodeSockaddr, SOCKADDR_SIZE } from '../src/sockaddr.js';

/** Encode `host`, then decode what was written: [length, address]. */
function roundTrip(host: string, port: number): unknown {
  const buffer = Buffer.alloc(SOCKADDR_SIZE);
  const length = encodeSockaddr(host, port, buffer);
  return [length, decodeSockaddr(buffer)];
}

describe('socket addresses at their edges', () => {
  it('writes ffff in the sixth group as an IPv4-mapped address only when the five groups before it are zero', () => {
    expect(roundTrip('1::ffff:a00:1', 7)).toEqual([28, { address: '1::ffff:a00:1', port: 7, family: 'IPv6' }]);
    expect(roundTrip('0:0:0:0:1:ffff:a00:1', 8)).toEqual([28, { address: '::1:ffff:a00:1', port: 8, family: 'IPv6' }]);
    expect(roundTrip('::ffff:a00:1', 9)).toEqual([28, { address: '::ffff:10.0.0.1', port: 9, family: 'IPv6' }]);
  });

  it('takes brackets only as a pair around an IPv6 literal: one on a side alone is not an IP literal', () => {
    const buffer = Buffer.alloc(SOCKADDR_SIZE);
    expect(encodeSockaddr('[::1]', 80, buffer)).toBe(28);
    expect(encodeSockaddr('[::1', 80, buffer)).toBe(0);
    expect(encodeSockaddr('0::1]', 80, buffer)).toBe(0);
    expect(encodeSockaddr('[fe80::1%2]', 80, buffer)).toBe(28);
    expect(buffer.readUInt32LE(24)).toBe(2);
  });

  it('decodes only the two IP families: a Unix-domain address (family 1) is undefined', () => {
    const buffer = Buffer.alloc(SOCKADDR_SIZE);
    buffer.writeUInt16LE(1, 0);
    buffer.write('/tmp/socket', 2);
    expect(decodeSockaddr(buffer)).toBeUndefined();
  });
});
