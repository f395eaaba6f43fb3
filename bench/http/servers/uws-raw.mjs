// The raw peer of @loop/backend-uws: uWebSockets.js itself, with its fastest idiom for a fixed
// answer (one catch-all GET route answering inside uWS's callback, where uWS has corked the
// socket: writeHeader + end; uWS adds the status line, Date and Content-Length itself).
// The native binary is required by path, like the backend does: the package's main module would
// silently fall back to a slow pure-JS server if the binary failed, and that must never be measured.
// Follows the server protocol of bench/README.md: PORT from the environment (0 = any free port),
// one `listening <port>` line on stdout, GET / answers 200 text/plain "hello world", SIGTERM exits.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const packageDir = dirname(require.resolve('@trufflesuite/uws-js-unofficial/package.json'));
const uWS = require(join(packageDir, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`));

const app = uWS.App();
app.get('/*', (res) => {
  res.writeHeader('Content-Type', 'text/plain').end('hello world');
});

app.listen('127.0.0.1', Number(process.env.PORT ?? 0), (listenSocket) => {
  if (!listenSocket) {
    process.stderr.write('uws-raw: listen failed\n');
    process.exit(1);
  }
  process.stdout.write(`listening ${uWS.us_socket_local_port(listenSocket)}\n`);
  process.once('SIGTERM', () => {
    // Stop accepting and drop the keep-alive connections, so the process exits on its own
    // (and `node --cpu-prof` gets to write its profile).
    uWS.us_listen_socket_close(listenSocket);
    app.close();
  });
});
