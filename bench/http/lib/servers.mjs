// Finding, starting, checking and stopping the servers of bench/http/servers/ (the protocol is in
// bench/README.md): a server reads PORT, prints `listening <port>` once it accepts connections,
// answers GET / with 200 text/plain "hello world" over keep-alive HTTP/1.1, and exits on SIGTERM.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { basename, extname, join, resolve } from 'node:path';

/** How each kind of server file is run. `nodeArgs` go to node only (`--cpu-prof`, say). */
const RUNNERS = {
  '.mjs': (path, nodeArgs) => [process.execPath, [...nodeArgs, path]],
  '.js': (path, nodeArgs) => [process.execPath, [...nodeArgs, path]],
  '.py': (path) => ['/usr/bin/python3', [path]],
};

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const STDERR_KEPT = 4_000;

/** The names of the servers in `dir` (file names without their extension), sorted. */
export function listServers(dir) {
  const names = new Set();
  for (const file of readdirSync(dir)) {
    const dot = file.lastIndexOf('.');
    if (dot > 0 && file.slice(dot) in RUNNERS) names.add(file.slice(0, dot));
  }
  return [...names].sort();
}

/**
 * The server `name` in `dir` as `{ name, path, command, args }`, or `undefined` when there is no
 * such file. A `name` with a `/` is a path to a server file anywhere (for experiments), named
 * after its file.
 */
export function findServer(dir, name, nodeArgs = []) {
  if (name.includes('/')) {
    const path = resolve(name);
    const runner = RUNNERS[extname(path)];
    if (!runner || !existsSync(path)) return undefined;
    const [command, args] = runner(path, nodeArgs);
    return { name: basename(path, extname(path)), path, command, args };
  }
  for (const [extension, runner] of Object.entries(RUNNERS)) {
    const path = join(dir, name + extension);
    if (!existsSync(path)) continue;
    const [command, args] = runner(path, nodeArgs);
    return { name, path, command, args };
  }
  return undefined;
}

/** Server processes still running, so the harness can end them if it is interrupted. */
export const runningServers = new Set();

/**
 * Start `server` pinned to `cpu` with PORT=0 and wait for its `listening <port>` line. Resolves
 * with a handle `{ pid, port, exited, stop() }`; rejects with the reason and the end of its
 * stderr when it exits first, prints something else, or says nothing for 15 s.
 */
export function startServer(server, cpu) {
  return new Promise((resolve, reject) => {
    // taskset execs the server, so the pid we get is the server's own (its /proc/<pid>/stat).
    const child = spawn('taskset', ['-c', String(cpu), server.command, ...server.args], {
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    runningServers.add(child);
    let stderr = '';
    let stdout = '';
    let settled = false;
    const handle = {
      pid: child.pid,
      port: 0,
      /** `{ code, signal }` once the process has exited, else `undefined`. */
      exited: undefined,
      stderrTail: () => stderr.slice(-STDERR_KEPT),
      stop: () => stopServer(child, handle),
    };
    const fail = (why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      const tail = stderr.trim() ? `\n--- its stderr (end) ---\n${stderr.slice(-STDERR_KEPT).trim()}` : '';
      reject(new Error(`${server.name} (${server.command} ${server.args.join(' ')}) ${why}${tail}`));
    };
    const timer = setTimeout(() => fail(`printed no "listening <port>" line within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-2 * STDERR_KEPT);
    });
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      if (settled) return; // later output is the server's own business
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      const match = /^listening (\d+)\s*$/.exec(stdout.slice(0, newline));
      if (!match || Number(match[1]) === 0) {
        fail(`printed ${JSON.stringify(stdout.slice(0, newline))} where the protocol wants "listening <port>"`);
        return;
      }
      settled = true;
      clearTimeout(timer);
      handle.port = Number(match[1]);
      resolve(handle);
    });
    child.on('error', (error) => fail(`could not be started: ${error.message}`));
    child.on('exit', (code, signal) => {
      runningServers.delete(child);
      handle.exited = { code, signal };
      fail(`exited (${signal ?? `code ${code}`}) before printing "listening <port>"`);
    });
  });
}

/** SIGTERM, then SIGKILL after 5 s. Resolves with `{ code, signal, clean }`; `clean` is false if it had to be killed. */
function stopServer(child, handle) {
  if (handle.exited) return Promise.resolve({ ...handle.exited, clean: false });
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, clean: signal === null && code === 0 });
    });
    child.kill('SIGTERM');
  });
}

/**
 * Check the protocol's answer on 127.0.0.1:`port`: two GET / over one keep-alive connection, each
 * 200, content-type text/plain, body "hello world". Resolves with a description of what is wrong,
 * or `undefined` when all is right.
 */
export async function checkHello(port) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const sockets = new Set();
    for (let i = 0; i < 2; i++) {
      const answer = await get(port, agent);
      sockets.add(answer.socket);
      if (answer.status !== 200) return `GET / answered ${answer.status}, not 200`;
      if (!/^text\/plain\b/i.test(answer.headers['content-type'] ?? '')) {
        return `GET / answered content-type ${JSON.stringify(answer.headers['content-type'])}, not text/plain`;
      }
      if (answer.body !== 'hello world') return `GET / answered the body ${JSON.stringify(answer.body.slice(0, 60))}, not "hello world"`;
      if (answer.httpVersion !== '1.1') return `GET / answered HTTP/${answer.httpVersion}, not HTTP/1.1`;
    }
    if (sockets.size !== 1) return 'the connection was not kept alive between two requests';
    return undefined;
  } catch (error) {
    return `GET / failed: ${error.message}`;
  } finally {
    agent.destroy();
  }
}

function get(port, agent) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent, timeout: 5_000 }, (res) => {
      const socket = res.socket;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, httpVersion: res.httpVersion, body, socket }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end();
  });
}
