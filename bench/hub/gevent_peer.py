"""The gevent side of bench/hub/compare.mjs: the same three measurements, with Debian's
python3-gevent. Run as `/usr/bin/python3 bench/hub/gevent_peer.py <case> <n>`; prints one JSON
line. One measurement per process, so that memory figures start from a clean interpreter.

Cases (n is the size):
  sleep0      two greenlets each call sleep(0) n times: round trips per second (n / time)
  spawn-join  spawn a trivial greenlet and join it, n times, from a greenlet: microseconds each
  event       n greenlets wait on one Event: RSS growth while they wait (MB), and the time from
              set() until all of them have run (ms)
"""
import gc
import json
import sys
import time

import gevent
from gevent.event import Event


def rss_mb():
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return float('nan')


def sleep0(n):
    def worker(count):
        for _ in range(count):
            gevent.sleep(0)
    gevent.joinall([gevent.spawn(worker, n // 10), gevent.spawn(worker, n // 10)])  # warm up
    start = time.perf_counter()
    gevent.joinall([gevent.spawn(worker, n), gevent.spawn(worker, n)])
    seconds = time.perf_counter() - start
    return {'roundTripsPerSecond': n / seconds}


def trivial():
    pass


def spawn_join(n):
    def loop(count):
        for _ in range(count):
            gevent.spawn(trivial).join()
    gevent.spawn(loop, n // 10).join()  # warm up
    start = time.perf_counter()
    gevent.spawn(loop, n).join()
    seconds = time.perf_counter() - start
    return {'microsecondsEach': seconds / n * 1e6}


def event(n):
    flag = Event()

    def waiter():
        flag.wait()

    gc.collect()
    before = rss_mb()
    waiters = [gevent.spawn(waiter) for _ in range(n)]
    gevent.sleep(0)  # every waiter runs and blocks on the event
    gc.collect()
    during = rss_mb()
    start = time.perf_counter()
    flag.set()
    gevent.joinall(waiters)
    seconds = time.perf_counter() - start
    return {'rssGrowthMB': during - before, 'wakeAllMs': seconds * 1000}


CASES = {'sleep0': sleep0, 'spawn-join': spawn_join, 'event': event}

if __name__ == '__main__':
    case, size = sys.argv[1], int(sys.argv[2])
    result = CASES[case](size)
    result.update({'peer': 'gevent', 'version': gevent.__version__, 'case': case, 'n': size})
    print(json.dumps(result))
