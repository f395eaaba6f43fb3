import { createLoop } from '@loop/backend-libuv';
import { Group, getHub, sleep, waitPromise } from '@loop/hub';

const loop = createLoop();
const hub = getHub(loop);
const seen: string[] = [];

// The server: each request gets a greenlet, which may block (here, a 100 ms "backend call")
// without holding up the other requests.
const server = await loop.serveHttp({ port: 0 }, (request, response) => {
  const path = request.url; // the request head is valid during this call only: keep what you need
  seen.push('request');
  hub.spawn(function* () {
    yield* sleep(100);
    seen.push('answer');
    response.setHeader('content-type', 'text/plain').end(`slow hello from ${path}\n`);
  });
});
const base = `http://127.0.0.1:${server.address.port}`;

// The client: ten requests at once, each in a greenlet of its own, run from plain code.
const bodies = await hub.run(function* () {
  return yield* new Group().map(function* (i: number) {
    const response = yield* waitPromise(fetch(`${base}/${i}`));
    return yield* waitPromise(response.text());
  }, [...Array(10).keys()]);
});
console.log(`${bodies.length} answers; ${seen.indexOf('answer')} requests were in before the first answer went out`);
console.log(bodies[0]?.trim(), '...', bodies[9]?.trim());

server.close(); // then let the loop run the close, and release everything
await loop.run();
hub.destroy();
loop.close();
