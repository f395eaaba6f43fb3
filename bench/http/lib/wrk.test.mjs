import { describe, expect, it } from 'vitest';
import { parseDuration, parseWrkOutput, parseWrkTime, wrkArgs } from './wrk.mjs';

// Real reports of wrk 4.1.0 (debian/4.1.0-3+b2), the second with the error lines wrk adds.
const CLEAN = `Running 1s test @ http://127.0.0.1:41761/
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   231.81us  627.11us  12.54ms   94.99%
    Req/Sec    84.74k    28.01k  101.50k    81.82%
  Latency Distribution
     50%   93.00us
     75%  147.00us
     90%  244.00us
     99%    3.03ms
  92278 requests in 1.10s, 14.08MB read
Requests/sec:  83913.20
Transfer/sec:     12.80MB
`;

const WITH_ERRORS = `Running 1s test @ http://127.0.0.1:18777/
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   300.62us  120.69us   2.25ms   87.08%
    Req/Sec    17.90k     3.05k   20.82k    81.82%
  Latency Distribution
     50%  270.00us
     75%  292.00us
     90%  393.00us
     99%  749.00us
  19592 requests in 1.10s, 2.20MB read
  Socket errors: connect 0, read 12, write 1, timeout 3
  Non-2xx or 3xx responses: 19592
Requests/sec:  17810.36
Transfer/sec:      2.00MB
`;

describe('parseWrkTime', () => {
  it('converts every unit wrk prints to milliseconds', () => {
    expect(parseWrkTime('93.00us')).toBeCloseTo(0.093, 9);
    expect(parseWrkTime('3.03ms')).toBeCloseTo(3.03, 9);
    expect(parseWrkTime('1.10s')).toBeCloseTo(1100, 9);
    expect(parseWrkTime('1.50m')).toBeCloseTo(90_000, 6);
  });

  it('refuses a time without a unit', () => {
    expect(() => parseWrkTime('3.03')).toThrow(/not a wrk time/);
  });
});

describe('parseWrkOutput', () => {
  it('reads requests, duration, rate and the latency percentiles of a clean report', () => {
    const report = parseWrkOutput(CLEAN);
    expect(report.requests).toBe(92278);
    expect(report.seconds).toBeCloseTo(1.1, 9);
    expect(report.requestsPerSec).toBe(83913.2);
    expect(report.latency.p50).toBeCloseTo(0.093, 9);
    expect(report.latency.p75).toBeCloseTo(0.147, 9);
    expect(report.latency.p90).toBeCloseTo(0.244, 9);
    expect(report.latency.p99).toBeCloseTo(3.03, 9);
    expect(report.socketErrors).toEqual({ connect: 0, read: 0, write: 0, timeout: 0 });
    expect(report.non2xx).toBe(0);
  });

  it('reads socket errors and non-2xx responses when wrk reports them', () => {
    const report = parseWrkOutput(WITH_ERRORS);
    expect(report.requests).toBe(19592);
    expect(report.latency.p99).toBeCloseTo(0.749, 9);
    expect(report.socketErrors).toEqual({ connect: 0, read: 12, write: 1, timeout: 3 });
    expect(report.non2xx).toBe(19592);
  });

  it('throws, quoting the text, when wrk printed no result', () => {
    expect(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n')).toThrow(/Connection refused/);
  });
});

describe('parseDuration', () => {
  it('takes whole seconds, minutes and hours, and bare numbers as seconds', () => {
    expect(parseDuration('5s')).toBe(5);
    expect(parseDuration('2m')).toBe(120);
    expect(parseDuration('1h')).toBe(3600);
    expect(parseDuration('7')).toBe(7);
  });

  it('refuses zero, fractions and unknown units', () => {
    for (const bad of ['0s', '1.5s', '500ms', 's', '']) expect(() => parseDuration(bad)).toThrow(/duration/);
  });
});

describe('wrkArgs', () => {
  it('builds the wrk command line of the method, with --latency', () => {
    expect(wrkArgs({ threads: 1, connections: 50, duration: '5s', url: 'http://127.0.0.1:8080/' })).toEqual([
      'wrk',
      '-t1',
      '-c50',
      '-d5s',
      '--latency',
      'http://127.0.0.1:8080/',
    ]);
  });
});
