// The harness's command line.
import { parseDuration } from './wrk.mjs';

export const USAGE = `usage: node bench/http/compare.mjs [options]
  --servers a,b,...   servers from bench/http/servers/ to compare, or "all" (default: node-raw,libuv);
                      a name with a "/" is a server file anywhere, named after its file
  --baseline name     the server the ratios are taken against (default: node-raw)
  --runs N            rounds; each starts every server afresh (default: 5, at least 5 for a figure you quote)
  --duration T        wrk -d of each measured run, like 5s (default: 5s)
  --warmup T          wrk run before each measured one, not counted (default: 2s)
  --connections N     wrk -c (default: 50)
  --threads N         wrk -t (default: 1)
  --server-cpu N      CPU the servers are pinned to with taskset (default: 0)
  --wrk-cpu N         CPU wrk is pinned to (default: 1)
  --node-args "..."   extra node options for .mjs/.js servers, like "--cpu-prof --cpu-prof-dir=/tmp/prof"
  --json path         also write every sample and the summary as JSON
  --help              this text`;

const DEFAULTS = {
  servers: 'node-raw,libuv',
  baseline: 'node-raw',
  runs: '5',
  duration: '5s',
  warmup: '2s',
  connections: '50',
  threads: '1',
  'server-cpu': '0',
  'wrk-cpu': '1',
  'node-args': '',
  json: '',
};

function positiveInteger(name, text, min = 1) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got ${JSON.stringify(text)}`);
  return value;
}

/**
 * Parse `argv` (the arguments after the script). `--name value` and `--name=value` both work.
 * Returns the options with numbers parsed, or `{ help: true }`; throws with a message on anything
 * unknown or malformed.
 */
export function parseArgs(argv) {
  const raw = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return { help: true };
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!match || !(match[1] in DEFAULTS)) throw new Error(`unknown argument ${JSON.stringify(arg)}`);
    let value = match[2];
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new Error(`--${match[1]} needs a value`);
      value = argv[++i];
    }
    raw[match[1]] = value;
  }
  parseDuration(raw.duration);
  parseDuration(raw.warmup);
  const servers = raw.servers === 'all' ? 'all' : raw.servers.split(',').map((name) => name.trim()).filter(Boolean);
  if (servers !== 'all' && servers.length === 0) throw new Error('--servers names no server');
  if (servers !== 'all' && new Set(servers).size !== servers.length) throw new Error('--servers names a server twice');
  return {
    help: false,
    servers,
    baseline: raw.baseline,
    runs: positiveInteger('runs', raw.runs),
    duration: raw.duration,
    warmup: raw.warmup,
    connections: positiveInteger('connections', raw.connections),
    threads: positiveInteger('threads', raw.threads),
    serverCpu: positiveInteger('server-cpu', raw['server-cpu'], 0),
    wrkCpu: positiveInteger('wrk-cpu', raw['wrk-cpu'], 0),
    nodeArgs: raw['node-args'].split(/\s+/).filter(Boolean),
    json: raw.json || undefined,
  };
}
