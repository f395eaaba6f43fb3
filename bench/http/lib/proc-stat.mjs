// CPU time of a process from /proc/<pid>/stat (proc(5)): utime and stime are fields 14 and 15, in
// clock ticks, summed over all of the process's threads (V8's GC and compiler threads included),
// which is the cost we want to charge to the server.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * The fields of a /proc/<pid>/stat line that we use. The command name (field 2) is in parentheses
 * and may itself hold spaces and ')', so fields are counted from the last ')'.
 */
export function parseProcStat(text) {
  const close = text.lastIndexOf(')');
  const open = text.indexOf('(');
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(text.slice(0, 80))}`);
  const fields = text.slice(close + 2).trim().split(/\s+/); // fields[0] is field 3, state
  if (fields.length < 15) throw new Error(`/proc/<pid>/stat line too short: ${JSON.stringify(text.slice(0, 80))}`);
  const number = (index, name) => {
    const value = Number(fields[index]);
    if (!Number.isInteger(value)) throw new Error(`/proc/<pid>/stat field ${name} is not an integer: ${fields[index]}`);
    return value;
  };
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: fields[0],
    ppid: number(1, 'ppid'),
    utime: number(11, 'utime'),
    stime: number(12, 'stime'),
    cutime: number(13, 'cutime'),
    cstime: number(14, 'cstime'),
  };
}

/** Read /proc/<pid>/stat; throws (ENOENT) once the process is gone. */
export function readProcStat(pid) {
  return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** utime + stime of `pid`, in clock ticks. */
export function cpuTicks(pid) {
  const stat = readProcStat(pid);
  return stat.utime + stat.stime;
}

/**
 * CPU time of the children this process has waited for (cutime + cstime of /proc/self/stat), in
 * clock ticks: it grows by a child's whole CPU time when Node reaps it, which is how the harness
 * learns what a wrk run cost, after wrk is gone.
 */
export function reapedChildrenTicks() {
  const stat = readProcStat('self');
  return stat.cutime + stat.cstime;
}

/** Clock ticks per second (`getconf CLK_TCK`), the unit of utime and stime. */
export function clockTicksPerSecond() {
  const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  if (!Number.isInteger(hz) || hz <= 0) throw new Error(`getconf CLK_TCK gave ${hz}`);
  return hz;
}

/**
 * Busy clock ticks of CPU `cpu` from a /proc/stat text (its `cpuN` line: user, nice, system, idle,
 * iowait, irq, softirq, steal, ...): everything but idle and iowait. Steal counts as busy, since a
 * vCPU the hypervisor gave to someone else was not running our server either.
 */
export function parseCpuBusyTicks(procStat, cpu) {
  const line = procStat.split('\n').find((candidate) => candidate.startsWith(`cpu${cpu} `));
  if (!line) throw new Error(`/proc/stat has no cpu${cpu} line`);
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return user + nice + system + irq + softirq + (steal ?? 0);
}

/** Busy clock ticks of CPU `cpu` since boot. */
export function cpuBusyTicks(cpu) {
  return parseCpuBusyTicks(readFileSync('/proc/stat', 'utf8'), cpu);
}
