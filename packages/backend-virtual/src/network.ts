import { isIPv6 } from 'node:net';
import { EventLoopError, SocketError, type SocketAddress } from '@loop/core';
import { checkNumber } from './check-number.js';
import { TimerHeap, type ResolvedListenOptions } from '@loop/core/kit';
import type { SeededRandom } from './seeded-random.js';
import { CONNECTING, OPEN, Pipe, SYN, SYNACK, Socket, type Carrier, type Packet } from './socket.js';

/** How one link of the virtual network carries data, in virtual time. */
export interface LinkOptions {
  /** One-way delay in ms of virtual time, in each direction. Default 0. */
  readonly latency?: number;
  /** Bytes per second of virtual time, in each direction. Default `Infinity` (no limit). */
  readonly bandwidth?: number;
}

/**
 * Which connections a {@link LinkOptions} applies to: those made to `host` and/or `port` (the
 * listening side's address, as passed to `connect`). Leave one out to match any.
 */
export interface LinkTarget {
  readonly host?: string;
  readonly port?: number;
}

/** What the network needs from its loop. */
export interface NetworkHost {
  /** The virtual clock (not the loop's cached `now()`). */
  readClock(): number;
  /** The source of the network's free choices. */
  readonly random: SeededRandom;
  /** The network's earliest event changed: a waiting poll must look again. */
  networkScheduled(): void;
}

/** Told when a listener has connections to accept. */
export interface ListenerOwner {
  connectionQueued(): void;
}

/** A bound, listening address. */
export interface Listener {
  readonly address: SocketAddress;
  readonly reusePort: boolean;
  readonly backlog: number;
  /** Connections made and not yet accepted (the kernel's accept queue). */
  readonly queue: Socket[];
  owner: ListenerOwner | undefined;
}

interface Link {
  readonly latency: number;
  readonly msPerByte: number;
}

const FIRST_EPHEMERAL_PORT = 49152;
/** Linux's SYN retransmission: first after 1 s, doubling; `tcp_syn_retries` = 6. */
const SYN_TIMEOUT = 1_000;
const SYN_RETRIES = 6;

/** Throw `ERR_INVALID_ARG` unless `link` is a valid {@link LinkOptions}; fill in the defaults. */
export function resolveLink(link: LinkOptions, base: LinkOptions = {}): Link {
  if (typeof link !== 'object' || link === null) throw new EventLoopError('ERR_INVALID_ARG', 'link options must be an object');
  const latency = checkNumber('latency', link.latency ?? base.latency ?? 0, 0, Number.MAX_SAFE_INTEGER);
  const bandwidth = link.bandwidth ?? base.bandwidth ?? Infinity;
  if (typeof bandwidth !== 'number' || Number.isNaN(bandwidth) || bandwidth <= 0) {
    throw new EventLoopError('ERR_INVALID_ARG', `bandwidth must be a positive number of bytes per second (or Infinity), got ${String(bandwidth)}`);
  }
  return { latency, msPerByte: 1000 / bandwidth };
}

