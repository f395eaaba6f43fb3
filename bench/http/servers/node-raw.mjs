// The raw peer: node:http with its fastest idiom for a fixed answer, writeHead with a header
// object, then end with the whole body. The content-length is given because writeHead stores the
// head at once, so end() could no longer add it and Node would send the body chunked.
// Follows the server protocol of bench/README.md: PORT from the environment (0 = any free port),
// one `listening <port>` line on stdout, GET / answers 200 text/plain "hello world", SIGTERM exits.
import { createServer } from 'node:http';

const BODY = 'hello world';
const HEADERS = { 'content-type': 'text/plain', 'content-length': '11' };

const server = createServer((req, res) => {
  res.writeHead(200, HEADERS);
  res.end(BODY);
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});

process.once('SIGTERM', () => {
  // Stop accepting and drop the keep-alive connections, so the process exits on its own
  // (and `node --cpu-prof` gets to write its profile).
  server.close();
  server.closeAllConnections();
});
