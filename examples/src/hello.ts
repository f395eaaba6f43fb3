// The README's example, kept here so that `tsc -b` checks it: keep the two in step.
import { createLoop } from '@loop/core';

const loop = await createLoop(); // the LOOP_BACKEND backend, else 'libuv'
const server = await loop.serveHttp({ port: 0, maxBodySize: 64 * 1024 }, (request, response) => {
  // The request head is valid during this call only (request.snapshot() keeps a copy).
  response.respond(200, { 'content-type': 'text/plain' }, `hello from ${loop.backend}: ${request.method} ${request.url}\n`);
});
console.log(`listening on http://127.0.0.1:${server.address.port}/ for 5 s`);

loop.callSoon(() => console.log('pending phase: runs first, once the loop runs'));
loop
  .timer((timer) => {
    console.log('timer phase: 5 s are up, closing');
    timer.close();
    server.close(() => console.log('close phase: server closed'));
  })
  .start(5_000);

const stillAlive = await loop.run(); // returns once no referenced handle is left
loop.close();
console.log(`run() returned ${stillAlive}, loop closed`);
