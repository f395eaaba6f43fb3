#!/usr/bin/env node
// Where a server's CPU time goes, from a `.cpuprofile` written by `node --cpu-prof` (for instance
// by `compare.mjs --node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"`):
//
//   node bench/http/profile-top.mjs <file.cpuprofile> [--top N] [--match text]
//
// Prints the functions with the most self time, then the inclusive ("total") time of every
// function whose script URL or name contains --match (default: "packages/", our own code), both
// as shares of the busy (non-idle) time. Inclusive time counts a function once per sample even
// when it recurses. Only compare profiles with each other: the profiler slows the server down.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args.splice(index, 2)[1] : fallback;
};
const top = Number(option('top', 25));
const match = option('match', 'packages/');
if (args.length !== 1) {
  process.stderr.write('usage: node bench/http/profile-top.mjs <file.cpuprofile> [--top N] [--match text]\n');
  process.exit(2);
}

const profile = JSON.parse(readFileSync(args[0], 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const short = (url) => url.replace(/^file:\/\//, '').replace(/^.*\/(packages|node_modules|bench)\//, '$1/');
const keyOf = (frame) => `${frame.functionName || '(anonymous)'}  ${frame.url ? `${short(frame.url)}:${frame.lineNumber + 1}` : ''}`.trim();
const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);

const self = new Map();
const total = new Map();
let busy = 0;
let idle = 0;
const add = (map, key, us) => map.set(key, (map.get(key) ?? 0) + us);
for (let i = 0; i < profile.samples.length; i++) {
  const us = profile.timeDeltas[i + 1] ?? 0; // a sample's time is the delta to the next one
  const node = byId.get(profile.samples[i]);
  if (node.callFrame.functionName === '(idle)') {
    idle += us;
    continue;
  }
  busy += us;
  add(self, keyOf(node.callFrame), us);
  const seen = new Set();
  for (let id = node.id; id !== undefined; id = parent.get(id)) {
    const key = keyOf(byId.get(id).callFrame);
    if (seen.has(key)) continue;
    seen.add(key);
    add(total, key, us);
  }
}

const share = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
console.log(`${args[0]}: busy ${ms(busy).trim()}, idle ${ms(idle).trim()}`);
console.log(`\nself time, top ${top} (share of busy time):`);
for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${share(us)} ${ms(us)}  ${key}`);
console.log(`\ninclusive time of functions matching ${JSON.stringify(match)}:`);
for (const [key, us] of [...total].filter(([key]) => key.includes(match) && !IDLE.has(key)).sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${share(us)} ${ms(us)}  ${key}  (self ${share(self.get(key) ?? 0).trim()})`);
}
