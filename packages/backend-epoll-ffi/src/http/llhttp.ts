import { createRequire } from 'node:module';

/**
 * Node's own HTTP parser (llhttp behind `HTTPParser` from the internal module `_http_common`, the
 * parser `node:http` runs): the same strictness as Node, at native speed. It is an internal API, so
 * its shape is checked once, here, by parsing a probe request; a Node that changed it makes
 * `serveHttp` fail with a clear error instead of misparsing (and test/llhttp.test.ts fails loudly).
 *
 * The calls it makes back into JavaScript (kOnMessageBegin, kOnHeadersComplete, kOnBody, kOnMessageComplete) run
 * synchronously inside `execute()`, with the parser as `this`.
 */
export interface NodeHttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Bytes parsed, or an Error whose `code` is llhttp's (`HPE_INVALID_METHOD`, ...). */
  execute(data: Uint8Array): number | ParseError;
  /** Release the native parser; it cannot be used afterwards. */
  close(): void;
  [slot: number]: unknown;
  /** The connection this parser works for (set by the HTTP server). */
  owner: unknown;
}

/** What `execute()` returns for input llhttp rejects. */
export interface ParseError extends Error {
  code: string;
  reason: string;
  bytesParsed: number;
}

/** The parser's constructor and the constants the server uses. */
export interface Llhttp {
  create(): NodeHttpParser;
  readonly REQUEST: number;
  readonly kOnMessageBegin: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kLenientNone: number;
  /** Method names by llhttp's method index (`methods[1] === 'GET'`). */
  readonly methods: readonly string[];
}

interface HttpCommon {
  HTTPParser: (new () => NodeHttpParser) & Record<string, unknown>;
  methods: string[];
}

let cached: Llhttp | Error | undefined;

function shapeError(what: string): Error {
  return new Error(`Node ${process.version}'s internal HTTPParser (_http_common) changed shape: ${what}; @loop/backend-epoll-ffi needs updating`);
}

/**
 * Load and check Node's HTTPParser (once per process).
 * @throws Error when `_http_common` is missing or its parser does not behave as this backend expects
 */
export function loadLlhttp(): Llhttp {
  if (cached instanceof Error) throw cached;
  if (cached) return cached;
  try {
    cached = checkHttpCommon(createRequire(import.meta.url)('_http_common'));
  } catch (error) {
    cached = error instanceof Error ? error : new Error(String(error));
    throw cached;
  }
  return cached;
}

/**
 * Check that `module` (what `require('_http_common')` gave) has the HTTPParser this backend
 * drives: the constants, the method table, and the callbacks' arguments in the order the server
 * reads them, by parsing a probe request with a body.
 * @throws Error naming what changed
 */
export function checkHttpCommon(module: unknown): Llhttp {
  const common = (module ?? {}) as Partial<HttpCommon>;
  const HTTPParser = common.HTTPParser;
  const methods = common.methods;
  if (typeof HTTPParser !== 'function') throw shapeError('HTTPParser is not a constructor');
  if (!Array.isArray(methods) || methods[1] !== 'GET') throw shapeError('methods[1] is not GET');
  const constant = (key: string): number => {
    const value = HTTPParser[key];
    if (typeof value !== 'number') throw shapeError(`HTTPParser.${key} is not a number`);
    return value;
  };
  const llhttp: Llhttp = {
    create: () => new HTTPParser(),
    REQUEST: constant('REQUEST'),
    kOnMessageBegin: constant('kOnMessageBegin'),
    kOnHeaders: constant('kOnHeaders'),
    kOnHeadersComplete: constant('kOnHeadersComplete'),
    kOnBody: constant('kOnBody'),
    kOnMessageComplete: constant('kOnMessageComplete'),
    kLenientNone: constant('kLenientNone'),
    methods,
  };
  // Parse one request with a body and check every argument the server reads, in order.
  const parser = llhttp.create();
  parser.initialize(llhttp.REQUEST, {}, 0, llhttp.kLenientNone);
  const seen: unknown[] = [];
  parser[llhttp.kOnMessageBegin] = (): void => {
    seen.push(['begin']);
  };
  parser[llhttp.kOnHeadersComplete] = (...args: unknown[]): number => {
    seen.push(['head', ...args.slice(0, 5), args[8]]);
    return 0;
  };
  parser[llhttp.kOnBody] = (chunk: unknown): void => {
    seen.push(['body', Buffer.isBuffer(chunk) ? chunk.toString('latin1') : typeof chunk]);
  };
  parser[llhttp.kOnMessageComplete] = (): void => {
    seen.push(['complete']);
  };
  const input = Buffer.from('POST /probe?q=1 HTTP/1.1\r\nHost: probe\r\nContent-Length: 2\r\n\r\nok');
  const parsed = parser.execute(input);
  const bad = parser.execute(Buffer.from('\x01'));
  parser.close();
  const expected = JSON.stringify([['begin'], ['head', 1, 1, ['Host', 'probe', 'Content-Length', '2'], methods.indexOf('POST'), '/probe?q=1', true], ['body', 'ok'], ['complete'], ['begin']]);
  if (parsed !== input.length) throw shapeError(`execute() returned ${String(parsed)} for a ${input.length}-byte request`);
  if (JSON.stringify(seen) !== expected) throw shapeError(`callbacks saw ${JSON.stringify(seen)}, expected ${expected}`);
  if (!(bad instanceof Error) || typeof (bad as ParseError).code !== 'string' || !(bad as ParseError).code.startsWith('HPE_')) {
    throw shapeError('execute() does not return an HPE_ error for bad input');
  }
  return llhttp;
}
