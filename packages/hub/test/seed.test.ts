// The seed scenario, on libuv: a handler that takes 200 ms, under 20 concurrent clients, served
// cooperatively. Not timed: the recorded order shows that every request was in before the first
// answer went out, which a server that handled them one after another could not do.
import * as libuv from '@loop/backend-libuv';
import { describe, expect, it } from 'vitest';
import { Group, Hub, sleep, waitPromise } from '../src/index.js';

const CLIENTS = 20;

describe('seed scenario (libuv)', () => {
  it('serves 20 concurrent clients of a 200 ms handler side by side', async () => {
    const loop = libuv.createLoop();
    const reported: unknown[] = [];
    const hub = new Hub(loop, { onError: (error) => reported.push(error) });
    const order: string[] = [];
    const server = await loop.serveHttp({ port: 0 }, (request, response) => {
      const path = request.url;
      order.push(`request ${path}`);
      hub.spawn(function* () {
        yield* sleep(200);
        order.push(`answer ${path}`);
        response.end(`done ${path}`);
      });
    });
    const base = `http://127.0.0.1:${server.address.port}`;
    const bodies = await hub.run(function* () {
      const group = new Group();
      const clients = Array.from({ length: CLIENTS }, (_, i) =>
        group.spawn(function* () {
          const response = yield* waitPromise(fetch(`${base}/${i}`));
          return yield* waitPromise(response.text());
        }),
      );
      yield* group.join();
      return clients.map((client) => client.value);
    });
    server.close();
    await loop.run();
    hub.destroy();
    loop.close();

    expect(bodies).toEqual(Array.from({ length: CLIENTS }, (_, i) => `done /${i}`));
    const firstAnswer = order.findIndex((entry) => entry.startsWith('answer'));
    expect(firstAnswer).toBe(CLIENTS); // all 20 requests were in before any answer
    expect(order.filter((entry) => entry.startsWith('answer'))).toHaveLength(CLIENTS);
    expect(reported).toEqual([]);
  });
});
