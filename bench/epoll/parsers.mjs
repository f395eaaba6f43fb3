// Which HTTP/1.1 parser the epoll backend uses, by measurement: Node's own llhttp (HTTPParser from
// the internal _http_common, what node:http runs) against http-parser-js (pure JavaScript, on the
// registry), and the backend's own fast path in front of llhttp (simple-request.ts: a strict
// subset, read in JavaScript; everything else goes to llhttp). Two things are measured for each:
//   speed       ns per request, parsing one request per execute() call as the server does (one
//               read, one request), with the callbacks the server sets; tinybench-style loop
//   strictness  which of the RFC 9112 violations of the backend's test corpus it rejects
//
// Run:
//   flock /tmp/loop-bench.lock taskset -c 0 node bench/epoll/parsers.mjs [--count 1000000]
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const args = process.argv.slice(2);
const at = args.indexOf('--count');
const count = at >= 0 ? Number(args[at + 1]) : 1_000_000;
const require = createRequire(import.meta.url);
const llhttp = require('_http_common').HTTPParser;
// http-parser-js is a dev dependency of the backend package: resolve it from there.
const backendRequire = createRequire(new URL('../../packages/backend-epoll-ffi/package.json', import.meta.url));
const jsParser = backendRequire('http-parser-js').HTTPParser;
const { SimpleRequestParser, DECLINED } = await import(new URL('../../packages/backend-epoll-ffi/dist/http/simple-request.js', import.meta.url).href);
const simple = new SimpleRequestParser(require('_http_common').methods);

const requests = {
  'wrk GET (2 header lines)': 'GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n',
  'browser GET (7 header lines)':
    'GET /index.html?q=1 HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0\r\nAccept: text/html,application/xhtml+xml\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\nCookie: session=abc123\r\n\r\n',
  'POST with a 64-byte body': `POST /api HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n${'x'.repeat(64)}`,
};

// Both parsers share node:http's callback protocol (http-parser-js was written as its drop-in).
function makeParser(Parser, counters) {
  const parser = Parser === llhttp ? new Parser() : new Parser(Parser.REQUEST);
  if (Parser === llhttp) parser.initialize(Parser.REQUEST, {}, 0, Parser.kLenientNone);
  parser[Parser.kOnHeadersComplete] = () => {
    counters.heads++;
    return 0;
  };
  parser[Parser.kOnBody] = () => {
    counters.bodies++;
  };
  parser[Parser.kOnMessageComplete] = () => {
    counters.messages++;
  };
  return parser;
}

/** The fast path: one parse per request, as the server calls it (a complete request in the read). */
function simpleSpeed(text) {
  const input = Buffer.from(text);
  const out = { method: 0, url: '', minor: 0, headers: [], keepAlive: false, bodyStart: 0, bodyLength: 0 };
  for (let i = 0; i < 20_000; i++) simple.parse(input, 0, input.length, 65536, out);
  const samples = [];
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    for (let i = 0; i < count / 5; i++) if (simple.parse(input, 0, input.length, 65536, out) === DECLINED) throw new Error('declined');
    samples.push(((performance.now() - t0) * 1e6) / (count / 5));
  }
  samples.sort((a, b) => a - b);
  return samples[2];
}

function speed(Parser, text) {
  const input = Buffer.from(text);
  const counters = { heads: 0, bodies: 0, messages: 0 };
  const parser = makeParser(Parser, counters);
  for (let i = 0; i < 20_000; i++) parser.execute(input); // warm up the JIT
  const samples = [];
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    for (let i = 0; i < count / 5; i++) parser.execute(input);
    samples.push(((performance.now() - t0) * 1e6) / (count / 5));
  }
  if (counters.messages < count) throw new Error('the parser did not complete every request');
  samples.sort((a, b) => a - b);
  return samples[2];
}

const corpus = [
  ['CL + TE', 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['two Content-Length', 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'],
  ['malformed Content-Length', 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\nab'],
  ['TE not ending in chunked', 'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nab'],
  ['bad chunk size', 'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: t\r\nX-Folded: a\r\n b\r\n\r\n'],
  ['bare LF', 'GET / HTTP/1.1\nHost: t\r\n\r\n'],
  ['bare CR', 'GET / HTTP/1.1\r\nHost: t\rX: y\r\n\r\n'],
  ['space before colon', 'GET / HTTP/1.1\r\nHost : t\r\n\r\n'],
  ['NUL in a value', 'GET / HTTP/1.1\r\nHost: t\r\nX: a\0b\r\n\r\n'],
  ['HTTP/0.9 request line', 'GET /\r\n\r\n'],
];

/** `true` when the parser refuses the input (an Error from execute, or a throw). */
function rejects(Parser, text) {
  const parser = makeParser(Parser, { heads: 0, bodies: 0, messages: 0 });
  let versionMajor = 1;
  const onHead = parser[Parser.kOnHeadersComplete];
  parser[Parser.kOnHeadersComplete] = (...values) => {
    // llhttp passes (major, minor, ...), http-parser-js one info object.
    versionMajor = typeof values[0] === 'object' ? values[0].versionMajor : values[0];
    return onHead(...values);
  };
  try {
    const result = parser.execute(Buffer.from(text));
    // HTTP/0.9 is parsed by both (version 0.9); the backend refuses it after the parser.
    return result instanceof Error || versionMajor !== 1 ? (versionMajor !== 1 && !(result instanceof Error) ? 'after' : true) : false;
  } catch {
    return true;
  }
}

console.log(`command: node bench/epoll/parsers.mjs ${args.join(' ')}`.trim());
console.log(`Node ${process.version}, http-parser-js ${backendRequire('http-parser-js/package.json').version}; ns per request, median of 5 rounds of ${count / 5} requests`);
for (const [name, text] of Object.entries(requests)) {
  const native = speed(llhttp, text);
  const js = speed(jsParser, text);
  const fast = simpleSpeed(text);
  console.log(
    `${name.padEnd(30)} llhttp ${native.toFixed(0).padStart(5)} ns   http-parser-js ${js.toFixed(0).padStart(5)} ns (${(js / native).toFixed(2)}x)   fast path ${fast.toFixed(0).padStart(5)} ns (${(fast / native).toFixed(2)}x)`,
  );
}
console.log('rejected (yes / no / after: parsed as HTTP/0.9, refused by the backend after the parser):');
for (const [name, text] of corpus) {
  const show = (value) => (value === true ? 'yes' : value === 'after' ? 'after' : 'NO');
  const out = { method: 0, url: '', minor: 0, headers: [], keepAlive: false, bodyStart: 0, bodyLength: 0 };
  const bytes = Buffer.from(text);
  const fastDeclines = simple.parse(bytes, 0, bytes.length, 65536, out) === DECLINED ? 'declined (to llhttp)' : 'ACCEPTED';
  console.log(`  ${name.padEnd(26)} llhttp ${show(rejects(llhttp, text)).padEnd(6)} http-parser-js ${show(rejects(jsParser, text)).padEnd(6)} fast path ${fastDeclines}`);
}
