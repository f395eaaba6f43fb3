import { describe, expect, it } from 'vitest';
import { decodeSockaddr, encodeSockaddr, SOCKADDR_SIZE } from '../src/sockaddr.js';

function roundTrip(host: string, port: number): unknown {
  const buffer = Buffer.alloc(SOCKADDR_SIZE);
  const length = encodeSockaddr(host, port, buffer);
  return [length, decodeSockaddr(buffer)];
}

describe('socket addresses', () => {
  it('encodes and decodes sockaddr_in with the port in network order', () => {
    const buffer = Buffer.alloc(SOCKADDR_SIZE);
    expect(encodeSockaddr('127.0.0.1', 8080, buffer)).toBe(16);
    expect([...buffer.subarray(0, 8)]).toEqual([2, 0, 0x1f, 0x90, 127, 0, 0, 1]);
    expect(decodeSockaddr(buffer)).toEqual({ address: '127.0.0.1', port: 8080, family: 'IPv4' });
  });

  it('encodes and decodes sockaddr_in6, writing addresses as RFC 5952 does', () => {
    expect(roundTrip('::1', 443)).toEqual([28, { address: '::1', port: 443, family: 'IPv6' }]);
    expect(roundTrip('::', 1)).toEqual([28, { address: '::', port: 1, family: 'IPv6' }]);
    expect(roundTrip('2001:DB8:0:0:1:0:0:1', 2)).toEqual([28, { address: '2001:db8::1:0:0:1', port: 2, family: 'IPv6' }]);
    expect(roundTrip('fe80::1:2', 3)).toEqual([28, { address: 'fe80::1:2', port: 3, family: 'IPv6' }]);
    expect(roundTrip('[::ffff:10.0.0.1]', 4)).toEqual([28, { address: '::ffff:10.0.0.1', port: 4, family: 'IPv6' }]);
    expect(roundTrip('1:2:3:4:5:6:7:8', 5)).toEqual([28, { address: '1:2:3:4:5:6:7:8', port: 5, family: 'IPv6' }]);
  });

  it('puts a numeric zone into sin6_scope_id', () => {
    const buffer = Buffer.alloc(SOCKADDR_SIZE);
    expect(encodeSockaddr('fe80::1%3', 80, buffer)).toBe(28);
    expect(buffer.readUInt32LE(24)).toBe(3);
  });

  it('refuses what is not an IP literal (a name needs a lookup first)', () => {
    expect(encodeSockaddr('localhost', 80, Buffer.alloc(SOCKADDR_SIZE))).toBe(0);
    expect(encodeSockaddr('1.2.3', 80, Buffer.alloc(SOCKADDR_SIZE))).toBe(0);
  });
});
