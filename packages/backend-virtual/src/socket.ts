import type { SocketAddress } from '@loop/core';
import type { HeapEntry } from '@loop/core/kit';

/**
 * Bytes a socket may have in flight to its peer plus unread at the peer (the peer's receive
 * window; Linux's default loopback receive buffer is about this size).
 */
export const WINDOW = 128 * 1024;
/** `write()` returns `false` once this many bytes wait to be sent (Node 20's socket default). */
export const HIGH_WATER_MARK = 16 * 1024;

/** Packet kinds on a {@link Pipe}. */
export const SYN = 0;
export const SYNACK = 1;
export const DATA = 2;
export const FIN = 3;
export const RST = 4;
/** A window update: the receiver consumed `credit` bytes. */
export const ACK = 5;

/** One packet in flight. */
export interface Packet {
  readonly kind: number;
  readonly data: Buffer | undefined;
  readonly credit: number;
  readonly arrival: number;
}

/** What a {@link Pipe} needs from the network that carries it. */
export interface Carrier {
  /** The virtual time now. */
  now(): number;
  /** `pipe` has a new head packet, due at `pipe.due`: put it in the network's queue. */
  enqueue(pipe: Pipe): void;
}

/**
 * One direction of a connection: a FIFO of packets with their arrival times in virtual time.
 * The wire is serial, so a packet departs once the one before it is on the wire, takes
 * `size / bandwidth` to send, and arrives `latency` ms later; arrivals on one pipe are therefore
 * in order. Only the head packet sits in the network's queue (a {@link HeapEntry} whose `seq` is
 * a random draw, so heads due at the same time come out in a seeded order).
 */
export class Pipe implements HeapEntry {
  due = 0;
  seq = 0;
  heapIndex = -1;
  readonly packets: Packet[] = [];
  private wireFreeAt = 0;

  constructor(
    private readonly carrier: Carrier,
    /** The socket at the far end. */
    readonly to: Socket,
    private readonly latency: number,
    private readonly msPerByte: number,
  ) {}

  /** Put a packet on the wire, `delay` ms from now at the earliest (a retransmission timeout). */
  send(kind: number, data?: Buffer, credit = 0, delay = 0): void {
    const departure = Math.max(this.carrier.now() + delay, this.wireFreeAt);
    this.wireFreeAt = departure + (data === undefined ? 0 : data.length * this.msPerByte);
    this.packets.push({ kind, data, credit, arrival: this.wireFreeAt + this.latency });
    if (this.packets.length === 1) {
      this.due = (this.packets[0] as Packet).arrival;
      this.carrier.enqueue(this);
    }
  }
}

/** The handle that owns a connected socket (the user's stream); told of what arrives. */
export interface SocketOwner {
  /** Data or the peer's FIN arrived. */
  readable(): void;
  /** The send queue emptied after a `write()` returned `false`. */
  drained(): void;
  /** Our FIN went on the wire: the write side is done. */
  finished(): void;
  /** The peer reset the connection. */
  reset(errno: string): void;
}

/** {@link Socket.state} values. */
export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSED = 2;

/**
 * One endpoint of a virtual TCP connection: the kernel's half of a socket (send queue, window,
 * receive queue, FIN and RST). The user's stream wraps it once the connection is made.
 */
export class Socket {
  owner: SocketOwner | undefined;
  /** Packets from this socket to its peer. Set by the network right after construction. */
  out!: Pipe;
  /** The client side, while connecting: told the outcome (an errno, or `undefined` when connected). */
  onConnect: ((errno: string | undefined) => void) | undefined;
  /** SYNs sent so far while connecting (retransmissions after a full accept queue included). */
  synSent = 0;
  state = CONNECTING;

  // Sending: bytes wait in `sendQueue` (the user-space buffer) until the peer's window has room.
  private readonly sendQueue: Buffer[] = [];
  /** Bytes in the send queue: `bufferedAmount`. */
  buffered = 0;
  private credit = WINDOW;
  private endQueued = false;
  private needDrain = false;
  /** Our FIN is on the wire (after everything written before it). */
  finSent = false;

  // Receiving: chunks arrived and not yet handed to the user.
  readonly received: Buffer[] = [];
  /** The peer's FIN arrived (after all its data). */
  finReceived = false;
  private resetSent = false;

  constructor(
    readonly local: SocketAddress,
    readonly remote: SocketAddress,
  ) {}

  /** `true` until `end()` or a close: whether `write()` still sends. */
  get writable(): boolean {
    return this.state === OPEN && !this.endQueued;
  }

