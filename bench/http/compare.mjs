#!/usr/bin/env node
// Compare HTTP "hello" servers under wrk, side by side, on this machine's two cores.
//
//   node bench/http/compare.mjs --servers node-raw,libuv --runs 5 --duration 5s --connections 50 \
//     [--baseline node-raw] [--json out.json]
//
// Method (bench/README.md has the why): the server pinned to one CPU, wrk to the other; every
// round starts each server afresh, warms it up with one unrecorded wrk run, then measures one run
// while sampling the server's CPU time from /proc/<pid>/stat; the order of the servers rotates each
// round; the table gives per-server medians and ratios to the baseline's medians from this run.
// The harness takes the machine-wide bench lock itself (/tmp/loop-bench.lock).
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, USAGE } from './lib/args.mjs';
import { holdBenchLock } from './lib/bench-lock.mjs';
import { clockTicksPerSecond, cpuBusyTicks, cpuTicks, reapedChildrenTicks } from './lib/proc-stat.mjs';
import { addRatios, formatTable, summarize } from './lib/report.mjs';
import { checkHello, findServer, listServers, runningServers, startServer } from './lib/servers.mjs';
import { parseDuration, runningWrk, runWrk, wrkArgs } from './lib/wrk.mjs';

const SERVERS_DIR = fileURLToPath(new URL('./servers/', import.meta.url));
const LOCK = '/tmp/loop-bench.lock';

/** A round where the two CPUs spent more than this share of the run on other work is marked. */
const DISTURBED = 0.05;

const log = (line = '') => process.stdout.write(`${line}\n`);
const pct = (share) => `${Math.round(share * 100)}%`;

/** The command line that started us, as it could be typed again. */
function commandLine() {
  const quote = (arg) => (/^[\w./,=:@%+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`);
  const script = relative(process.cwd(), fileURLToPath(import.meta.url)) || fileURLToPath(import.meta.url);
  return ['node', ...process.execArgv, script, ...process.argv.slice(2)].map(quote).join(' ');
}

/** Throw with how to install `tool` when it is not on PATH. */
function requireTool(tool, install) {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${tool} is not installed; install it with: ${install}`);
  }
}

