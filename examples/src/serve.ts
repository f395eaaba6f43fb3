/**
 * A hello server that serves until SIGINT or SIGTERM, then closes cleanly: the listening socket
 * first, then idle connections, then busy ones once their response is sent.
 *
 * - `GET /`: answers at once.
 * - `GET /slow`: answers after a 200 ms loop timer. While it waits, `/` is still answered at
 *   once: the timer is a handle of the loop, nothing blocks.
 *
 * `PORT` (default 8080) picks the port and `LOOP_BACKEND` (default `libuv`) the backend.
 * Run it with `pnpm serve`, then `curl -s localhost:8080/slow & curl -s localhost:8080/`.
 */
import { constants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createLoop, type HttpRequest, type HttpResponse, type Timer } from '@loop/core';

const SLOW_MS = 200;

const port = Number(process.env['PORT'] ?? 8080);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`serve: PORT must be an integer in [0, 65535], got '${process.env['PORT']}'\n`);
  process.exit(2);
}

const loop = await createLoop();
const started = performance.now();

/** Print one line per finished exchange, stamped with the time since start. */
function log(what: string, status: string, since: number): void {
  const now = performance.now();
  console.log(`[+${(now - started).toFixed(0).padStart(6)} ms] ${what} ${status} in ${(now - since).toFixed(1)} ms`);
}

/** Runs in the poll phase for every request. */
function handle(request: HttpRequest, response: HttpResponse): void {
  const since = performance.now();
  // The request head is valid during this call only: keep what the log needs now.
  const what = `${request.method} ${request.url}`;
  let timer: Timer | undefined;
  // Runs once the exchange is over; if the client left before /slow answered, its timer goes too.
  response.on({
    close: () => {
      timer?.close();
      log(what, response.finished ? 'answered' : 'aborted by the client', since);
    },
  });
  response.setHeader('content-type', 'text/plain');
  if (request.url === '/slow') {
    // A one-shot timer: its callback runs in the timer phase of a later iteration.
    timer = loop.timer((self) => {
      response.end(`hello after ${SLOW_MS} ms\n`);
      self.close();
    });
    timer.start(SLOW_MS);
    return;
  }
  if (request.url === '/') {
    response.end(`hello from ${loop.backend}\n`);
    return;
  }
  response.status(404).end('not found: try / or /slow\n');
}

const server = await loop.serveHttp({ port }, handle);
const url = `http://${server.address.address}:${server.address.port}/`;
console.log(`serving on ${url} (backend '${loop.backend}'); Ctrl-C to stop`);
console.log(`  try: curl -s ${url}slow & curl -s ${url}   (/ is answered at once while /slow waits ${SLOW_MS} ms)`);

/** First signal: close gracefully. A second one: exit at once. */
function shutDown(signal: NodeJS.Signals): void {
  console.log(`${signal}: closing the server; in-flight requests finish first (${signal} again to exit at once)`);
  process.once(signal, () => process.exit(128 + constants.signals[signal]));
  server.close(() => console.log('server closed'));
}
process.once('SIGINT', shutDown);
process.once('SIGTERM', shutDown);

// run() returns once the server and every pending timer are closed.
await loop.run();
loop.close();
console.log('loop closed, bye');