  /**
   * Queue `bytes` (owned by the socket from here on) and send what the window allows. Returns
   * `false` when the queue is at or over {@link HIGH_WATER_MARK}: a `drained()` follows once it
   * empties.
   */
  write(bytes: Buffer): boolean {
    if (bytes.length > 0) {
      this.sendQueue.push(bytes);
      this.buffered += bytes.length;
      this.pump();
    }
    if (this.buffered < HIGH_WATER_MARK) return true;
    this.needDrain = true;
    return false;
  }

  /** Send the FIN once the send queue is empty. */
  end(): void {
    this.endQueued = true;
    this.pump();
  }

  /**
   * The user read `bytes`: open the peer's window by as much. Also when the user closed the socket
   * in the callback that read them: a kernel opens the window as the application reads, before
   * the close, so the peer sends what it still had queued and the closed socket answers it with a
   * reset (without the update, a peer with data waiting for the window would wait forever).
   */
  consumed(bytes: number): void {
    if (bytes > 0) this.out.send(ACK, undefined, bytes);
  }

  /**
   * The user closed the socket: unwritten data is dropped. Like the kernel, send RST when data
   * we received is still unread (the peer learns it was lost), else a FIN if none was sent yet.
   */
  close(): void {
    if (this.state === CLOSED) return;
    const wasOpen = this.state === OPEN;
    this.drop();
    if (!wasOpen) return;
    if (this.received.length > 0) {
      this.received.length = 0;
      this.sendReset();
    } else if (!this.finSent) {
      this.finSent = true;
      this.out.send(FIN);
    }
  }

  /** Reset the connection (a connection still in a closed listener's accept queue). */
  abort(): void {
    if (this.state === CLOSED) return;
    this.drop();
    this.received.length = 0;
    this.sendReset();
  }

  /** A packet arrived (SYNs are the network's: they need a listener). */
  receive(packet: Packet): void {
    switch (packet.kind) {
      case SYNACK:
        if (this.state === CONNECTING) {
          this.state = OPEN;
          this.settleConnect(undefined);
        }
        return;
      case DATA:
        // Data for a socket the user closed is lost: tell the sender, once.
        if (this.state !== OPEN) this.sendReset();
        else {
          this.received.push(packet.data as Buffer);
          this.owner?.readable();
        }
        return;
      case FIN:
        if (this.state !== OPEN) return;
        this.finReceived = true;
        this.owner?.readable();
        return;
      case ACK:
        this.credit += packet.credit;
        this.pump();
        return;
      case RST:
        this.resetArrived();
        return;
    }
  }

  /** Refuse a connection (no listener): the client learns it from our RST. */
  refuse(): void {
    this.drop();
    this.sendReset();
  }

  /** The client gave up connecting (its SYNs went unanswered). */
  timedOut(): void {
    this.drop();
    this.settleConnect('ETIMEDOUT');
  }

  private resetArrived(): void {
    if (this.state === CONNECTING) {
      this.drop();
      this.settleConnect('ECONNREFUSED');
      return;
    }
    if (this.state !== OPEN) return;
    const owner = this.owner;
    this.drop();
    this.received.length = 0;
    owner?.reset('ECONNRESET');
  }

  private settleConnect(errno: string | undefined): void {
    const onConnect = this.onConnect;
    this.onConnect = undefined;
    onConnect?.(errno);
  }

  private drop(): void {
    this.state = CLOSED;
    this.owner = undefined;
    this.sendQueue.length = 0;
    this.buffered = 0;
  }

  private sendReset(): void {
    if (this.resetSent) return;
    this.resetSent = true;
    this.out.send(RST);
  }

  /** Hand queued bytes to the wire while the peer's window has room, then the FIN. */
  private pump(): void {
    if (this.state !== OPEN) return;
    while (this.sendQueue.length > 0 && this.credit > 0) {
      let chunk = this.sendQueue[0] as Buffer;
      if (chunk.length > this.credit) {
        this.sendQueue[0] = chunk.subarray(this.credit);
        chunk = chunk.subarray(0, this.credit);
      } else {
        this.sendQueue.shift();
      }
      this.credit -= chunk.length;
      this.buffered -= chunk.length;
      this.out.send(DATA, chunk);
    }
    if (this.sendQueue.length > 0) return;
    if (this.needDrain) {
      this.needDrain = false;
      this.owner?.drained();
    }
    if (this.endQueued && !this.finSent) {
      this.finSent = true;
      this.out.send(FIN);
      this.owner?.finished();
    }
  }
}