/** `'localhost'` is the loopback address; any other name is a host of the virtual network. */
function normalizeHost(host: string): string {
  return host === 'localhost' ? '127.0.0.1' : host;
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

function endpoint(address: string, port: number): SocketAddress {
  return Object.freeze({ address, port, family: isIPv6(address) ? 'IPv6' : 'IPv4' });
}

/** An `ERR_SOCKET` error carrying `errno` as a system error would. */
export function socketError(message: string, errno: string): SocketError {
  return new SocketError(message, Object.assign(new Error(`${message}: ${errno}`), { code: errno }));
}

/**
 * The virtual network of one loop: bound addresses, connections, and the packets in flight,
 * ordered by arrival time (ties in a seeded random order, packets of one direction of one
 * connection always in order). Nothing here runs user code: arrivals are turned into
 * `loop.deliver` calls by the sockets' owners.
 */
export class Network implements Carrier {
  private readonly inFlight = new TimerHeap<Pipe>();
  private readonly bound = new Map<number, Listener[]>();
  private readonly links = new Map<string, Link>();
  private nextPort = FIRST_EPHEMERAL_PORT;

  constructor(
    private readonly host: NetworkHost,
    private defaultLink: Link,
  ) {}

  now(): number {
    return this.host.readClock();
  }

  enqueue(pipe: Pipe): void {
    pipe.seq = this.host.random.uint32();
    this.inFlight.push(pipe);
    if (this.inFlight.peek() === pipe) this.host.networkScheduled();
  }

  /** Virtual time of the next arrival, or `Infinity`. */
  nextDue(): number {
    return this.inFlight.peek()?.due ?? Infinity;
  }

  /** Deliver every packet due by `now`, including those their arrivals send with no delay. */
  runDue(now: number): void {
    for (;;) {
      const pipe = this.inFlight.peek();
      if (pipe === undefined || pipe.due > now) return;
      this.inFlight.remove(pipe);
      const packet = pipe.packets.shift() as Packet;
      const next = pipe.packets[0];
      if (next !== undefined) {
        pipe.due = next.arrival;
        this.enqueue(pipe);
      }
      if (packet.kind === SYN) this.synArrived(pipe.to);
      else pipe.to.receive(packet);
    }
  }

  /** Set the link used by connections made from now on to `target` (the most specific match wins). */
  setLink(target: LinkTarget, link: LinkOptions): void {
    if (typeof target !== 'object' || target === null) throw new EventLoopError('ERR_INVALID_ARG', 'link target must be an object');
    if (target.host !== undefined && (typeof target.host !== 'string' || target.host.length === 0)) {
      throw new EventLoopError('ERR_INVALID_ARG', `link target host must be a non-empty string, got ${String(target.host)}`);
    }
    if (target.port !== undefined && !(Number.isInteger(target.port) && target.port >= 1 && target.port <= 65535)) {
      throw new EventLoopError('ERR_INVALID_ARG', `link target port must be an integer in [1, 65535], got ${String(target.port)}`);
    }
    const resolved = resolveLink(link);
    if (target.host === undefined && target.port === undefined) this.defaultLink = resolved;
    else this.links.set(linkKey(target.host === undefined ? undefined : normalizeHost(target.host), target.port), resolved);
  }

  /**
   * Bind and listen.
   * @throws SocketError `EADDRINUSE` when the address is taken (unless every listener on it,
   * this one included, set `reusePort`), `EADDRNOTAVAIL` when no ephemeral port is free.
   */
  listen(options: ResolvedListenOptions): Listener {
    const host = normalizeHost(options.host);
    const port = options.port === 0 ? this.freePort() : options.port;
    const others = this.bound.get(port) ?? [];
    for (const other of others) {
      const overlaps = other.address.address === host || isWildcard(other.address.address) || isWildcard(host);
      const shared = other.reusePort && options.reusePort && other.address.address === host;
      if (overlaps && !shared) throw socketError(`listen on ${host}:${port} failed`, 'EADDRINUSE');
    }
    const listener: Listener = { address: endpoint(host, port), reusePort: options.reusePort, backlog: options.backlog, queue: [], owner: undefined };
    others.push(listener);
    this.bound.set(port, others);
    return listener;
  }

  /** Stop listening: connections not yet accepted are reset. */
  unlisten(listener: Listener): void {
    listener.owner = undefined;
    const others = this.bound.get(listener.address.port);
    if (others !== undefined) {
      const index = others.indexOf(listener);
      if (index >= 0) others.splice(index, 1);
      if (others.length === 0) this.bound.delete(listener.address.port);
    }
    for (const socket of listener.queue) socket.abort();
    listener.queue.length = 0;
  }

  /**
   * Open a connection to `host`:`port`. `onConnect` gets `undefined` and the connected client
   * socket, or an errno (`ECONNREFUSED`, `ETIMEDOUT`), once the handshake's packets arrived.
   */
  connect(host: string, port: number, onConnect: (errno: string | undefined, socket: Socket) => void): void {
    const serverHost = normalizeHost(host);
    const clientHost = isIPv6(serverHost) ? '::1' : '127.0.0.1';
    const client = new Socket(endpoint(clientHost, this.freePort()), endpoint(serverHost, port));
    const server = new Socket(client.remote, client.local);
    const link = this.linkTo(serverHost, port);
    client.out = new Pipe(this, server, link.latency, link.msPerByte);
    server.out = new Pipe(this, client, link.latency, link.msPerByte);
    client.onConnect = (errno) => onConnect(errno, client);
    client.synSent = 1;
    client.out.send(SYN);
  }

  /** Drop everything (the loop is closed). */
  clear(): void {
    while (this.inFlight.peek() !== undefined) this.inFlight.remove(this.inFlight.peek() as Pipe);
    this.bound.clear();
  }

  /** A SYN reached `server` (the connection's server-side socket). */
  private synArrived(server: Socket): void {
    if (server.state !== CONNECTING) return;
    const client = server.out.to;
    const listener = this.listenerFor(server.local);
    if (listener === undefined) {
      server.refuse();
      return;
    }
    if (listener.queue.length >= listener.backlog) {
      // A full accept queue drops the SYN, and the client sends it again later (Linux's default).
      if (client.state !== CONNECTING) return;
      if (client.synSent > SYN_RETRIES) {
        client.timedOut();
        return;
      }
      client.out.send(SYN, undefined, 0, SYN_TIMEOUT * 2 ** (client.synSent - 1));
      client.synSent++;
      return;
    }
    server.state = OPEN;
    listener.queue.push(server);
    server.out.send(SYNACK);
    listener.owner?.connectionQueued();
  }

  /**
   * The listener a connection to `address` reaches: an exact address before a wildcard, and among
   * several (`reusePort`), a seeded random one, as the kernel spreads connections by a hash.
   */
  private listenerFor(address: SocketAddress): Listener | undefined {
    const candidates = this.bound.get(address.port);
    if (candidates === undefined) return undefined;
    let matches = candidates.filter((listener) => listener.address.address === address.address);
    if (matches.length === 0) matches = candidates.filter((listener) => isWildcard(listener.address.address));
    if (matches.length <= 1) return matches[0];
    return matches[this.host.random.below(matches.length)];
  }

  private linkTo(host: string, port: number): Link {
    return this.links.get(linkKey(host, port)) ?? this.links.get(linkKey(undefined, port)) ?? this.links.get(linkKey(host, undefined)) ?? this.defaultLink;
  }

  /** The next ephemeral port no listener holds. */
  private freePort(): number {
    for (let tries = 0; tries <= 65535 - FIRST_EPHEMERAL_PORT; tries++) {
      const port = this.nextPort;
      this.nextPort = port === 65535 ? FIRST_EPHEMERAL_PORT : port + 1;
      if (!this.bound.has(port)) return port;
    }
    throw socketError('no free ephemeral port', 'EADDRNOTAVAIL');
  }
}

/** The key of a link target; `null` for a part left out (a host may be any string, `'*'` included). */
function linkKey(host: string | undefined, port: number | undefined): string {
  return JSON.stringify([host ?? null, port ?? null]);
}

