import { describe, expect, it } from 'vitest';
import { parseArgs } from './args.mjs';

describe('parseArgs', () => {
  it('has the defaults of the method: node-raw and libuv, 5 rounds of 5 s at 50 connections', () => {
    expect(parseArgs([])).toMatchObject({
      servers: ['node-raw', 'libuv'],
      baseline: 'node-raw',
      runs: 5,
      duration: '5s',
      warmup: '2s',
      connections: 50,
      threads: 1,
      serverCpu: 0,
      wrkCpu: 1,
      nodeArgs: [],
      json: undefined,
    });
  });

  it('takes --name value and --name=value alike', () => {
    const options = parseArgs(['--servers', 'a,b', '--runs=7', '--node-args', '--cpu-prof --cpu-prof-dir=/tmp/p', '--json=out.json']);
    expect(options.servers).toEqual(['a', 'b']);
    expect(options.runs).toBe(7);
    expect(options.nodeArgs).toEqual(['--cpu-prof', '--cpu-prof-dir=/tmp/p']);
    expect(options.json).toBe('out.json');
  });

  it('refuses unknown options, bad numbers, bad durations and a server named twice', () => {
    expect(() => parseArgs(['--run', '5'])).toThrow(/unknown argument/);
    expect(() => parseArgs(['--runs', '0'])).toThrow(/--runs must be an integer >= 1/);
    expect(() => parseArgs(['--connections', 'many'])).toThrow(/--connections/);
    expect(() => parseArgs(['--duration', '5ms'])).toThrow(/duration/);
    expect(() => parseArgs(['--servers', 'a,a'])).toThrow(/twice/);
    expect(() => parseArgs(['--json'])).toThrow(/needs a value/);
  });

  it('asks for help', () => {
    expect(parseArgs(['--help'])).toEqual({ help: true });
  });
});
