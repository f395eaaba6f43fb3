// A chat server: every WebSocket joins the topic 'chat', and what one says the others hear.
// Run it with `node packages/backend-uws/examples/chat.mjs` after `npx tsc -b`, then connect
// WebSockets to ws://127.0.0.1:8080/?name=alice (PORT=0 picks a free port).
import { createLoop } from '@loop/backend-uws';

const loop = createLoop();

/** @type {import('@loop/core').WebSocketBehavior<{ name: string }>} */
const chat = {
  idleTimeout: 60_000,
  upgrade(request, upgrade) {
    // The request is valid during this call only: read the name now.
    const name = new URL(request.url, 'http://chat').searchParams.get('name');
    if (name === null || name === '') upgrade.reject(400, 'connect to /?name=you');
    else upgrade.accept({ name });
  },
  open(socket) {
    socket.subscribe('chat');
    socket.publish('chat', `${socket.data.name} joined`); // to everyone else
  },
  message(socket, data, isBinary) {
    if (isBinary) return;
    // `data` is borrowed: turn it into a string (a copy) during this call.
    socket.publish('chat', `${socket.data.name}: ${Buffer.from(data).toString()}`);
    socket.send(`you: ${Buffer.from(data).toString()}`);
  },
  close(socket) {
    server.websocket?.publish('chat', `${socket.data.name} left`);
  },
};

const server = await loop.serveHttp({ port: Number(process.env.PORT ?? 8080), websocket: chat }, (request, response) => {
  response.respond(200, { 'content-type': 'text/plain' }, 'connect a WebSocket to /?name=you\n');
});
console.log(`chat on ws://127.0.0.1:${server.address.port}/?name=you`);

// A signal arrives outside the loop's phases: close the server from the pending phase.
process.once('SIGTERM', () => loop.callSoon(() => server.close()));
process.once('SIGINT', () => loop.callSoon(() => server.close()));
await loop.run();
loop.close();
