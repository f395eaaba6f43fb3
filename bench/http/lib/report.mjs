// From samples to the summary table: medians per server, and ratios to the baseline's medians
// from the same run.
import { median, range } from './stats.mjs';

/**
 * One server's summary from its samples. `perRequestCpuUs` is server CPU time (utime+stime)
 * over the measured wrk run divided by the requests wrk completed; `cpuShare` is that CPU time
 * over the run's wall time (1 = one core busy throughout).
 */
export function summarize(name, samples) {
  const field = (key) => samples.map((sample) => sample[key]);
  const [minRps, maxRps] = range(field('requestsPerSec'));
  return {
    server: name,
    runs: samples.length,
    requestsPerSec: median(field('requestsPerSec')),
    minRequestsPerSec: minRps,
    maxRequestsPerSec: maxRps,
    p50Ms: median(field('p50Ms')),
    p99Ms: median(field('p99Ms')),
    cpuUsPerRequest: median(field('cpuUsPerRequest')),
    cpuShare: median(field('cpuShare')),
    wrkShare: median(field('wrkShare')),
    otherShare: median(field('otherShare')),
    wrkOtherShare: median(field('wrkOtherShare')),
    errors: samples.reduce((sum, sample) => sum + sample.errors, 0),
  };
}

/**
 * Add to each summary its ratios to `baseline`'s: of the median req/s and of the median CPU time
 * per request, and the median of the per-round req/s ratios (rounds where both were measured), a
 * check on the ratio of medians.
 */
export function addRatios(summaries, samples, baseline) {
  const base = summaries.find((summary) => summary.server === baseline);
  const baseByRound = new Map(samples.filter((s) => s.server === baseline).map((s) => [s.round, s.requestsPerSec]));
  for (const summary of summaries) {
    if (!base) {
      Object.assign(summary, { rpsRatio: Number.NaN, cpuRatio: Number.NaN, pairedRpsRatio: Number.NaN });
      continue;
    }
    const paired = samples
      .filter((s) => s.server === summary.server && baseByRound.has(s.round))
      .map((s) => s.requestsPerSec / baseByRound.get(s.round));
    summary.rpsRatio = summary.requestsPerSec / base.requestsPerSec;
    summary.cpuRatio = summary.cpuUsPerRequest / base.cpuUsPerRequest;
    summary.pairedRpsRatio = median(paired);
  }
  return summaries;
}

const fixed = (digits) => (value) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const thousands = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-');
const times = (value) => (Number.isFinite(value) ? `${value.toFixed(3)}x` : '-');
const percent = (value) => (Number.isFinite(value) ? `${Math.round(value * 100)}%` : '-');

/** The table, one row per summary, columns aligned. */
export function formatTable(summaries, baseline) {
  const header = ['server', 'runs', 'req/s median', 'min-max', `vs ${baseline}`, 'paired', 'p99 ms', 'CPU us/req', `vs ${baseline}`, 'CPU', 'wrk CPU', 'other', 'errors'];
  const rows = summaries.map((s) => [
    s.server,
    String(s.runs),
    thousands(s.requestsPerSec),
    `${thousands(s.minRequestsPerSec)}-${thousands(s.maxRequestsPerSec)}`,
    times(s.rpsRatio),
    times(s.pairedRpsRatio),
    fixed(2)(s.p99Ms),
    fixed(2)(s.cpuUsPerRequest),
    times(s.cpuRatio),
    percent(s.cpuShare),
    percent(s.wrkShare),
    `${percent(s.otherShare)}/${percent(s.wrkOtherShare)}`,
    String(s.errors),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}