function describeMachine(hz) {
  let cpu = 'unknown CPU';
  try {
    cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {
    // not fatal: the line is informative only
  }
  const wrk = /wrk \S+/.exec(execFileSync('sh', ['-c', 'wrk --version 2>&1 || true'], { encoding: 'utf8' }))?.[0] ?? 'wrk';
  return `node ${process.version}, ${wrk}, ${availableParallelism()} CPUs (${cpu}), CLK_TCK ${hz}`;
}

/** Per-server summaries of `samples` (servers without any left out), with ratios to `baseline`. */
function summarizeAll(servers, samples, baseline) {
  const measured = servers.filter((server) => samples.some((sample) => sample.server === server.name));
  return addRatios(
    measured.map((server) => summarize(server.name, samples.filter((sample) => sample.server === server.name))),
    samples,
    baseline,
  );
}

/** Kill every server and wrk we started (interrupted, or leaving on an error). */
function killChildren() {
  for (const child of [...runningServers, ...runningWrk]) child.kill('SIGKILL');
}

/**
 * One round for one server: start, check the protocol's answer, warm up, measure. Returns the
 * sample; throws with the reason when the server breaks the protocol or dies.
 */
async function measure(server, round, options, hz) {
  const proc = await startServer(server, options.serverCpu);
  try {
    const wrong = await checkHello(proc.port);
    if (wrong) throw new Error(`${server.name} breaks the server protocol: ${wrong}`);
    const url = `http://127.0.0.1:${proc.port}/`;
    const load = { cpu: options.wrkCpu, threads: options.threads, connections: options.connections, url };
    await runWrk({ ...load, duration: options.warmup });
    const busyBefore = [cpuBusyTicks(options.serverCpu), cpuBusyTicks(options.wrkCpu)];
    const wrkBefore = reapedChildrenTicks();
    const before = cpuTicks(proc.pid);
    const result = await runWrk({ ...load, duration: options.duration });
    const after = cpuTicks(proc.pid);
    const wrkTicks = reapedChildrenTicks() - wrkBefore; // wrk was reaped when runWrk resolved
    const busy = [cpuBusyTicks(options.serverCpu) - busyBefore[0], cpuBusyTicks(options.wrkCpu) - busyBefore[1]];
    if (proc.exited) throw new Error(`${server.name} exited during the run (${JSON.stringify(proc.exited)})`);
    const cpuSeconds = (after - before) / hz;
    const errors = Object.values(result.socketErrors).reduce((a, b) => a + b, 0) + result.non2xx;
    return {
      server: server.name,
      round,
      requestsPerSec: result.requestsPerSec,
      requests: result.requests,
      seconds: result.seconds,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      cpuTicks: after - before,
      cpuSeconds,
      cpuUsPerRequest: (cpuSeconds * 1e6) / result.requests,
      cpuShare: cpuSeconds / result.seconds,
      wrkShare: wrkTicks / hz / result.seconds,
      // The server's CPU and wrk's were busy with something else (another process, steal,
      // softirq work charged to no process) for these shares of the run: a disturbed round shows here.
      otherShare: Math.max(0, busy[0] - (after - before)) / hz / result.seconds,
      wrkOtherShare: Math.max(0, busy[1] - wrkTicks) / hz / result.seconds,
      socketErrors: result.socketErrors,
      non2xx: result.non2xx,
      errors,
    };
  } finally {
    const stopped = await proc.stop();
    if (!stopped.clean) {
      log(`  note: ${server.name} did not exit cleanly on SIGTERM (${stopped.signal ?? `exit code ${stopped.code}`})`);
    }
  }
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    log(USAGE);
    return 0;
  }
  log(`command: ${commandLine()}`);
  try {
    requireTool('wrk', 'apt-get install wrk');
    requireTool('taskset', 'apt-get install util-linux');
    requireTool('flock', 'apt-get install util-linux');
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  const cpus = availableParallelism();
  if (Math.max(options.serverCpu, options.wrkCpu) >= cpus || options.serverCpu === options.wrkCpu) {
    process.stderr.write(`--server-cpu ${options.serverCpu} and --wrk-cpu ${options.wrkCpu} must be two different CPUs of the ${cpus} here\n`);
    return 2;
  }

  // Which servers: missing ones are skipped and said so; the baseline must exist.
  let names = options.servers === 'all' ? listServers(SERVERS_DIR) : options.servers;
  if (!names.includes(options.baseline)) {
    log(`note: the baseline ${options.baseline} was not in --servers; it is measured too, first`);
    names = [options.baseline, ...names];
  }
  const servers = [];
  for (const name of names) {
    const server = findServer(SERVERS_DIR, name, options.nodeArgs);
    if (server && servers.some((other) => other.name === server.name)) {
      process.stderr.write(`two servers are named ${server.name}: rename one file\n`);
      return 2;
    }
    if (server) servers.push(server);
    else if (name.includes('/')) log(`skipped: ${name}: no such .mjs, .js or .py file`);
    else {
      const where = relative(process.cwd(), SERVERS_DIR);
      log(`skipped: ${name}: there is no ${where}/${name}.mjs, .js or .py (there are: ${listServers(SERVERS_DIR).join(', ')})`);
    }
  }
  if (!servers.some((server) => server.name === options.baseline)) {
    process.stderr.write(`the baseline ${options.baseline} has no server script: no ratios can be taken\n`);
    return 2;
  }

  await holdBenchLock(LOCK, log);
  const hz = clockTicksPerSecond();
  log(`machine: ${describeMachine(hz)}`);
  log(`server:  taskset -c ${options.serverCpu} <server>  (PORT=0; ${servers.map((s) => `${s.name}: ${[s.command, ...s.args].join(' ')}`).join('; ')})`);
  log(`load:    taskset -c ${options.wrkCpu} ${wrkArgs({ ...options, url: 'http://127.0.0.1:<port>/' }).join(' ')}`);
  log(
    `method:  ${options.runs} rounds; each round starts every server afresh, checks GET /, warms it up for ${options.warmup} (not counted), ` +
      `then measures ${options.duration} with server CPU from /proc/<pid>/stat; server order rotates each round`,
  );
  const seconds = options.runs * servers.length * (parseDuration(options.warmup) + parseDuration(options.duration) + 1);
  log(`expect:  about ${seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`}`);
  log();

  const samples = [];
  const failures = new Map();
  const nameWidth = Math.max(...servers.map((server) => server.name.length));
  for (let round = 1; round <= options.runs; round++) {
    const shift = (round - 1) % servers.length;
    const order = [...servers.slice(shift), ...servers.slice(0, shift)].filter((server) => !failures.has(server.name));
    for (const server of order) {
      try {
        const sample = await measure(server, round, options, hz);
        samples.push(sample);
        const errors = sample.errors > 0 ? `  ERRORS: ${JSON.stringify(sample.socketErrors)}, non-2xx ${sample.non2xx}` : '';
        log(
          `round ${round}/${options.runs}  ${server.name.padEnd(nameWidth)} ${Math.round(sample.requestsPerSec).toLocaleString('en-US').padStart(8)} req/s` +
            `  p99 ${sample.p99Ms.toFixed(2)} ms  ${sample.cpuUsPerRequest.toFixed(2)} us CPU/req  CPU ${pct(sample.cpuShare)}  wrk ${pct(sample.wrkShare)}` +
            `  other ${pct(sample.otherShare)}/${pct(sample.wrkOtherShare)}${sample.otherShare + sample.wrkOtherShare > DISTURBED ? '  (disturbed)' : ''}${errors}`,
        );
      } catch (error) {
        failures.set(server.name, error.message);
        log(`round ${round}/${options.runs}  ${server.name}: FAILED, left out of the remaining rounds:\n${error.message}`);
      }
    }
  }

  const summaries = summarizeAll(servers, samples, options.baseline);
  log();
  log(`medians of ${options.runs} rounds (${options.duration} each, ${options.connections} connections); "paired" is the median of per-round ratios; CPU = server CPU time / wall time;`);
  log('other = share of the run the server\'s / wrk\'s CPU spent on anything else (other processes, steal)');
  log(formatTable(summaries, options.baseline));
  // On a shared machine, the same medians over the rounds nobody disturbed: a check on the figure
  // above, never a replacement for it (the runs column says how few rounds it stands on).
  const calm = samples.filter((sample) => sample.otherShare + sample.wrkOtherShare <= DISTURBED);
  const calmSummaries = summarizeAll(servers, calm, options.baseline);
  if (calm.length < samples.length && calmSummaries.length > 0) {
    log();
    log(`the same over the ${calm.length} of ${samples.length} measurements that were not disturbed (other <= ${pct(DISTURBED)}):`);
    log(formatTable(calmSummaries, options.baseline));
  }
  for (const [name, why] of failures) log(`FAILED: ${name}: ${why.split('\n')[0]}`);
  if (options.json) {
    const json = { command: commandLine(), options, summaries, undisturbedSummaries: calmSummaries, samples, failures: Object.fromEntries(failures) };
    writeFileSync(options.json, `${JSON.stringify(json, null, 2)}\n`);
    log(`wrote ${options.json}`);
  }
  return failures.size > 0 ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    killChildren();
    process.exit(130);
  });
}
process.on('exit', killChildren);

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    killChildren();
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exitCode = 1;
  },
);
