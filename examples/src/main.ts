/**
 * The main job: start an HTTP hello server on the chosen backend (`LOOP_BACKEND`, default
 * `libuv`), talk to it over the loop's own TCP client streams, print what happened, close
 * everything and exit 0. Any surprise exits 1, and so does a run that takes longer than
 * {@link DEADLINE_MS}: it can fail, but it cannot hang.
 *
 * Run it with `pnpm start` (or `node examples/dist/main.js` after `tsc -b`).
 */
import { createLoop, type HttpRequest, type HttpResponse, type Phase } from '@loop/core';
import { TinyHttpClient, type Reply, type RequestSpec } from './tiny-http-client.js';

const DEADLINE_MS = 15_000;
// Unref'd, so it never keeps the process alive; it fires only if something else does.
setTimeout(() => fail(new Error(`still running after ${DEADLINE_MS} ms: something hangs`)), DEADLINE_MS).unref();

const LIMITS = { maxUrlLength: 256, maxBodySize: 1024, maxHeaderCount: 20 };

/** Errors passed to the loop's error handler, as "phase: error". */
const reported: string[] = [];

const loop = await createLoop({
  onError: (error: unknown, phase: Phase) => reported.push(`${phase} phase: ${String(error)}`),
}).catch(fail);

/** Runs in the poll phase for every request within the limits. */
function hello(request: HttpRequest, response: HttpResponse): void {
  if (request.method === 'POST' && request.url === '/echo') {
    const chunks: Uint8Array[] = [];
    request.on({
      // A chunk is borrowed: valid during this callback only, so keep a copy.
      data: (chunk) => chunks.push(Buffer.from(chunk)),
      end: () => response.setHeader('content-type', 'text/plain').end(Buffer.concat(chunks)),
    });
    return;
  }
  if (request.url === '/boom') throw new Error('boom: this handler fails on purpose');
  response.respond(200, { 'content-type': 'text/plain' }, `hello from ${loop.backend}, client port ${request.remoteAddress?.port}\n`);
}

// The job's client is the loop's own TCP stream, and it sets limits of its own: say so plainly on a
// backend that declares either missing (uws has no raw TCP; virtual has no HTTP).
const { tcp, http, httpLimits } = loop.capabilities;
if (!tcp || !http || !httpLimits.maxHeaderCount || !httpLimits.maxUrlLength || !httpLimits.maxBodySize) {
  process.stderr.write(
    `main: the '${loop.backend}' backend lacks what this job needs (tcp: ${tcp}, http: ${http}, settable limits); ` +
      `try LOOP_BACKEND=libuv or LOOP_BACKEND=epoll-ffi (the serve example runs on uws too)\n`,
  );
  process.exit(2);
}

const server = await loop.serveHttp(LIMITS, hello).catch(fail);
const { address, port } = server.address;
console.log(`@loop: HTTP hello server on the '${loop.backend}' backend at http://${address}:${port}/ (limits ${JSON.stringify(LIMITS)})`);

// The loop serves (and delivers the clients' stream callbacks) until every handle is closed.
const served = loop.run();

function check(ok: boolean, what: string, reply?: Reply): void {
  if (!ok) throw new Error(`unexpected: ${what}${reply ? ` (got ${reply.status} ${JSON.stringify(reply.body)})` : ''}`);
}

function show(label: string, request: string, outcome: string): void {
  console.log(`  ${label.padEnd(16)}${request.padEnd(40)}-> ${outcome}`);
}

/** Open a connection, send one request, close the connection; resolves with the reply. */
async function once(spec: RequestSpec): Promise<Reply> {
  const client = await TinyHttpClient.connect(loop, port);
  try {
    return await client.request(spec);
  } finally {
    await client.close();
  }
}

async function talk(): Promise<void> {
  // Two requests on one kept-alive connection: the server sees the same client port twice.
  const client = await TinyHttpClient.connect(loop, port);
  const clientPort = client.localPort;
  const first = await client.request({ path: '/' });
  const second = await client.request({ path: '/again' });
  await client.close();
  check(first.status === 200 && second.status === 200, 'keep-alive replies are 200', second);
  check(first.body === second.body && first.body.endsWith(`client port ${clientPort}\n`), 'the same connection served both', second);
  show('keep-alive', 'GET /, GET /again on one connection', `200, 200 "${first.body.trim()}" both times (connection: ${first.headers['connection']})`);

  const text = 'ping from the loop';
  const echo = await once({ method: 'POST', path: '/echo', body: text });
  check(echo.status === 200 && echo.body === text, 'the body echoed', echo);
  show('echo', `POST /echo (${text.length} bytes)`, `200 "${echo.body}"`);

  const longUrl = `/${'a'.repeat(300)}`;
  const tooLong = await once({ path: longUrl });
  check(tooLong.status === 414, '414 for a long URL', tooLong);
  show('URL over limit', `GET /aaa... (${longUrl.length}-byte URL)`, `${tooLong.status} ${tooLong.reason}`);

  const tooBig = await once({ method: 'POST', path: '/echo', body: 'x'.repeat(2048) });
  check(tooBig.status === 413, '413 for a large body', tooBig);
  show('body over limit', 'POST /echo (2048-byte body)', `${tooBig.status} ${tooBig.reason}`);

  const headers = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`x-extra-${i}`, 'y']));
  const tooMany = await once({ path: '/', headers });
  check(tooMany.status === 431, '431 for many headers', tooMany);
  show('headers over', 'GET / with 31 header lines', `${tooMany.status} ${tooMany.reason}`);

  const boom = await once({ path: '/boom' });
  check(boom.status === 500, '500 when the handler throws', boom);
  check(reported.length === 1 && reported[0]?.includes('boom') === true, 'the error reached the error handler');
  show('handler throws', 'GET /boom', `${boom.status} ${boom.reason}; error handler got "${reported[0]}"`);
}

function fail(error: unknown): never {
  process.stderr.write(`main: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}

try {
  await talk();
} catch (error) {
  fail(error);
}

server.close(() => console.log('  server closed (close phase)'));
const stillAlive = await served;
check(!stillAlive, 'run() ends once the server and every connection are closed');
loop.close(); // throws ERR_LOOP_BUSY if any handle were still live
console.log('@loop: every handle closed, loop closed, bye');
