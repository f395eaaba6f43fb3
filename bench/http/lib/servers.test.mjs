import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkHello, findServer, listServers, startServer } from './servers.mjs';

const SERVERS_DIR = fileURLToPath(new URL('../servers/', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'bench-http-servers-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A server file in the scratch dir, found the way compare.mjs finds servers. */
function scratchServer(name, source) {
  writeFileSync(join(scratch, `${name}.mjs`), source);
  return findServer(scratch, name);
}

describe('listServers and findServer', () => {
  it('list the servers of bench/http/servers by name, node-raw and libuv among them', () => {
    expect(listServers(SERVERS_DIR)).toEqual(expect.arrayContaining(['libuv', 'node-raw']));
  });

  it('run .mjs servers with this node and .py servers with /usr/bin/python3, node options to node only', () => {
    writeFileSync(join(scratch, 'snake.py'), '');
    expect(findServer(scratch, 'snake', ['--cpu-prof'])).toMatchObject({ command: '/usr/bin/python3', args: [join(scratch, 'snake.py')] });
    expect(findServer(SERVERS_DIR, 'node-raw', ['--cpu-prof'])).toMatchObject({
      command: process.execPath,
      args: ['--cpu-prof', join(SERVERS_DIR, 'node-raw.mjs')],
    });
  });

  it('find a server by path, named after its file, and nothing for a missing name', () => {
    scratchServer('by-path', '');
    expect(findServer(SERVERS_DIR, join(scratch, 'by-path.mjs'))).toMatchObject({ name: 'by-path' });
    expect(findServer(SERVERS_DIR, 'no-such-server')).toBeUndefined();
  });
});

// The protocol of bench/README.md, checked on every server in the directory (libuv.mjs imports
// the built dist: `npx tsc -b` first).
describe.each(listServers(SERVERS_DIR))('server %s', (name) => {
  it('prints "listening <port>", answers GET / with 200 text/plain "hello world" over keep-alive, and exits 0 on SIGTERM', async () => {
    const server = await startServer(findServer(SERVERS_DIR, name), 0);
    expect(server.port).toBeGreaterThan(0);
    expect(await checkHello(server.port)).toBeUndefined();
    expect(await server.stop()).toEqual({ code: 0, signal: null, clean: true });
  });
});

describe('startServer and checkHello on servers that break the protocol', () => {
  it('reject a server that exits before listening, with its exit code and stderr', async () => {
    const server = scratchServer('dies', "process.stderr.write('cannot bind\\n'); process.exit(3);\n");
    await expect(startServer(server, 0)).rejects.toThrow(/dies .*exited \(code 3\) before printing "listening <port>"[\s\S]*cannot bind/);
  });

  it('reject a server whose first line is not "listening <port>"', async () => {
    const server = scratchServer('chatty', "process.stdout.write('server ready on 8080\\n'); setInterval(() => {}, 1000);\n");
    await expect(startServer(server, 0)).rejects.toThrow(/printed "server ready on 8080" where the protocol wants "listening <port>"/);
  });

  it('say what is wrong with an answer that is not the hello', async () => {
    const server = scratchServer(
      'wrong-body',
      `import { createServer } from 'node:http';
const s = createServer((req, res) => res.end('hi'));
s.listen(0, '127.0.0.1', () => process.stdout.write('listening ' + s.address().port + '\\n'));
process.once('SIGTERM', () => { s.close(); s.closeAllConnections(); });
`,
    );
    const running = await startServer(server, 0);
    expect(await checkHello(running.port)).toMatch(/content-type/);
    expect((await running.stop()).clean).toBe(true);
  });
});
