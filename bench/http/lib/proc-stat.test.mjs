import { describe, expect, it } from 'vitest';
import { parseCpuBusyTicks, parseProcStat, readProcStat } from './proc-stat.mjs';

// proc(5) layout: pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
// cmajflt utime stime cutime cstime ...
const NODE_LINE =
  '4242 (node) S 4200 4242 4200 0 -1 4194560 9000 0 12 0 1234 567 89 10 20 0 11 0 5000 1000000 20000 18446744073709551615';

describe('parseProcStat', () => {
  it('reads utime, stime (fields 14 and 15), cutime, cstime and ppid', () => {
    expect(parseProcStat(NODE_LINE)).toEqual({ pid: 4242, comm: 'node', state: 'S', ppid: 4200, utime: 1234, stime: 567, cutime: 89, cstime: 10 });
  });

  it('counts fields from the last parenthesis, so a command name with spaces and parentheses cannot shift them', () => {
    const line = NODE_LINE.replace('(node)', '(my (odd) server 1)');
    const stat = parseProcStat(line);
    expect(stat.comm).toBe('my (odd) server 1');
    expect([stat.utime, stat.stime]).toEqual([1234, 567]);
  });

  it('refuses a truncated line', () => {
    expect(() => parseProcStat('4242 (node) S 4200 4242')).toThrow(/too short/);
  });

  it('reads this very process from /proc', () => {
    const stat = readProcStat('self');
    expect(stat.pid).toBe(process.pid);
    expect(stat.ppid).toBe(process.ppid);
  });
});

describe('parseCpuBusyTicks', () => {
  const PROC_STAT = `cpu  300 10 200 9000 50 5 15 7 0 0
cpu0 100 1 50 4000 20 2 5 3 0 0
cpu1 200 9 150 5000 30 3 10 4 0 0
intr 12345
`;

  it('sums user, nice, system, irq, softirq and steal of the one CPU, not idle or iowait', () => {
    expect(parseCpuBusyTicks(PROC_STAT, 0)).toBe(100 + 1 + 50 + 2 + 5 + 3);
    expect(parseCpuBusyTicks(PROC_STAT, 1)).toBe(200 + 9 + 150 + 3 + 10 + 4);
  });

  it('throws for a CPU the machine does not have', () => {
    expect(() => parseCpuBusyTicks(PROC_STAT, 2)).toThrow(/no cpu2 line/);
  });
});
