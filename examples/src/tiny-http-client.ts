import type { EventLoop, TcpStream } from '@loop/core';

/** A response as read off the wire. */
export interface Reply {
  readonly status: number;
  /** The reason phrase of the status line, such as `OK`. */
  readonly reason: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** What to send; `Content-Length` is added when there is a body. */
export interface RequestSpec {
  readonly method?: string;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * One HTTP/1.1 client connection over the loop's own {@link TcpStream}, with just enough of the
 * protocol for the examples: one request at a time, each reply framed by its `Content-Length`
 * (or by the server closing). Its stream callbacks run in the loop's poll phase, so the loop
 * must be running while a request is outstanding.
 */
export class TinyHttpClient {
  private received = Buffer.alloc(0);
  private peerEnded = false;
  private isClosed = false;
  private waiting: { resolve: (reply: Reply) => void; reject: (error: Error) => void } | undefined;
  private readonly closedPromise: Promise<void>;

  private constructor(private readonly stream: TcpStream) {
    let markClosed!: () => void;
    this.closedPromise = new Promise((resolve) => (markClosed = resolve));
    stream.on({
      data: (chunk) => {
        this.received = Buffer.concat([this.received, chunk]);
        this.deliver();
      },
      end: () => {
        this.peerEnded = true;
        this.deliver();
      },
      close: (error) => {
        this.isClosed = true;
        this.waiting?.reject(error ?? new Error('connection closed before a full reply'));
        this.waiting = undefined;
        markClosed();
      },
    });
  }

  /** Connect to `127.0.0.1:port` with `loop.connect()`. */
  static async connect(loop: EventLoop, port: number): Promise<TinyHttpClient> {
    return new TinyHttpClient(await loop.connect({ port }));
  }

  /** The client's own port: the server sees it as the request's remote port. */
  get localPort(): number | undefined {
    return this.stream.localAddress?.port;
  }

  /** Send one request and resolve with its reply. */
  request(spec: RequestSpec): Promise<Reply> {
    if (this.waiting) return Promise.reject(new Error('one request at a time'));
    const headers: Record<string, string> = { host: '127.0.0.1', ...spec.headers };
    if (spec.body !== undefined) headers['content-length'] = String(Buffer.byteLength(spec.body));
    const lines = [`${spec.method ?? 'GET'} ${spec.path} HTTP/1.1`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
    const reply = new Promise<Reply>((resolve, reject) => (this.waiting = { resolve, reject }));
    this.stream.write(`${lines.join('\r\n')}\r\n\r\n${spec.body ?? ''}`);
    return reply;
  }

  /** Half-close our side, then resolve once the stream is fully closed (its close callback ran). */
  close(): Promise<void> {
    if (!this.isClosed) this.stream.end();
    return this.closedPromise;
  }

  /** Resolve the waiting request if a whole reply has arrived. */
  private deliver(): void {
    if (!this.waiting) return;
    const headEnd = this.received.indexOf(HEAD_END);
    if (headEnd < 0) return;
    const [statusLine = '', ...headerLines] = this.received.subarray(0, headEnd).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const bodyStart = headEnd + HEAD_END.length;
    const declared = headers['content-length'];
    const bodyEnd = declared === undefined ? (this.peerEnded ? this.received.length : -1) : bodyStart + Number(declared);
    if (bodyEnd < 0 || this.received.length < bodyEnd) return;
    const match = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
    const waiting = this.waiting;
    this.waiting = undefined;
    if (!match) {
      waiting.reject(new Error(`not an HTTP status line: ${JSON.stringify(statusLine)}`));
      return;
    }
    waiting.resolve({ status: Number(match[1]), reason: match[2] ?? '', headers, body: this.received.subarray(bodyStart, bodyEnd).toString() });
    this.received = this.received.subarray(bodyEnd);
  }
}
