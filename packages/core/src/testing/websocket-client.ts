import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * A minimal RFC 6455 client for the conformance suite, on a plain Node socket (deliberately not
 * the loop under test): it masks what it sends, never fragments, joins what it receives, and can
 * be told to leave pings unanswered or to stop reading (to build backpressure on the server).
 */

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Frame opcodes (RFC 6455 §5.2). */
export const Opcode = Object.freeze({ CONTINUATION: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const);

/** A message or control frame the client received. */
export interface ReceivedFrame {
  readonly opcode: number;
  readonly data: Buffer;
}

/** How the connection ended: the server's close frame (if any), and whether TCP closed. */
export interface WsClosed {
  /** The server's close code, or `undefined` when it sent no close frame (or one without a code). */
  readonly code: number | undefined;
  readonly reason: string;
}

/** The server's answer to an upgrade that was not a 101. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused with ${status}`);
  }
}

/** Options of {@link TestWebSocket.open}. */
export interface TestWebSocketOptions {
  readonly path?: string;
  /** The server's host (default 127.0.0.1). */
  readonly host?: string;
  /** Extra request header lines, such as `'Sec-WebSocket-Protocol: chat\r\n'`. */
  readonly headers?: string;
  /** Answer the server's pings with pongs (default true, as RFC 6455 requires). */
  readonly answerPings?: boolean;
}

/** One client connection. Frames received are recorded in `frames`, in order. */
export class TestWebSocket {
  /** Every frame received, control frames included, in order. */
  readonly frames: ReceivedFrame[] = [];
  /** Settles when TCP closes, with the server's close frame if one came. */
  readonly closed: Promise<WsClosed>;
  /** The 101 response's headers, names in lower case. */
  headers: Record<string, string> = {};
  private buffer: Buffer = Buffer.alloc(0);
  private closeFrame: WsClosed | undefined;
  private waiters: { count: number; opcodes: readonly number[]; resolve: (frames: ReceivedFrame[]) => void }[] = [];
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;
  private closeSent = false;

  private constructor(
    readonly socket: Socket,
    private readonly answerPings: boolean,
  ) {
    this.closed = new Promise((resolve) => {
      socket.on('close', () => resolve(this.closeFrame ?? { code: undefined, reason: '' }));
    });
  }

  /**
   * Connect to `port` and upgrade. Resolves once the 101 arrived with the right
   * `Sec-WebSocket-Accept`; rejects with {@link UpgradeRefused} for any other status.
   */
  static open(port: number, options: TestWebSocketOptions = {}): Promise<TestWebSocket> {
    const key = randomBytes(16).toString('base64');
    const expected = createHash('sha1').update(key + GUID).digest('base64');
    return new Promise((resolve, reject) => {
      const socket = connect({ host: options.host ?? '127.0.0.1', port });
      const client = new TestWebSocket(socket, options.answerPings !== false);
      let head = Buffer.alloc(0);
      let upgraded = false;
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (!upgraded) reject(error);
      });
      socket.on('connect', () => {
        socket.write(
          `GET ${options.path ?? '/'} HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${options.headers ?? ''}\r\n`,
        );
      });
      const onHead = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = head.subarray(0, end).toString('latin1').split('\r\n');
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(':');
          client.headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        if (status !== 101) {
          socket.off('data', onHead);
          const rest: Buffer[] = [head.subarray(end + 4)];
          socket.on('data', (more: Buffer) => rest.push(more));
          socket.on('close', () => reject(new UpgradeRefused(status, Buffer.concat(rest).toString())));
          return;
        }
        if (client.headers['sec-websocket-accept'] !== expected) {
          socket.destroy();
          reject(new Error(`bad Sec-WebSocket-Accept: ${client.headers['sec-websocket-accept']}`));
          return;
        }
        upgraded = true;
        socket.off('data', onHead);
        socket.on('data', (more: Buffer) => client.receive(more));
        resolve(client);
        const rest = head.subarray(end + 4);
        if (rest.length > 0) client.receive(rest);
      };
      socket.on('data', onHead);
    });
  }

  /** Send a text message. */
  sendText(text: string): void {
    this.sendFrame(Opcode.TEXT, Buffer.from(text));
  }

  /** Send a binary message. */
  sendBinary(data: Uint8Array): void {
    this.sendFrame(Opcode.BINARY, Buffer.from(data));
  }

  /** Send a ping with `data`. */
  ping(data: string | Uint8Array = ''): void {
    this.sendFrame(Opcode.PING, Buffer.from(data));
  }

  /** Send a close frame (no code when `code` is undefined). */
  close(code?: number, reason = ''): void {
    this.closeSent = true;
    if (code === undefined) {
      this.sendFrame(Opcode.CLOSE, Buffer.alloc(0));
      return;
    }
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.sendFrame(Opcode.CLOSE, payload);
  }

  /** Send one final frame with `opcode` and `payload`, masked as a client must. */
  sendFrame(opcode: number, payload: Buffer): void {
    const length = payload.length;
    const header = length < 126 ? Buffer.alloc(2) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    if (length < 126) header[1] = 0x80 | length;
    else if (length < 65536) {
      header[1] = 0x80 | 126;
      header.writeUInt16BE(length, 2);
    } else {
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(BigInt(length), 2);
    }
    const mask = randomBytes(4);
    const masked = Buffer.alloc(length);
    for (let i = 0; i < length; i++) masked[i] = (payload[i] as number) ^ (mask[i & 3] as number);
    this.socket.write(Buffer.concat([header, mask, masked]));
  }

  /** Resolve with the next `count` frames whose opcode is in `opcodes` (text and binary by default), waiting as needed. */
  next(count = 1, opcodes: readonly number[] = [Opcode.TEXT, Opcode.BINARY]): Promise<ReceivedFrame[]> {
    return new Promise((resolve) => {
      this.waiters.push({ count, opcodes, resolve });
      this.settle();
    });
  }

  /** Drop the connection without a close frame. */
  destroy(): void {
    this.socket.destroy();
  }

  private consumed = new Set<ReceivedFrame>();

  private settle(): void {
    for (const waiter of [...this.waiters]) {
      const matching = this.frames.filter((frame) => waiter.opcodes.includes(frame.opcode) && !this.consumed.has(frame));
      if (matching.length < waiter.count) continue;
      const picked = matching.slice(0, waiter.count);
      for (const frame of picked) this.consumed.add(frame);
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(picked);
    }
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const buffer = this.buffer;
      if (buffer.length < 2) return;
      const fin = ((buffer[0] as number) & 0x80) !== 0;
      const opcode = (buffer[0] as number) & 0x0f;
      let length = (buffer[1] as number) & 0x7f;
      let at = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        at = 10;
      }
      if (buffer.length < at + length) return;
      const data = Buffer.from(buffer.subarray(at, at + length));
      this.buffer = buffer.subarray(at + length);
      this.frame(fin, opcode, data);
    }
  }

  private frame(fin: boolean, opcode: number, data: Buffer): void {
    if (opcode === Opcode.CONTINUATION || (!fin && (opcode === Opcode.TEXT || opcode === Opcode.BINARY))) {
      if (opcode !== Opcode.CONTINUATION) this.fragmentOpcode = opcode;
      this.fragments.push(data);
      if (!fin) return;
      data = Buffer.concat(this.fragments);
      opcode = this.fragmentOpcode;
      this.fragments = [];
    }
    this.frames.push({ opcode, data });
    if (opcode === Opcode.PING && this.answerPings) this.sendFrame(Opcode.PONG, data);
    if (opcode === Opcode.CLOSE) {
      this.closeFrame = { code: data.length >= 2 ? data.readUInt16BE(0) : undefined, reason: data.subarray(2).toString() };
      // Echo the close (RFC 6455 §5.5.1) if the server started it, then let the server close TCP.
      if (!this.closeSent && !this.socket.destroyed) {
        this.closeSent = true;
        this.sendFrame(Opcode.CLOSE, data.subarray(0, 2));
      }
    }
    this.settle();
  }
}
