// Running wrk pinned to a CPU and reading its `--latency` report.
import { spawn } from 'node:child_process';

const TIME_UNITS_US = { us: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 };

/** A wrk time (`850.12us`, `2.04ms`, `1.00s`, `1.50m`) in milliseconds. */
export function parseWrkTime(text) {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new Error(`not a wrk time: ${JSON.stringify(text)}`);
  return (Number(match[1]) * TIME_UNITS_US[match[2]]) / 1e3;
}

/**
 * A `-d` duration as wrk takes it (`5s`, `2m`, `1h`, or bare seconds), in seconds; throws on
 * anything else, so a typo fails before any server starts.
 */
export function parseDuration(text) {
  const match = /^(\d+)(s|m|h)?$/.exec(String(text).trim());
  if (!match || Number(match[1]) === 0) throw new Error(`a duration is a positive whole number with s, m or h (like 5s), got ${JSON.stringify(text)}`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] ?? 's'];
}

/**
 * The figures of a `wrk --latency` report: requests and seconds from "N requests in T", the
 * Requests/sec line, the latency percentiles in ms, socket errors and non-2xx/3xx responses
 * (0 when wrk printed no such line). Throws when the report lacks the lines every run prints.
 */
export function parseWrkOutput(text) {
  const total = /^\s*(\d+) requests in ([\d.]+(?:us|ms|s|m|h)),/m.exec(text);
  const rate = /^Requests\/sec:\s*([\d.]+)/m.exec(text);
  if (!total || !rate) throw new Error(`wrk printed no result:\n${text}`);
  const latency = {};
  const distribution = /Latency Distribution\n((?:\s+\d+%\s+\S+\n?)+)/.exec(text);
  if (distribution) {
    for (const line of distribution[1].trim().split('\n')) {
      const [percent, time] = line.trim().split(/\s+/);
      latency[`p${percent.replace('%', '')}`] = parseWrkTime(time);
    }
  }
  const sockets = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    requests: Number(total[1]),
    seconds: parseWrkTime(total[2]) / 1e3,
    requestsPerSec: Number(rate[1]),
    latency,
    socketErrors: sockets
      ? { connect: Number(sockets[1]), read: Number(sockets[2]), write: Number(sockets[3]), timeout: Number(sockets[4]) }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}

/** The argument list of one wrk run (after `taskset -c <cpu>`). */
export function wrkArgs({ threads, connections, duration, url }) {
  return ['wrk', `-t${threads}`, `-c${connections}`, `-d${duration}`, '--latency', url];
}

/** The processes started here, so the harness can end them if it is interrupted. */
export const runningWrk = new Set();

/** Run wrk pinned to `cpu`; resolves with its parsed report and raw text, rejects if it fails. */
export function runWrk({ cpu, ...options }) {
  const args = ['-c', String(cpu), ...wrkArgs(options)];
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    runningWrk.add(child);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (err += chunk));
    child.on('error', (error) => {
      runningWrk.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      runningWrk.delete(child);
      if (code !== 0) {
        reject(new Error(`taskset ${args.join(' ')} exited with ${signal ?? code}:\n${err}${out}`));
        return;
      }
      try {
        resolve({ ...parseWrkOutput(out), text: out });
      } catch (error) {
        reject(error);
      }
    });
  });
}
