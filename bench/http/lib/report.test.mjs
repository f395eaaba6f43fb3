import { describe, expect, it } from 'vitest';
import { addRatios, formatTable, summarize } from './report.mjs';

function sample(server, round, requestsPerSec, cpuUsPerRequest) {
  return { server, round, requestsPerSec, p50Ms: 1, p99Ms: round, cpuUsPerRequest, cpuShare: 1, wrkShare: 0.7, otherShare: 0, wrkOtherShare: 0, errors: 0 };
}

const SAMPLES = [
  sample('raw', 1, 100, 10),
  sample('ours', 1, 90, 11),
  sample('ours', 2, 99, 10),
  sample('raw', 2, 110, 10),
  sample('raw', 3, 120, 12),
  sample('ours', 3, 60, 20),
];

describe('summarize and addRatios', () => {
  const summaries = addRatios(
    ['raw', 'ours'].map((name) => summarize(name, SAMPLES.filter((s) => s.server === name))),
    SAMPLES,
    'raw',
  );
  const [raw, ours] = summaries;

  it('takes medians per server', () => {
    expect(raw.requestsPerSec).toBe(110);
    expect(ours.requestsPerSec).toBe(90);
    expect([ours.minRequestsPerSec, ours.maxRequestsPerSec]).toEqual([60, 99]);
    expect(ours.cpuUsPerRequest).toBe(11);
    expect(ours.p99Ms).toBe(2);
  });

  it('gives the ratios of the medians to the baseline, req/s and CPU per request', () => {
    expect(raw.rpsRatio).toBe(1);
    expect(ours.rpsRatio).toBeCloseTo(90 / 110, 12);
    expect(ours.cpuRatio).toBeCloseTo(11 / 10, 12);
  });

  it('gives the median of the per-round ratios, pairing rounds by number', () => {
    // rounds: 90/100, 99/110, 60/120
    expect(ours.pairedRpsRatio).toBeCloseTo(0.9, 12);
  });

  it('prints one aligned row per server under the header', () => {
    const lines = formatTable(summaries, 'raw').split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^server/);
    expect(lines[3]).toMatch(/^ours\s+3\s+90\s+60-99\s+0\.818x\s+0\.900x/);
    expect(new Set(lines.map((line) => line.length)).size).toBe(1);
  });
});
