import { createLoop } from '@loop/backend-libuv';
import { getHub, sleep, spawn } from '@loop/hub';

const loop = createLoop(); // or: await createLoop() from '@loop/core' (LOOP_BACKEND, else libuv)
const answer = await getHub(loop).run(function* () {
  const worker = spawn(function* (n: number) {
    yield* sleep(10); // only this greenlet waits
    return n * 2;
  }, 21);
  return yield* worker.get();
});
console.log(answer); // 42
getHub(loop).destroy();
loop.close();
