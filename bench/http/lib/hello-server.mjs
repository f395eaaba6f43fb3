// The hello server of every @loop backend under bench/http/servers/: the server protocol of
// bench/README.md on a loop the caller made, so that the backends' servers differ only in the loop
// (and serveHttp options) they pass.
const BODY = 'hello world';
const HEADERS = { 'content-type': 'text/plain' };

/**
 * Serve `GET /` → 200 text/plain "hello world" on `loop` through `serveHttp` and the
 * `response.respond(status, headers, body)` fast path (the counterpart of node-raw.mjs's
 * writeHead + end: respond() adds the content-length itself, so the wire bytes match). PORT comes
 * from the environment (0 = any free port); one `listening <port>` line goes to stdout; SIGTERM
 * closes the server and the loop, and the process exits.
 * @param {import('@loop/core').EventLoop} loop
 * @param {Record<string, unknown>} [serveOptions] - extra serveHttp options (a backend's own)
 */
export async function serveHello(loop, serveOptions = {}) {
  const options = { host: '127.0.0.1', port: Number(process.env.PORT ?? 0), ...serveOptions };
  const server = await loop.serveHttp(options, (request, response) => {
    response.respond(200, HEADERS, BODY);
  });
  process.stdout.write(`listening ${server.address.port}\n`);
  process.once('SIGTERM', () => {
    // A Node signal callback is outside the loop's phases: close the server from the loop's pending
    // phase. close() stops accepting and closes idle connections; run() then returns.
    loop.callSoon(() => server.close());
  });
  await loop.run();
  loop.close();
}
