"""Freshness: how long after ``run.log()`` a step can be seen, beside the Pushgateway + Prometheus path.

- losswatch: a loop logs a step every millisecond (a fast training loop) for ``--seconds``; a live WebSocket
  subscriber in another process (ws_subscriber.py, max_hz 20 as the page uses) notes when each frame arrives.
  A step's freshness is the time from its ``log()`` call until a frame holds it or a newer step.
- Pushgateway: a loop pushes a gauge (its value: the push's time) every 100 ms to Debian's prometheus-pushgateway,
  which Debian's Prometheus scrapes every 5 s; a poller queries Prometheus every 50 ms. A push's freshness is the
  time from ``push_to_gateway`` until a query returns its value or a newer one.

Both use the machine's wall clock (time.time) on one host. Prints p50, p99 and max of each.

    mvn -B package -DskipTests
    apt-get install python3-prometheus-client prometheus-pushgateway prometheus
    /usr/bin/python3 clients/python/bench/freshness.py [--seconds 30]
"""

import argparse
import bisect
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import _procs

import losswatch

HERE = os.path.dirname(os.path.abspath(__file__))


def percentiles(xs):
    s = sorted(xs)
    return {"n": len(s), "p50": s[len(s) // 2], "p99": s[int(len(s) * 0.99)], "max": s[-1]}


def first_seen(sent, seen):
    """For each (time, key) sent, the delay until the first (time, key') seen with key' >= key; seen in time
    order. Keys that were never seen are left out."""
    out = []
    best = []   # running max of seen keys, with times
    for t, k in seen:
        if not best or k > best[-1][1]:
            best.append((t, k))
    keys = [k for _, k in best]
    for t, k in sent:
        i = bisect.bisect_left(keys, k)
        if i < len(best):
            out.append(max(0.0, best[i][0] - t))
    return out


def losswatch_freshness(seconds, max_hz):
    url = _procs.losswatch()
    sub = subprocess.Popen([sys.executable, os.path.join(HERE, "ws_subscriber.py"), url, str(max_hz)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert sub.stdout.readline().strip() == "ready"
    seen = []
    reader = threading.Thread(target=lambda: [seen.append((float(a), int(b))) for a, b in
                                              (line.split() for line in sub.stdout)], daemon=True)
    reader.start()
    run = losswatch.init(name="bench-freshness", url=url, quiet=True)
    sent = []
    n = int(seconds * 1000)
    start = time.monotonic()
    for step in range(1, n + 1):
        while time.monotonic() < start + step / 1000.0:   # a 1 ms training step
            pass
        sent.append((time.time(), step))
        run.log(step, loss=1.0 / step, lr=0.1, grad_norm=1.0)
    run.finish()
    time.sleep(0.5)   # the last frames: not synchronisation, they are only counted if they came
    sub.stdin.close()
    sub.wait(10)
    reader.join(5)
    return percentiles([1000 * d for d in first_seen(sent, seen)])


def pushgateway_freshness(seconds):
    from prometheus_client import CollectorRegistry, Gauge, push_to_gateway
    gateway = _procs.pushgateway()
    prom = _procs.prometheus([gateway], "5s")
    reg = CollectorRegistry()
    g = Gauge("bench_pushed_at", "when this value was pushed", registry=reg)
    seen = []
    done = threading.Event()

    def poll():
        q = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": "bench_pushed_at"})
        while not done.is_set():
            r = json.load(urllib.request.urlopen(q, timeout=5))["data"]["result"]
            if r:
                seen.append((time.time(), float(r[0]["value"][1])))
            time.sleep(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    sent = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.time()
        g.set(t)
        push_to_gateway(gateway, job="bench", registry=reg)
        sent.append((t, t))
        time.sleep(0.1)
    time.sleep(6)   # one more scrape, so the last pushes can be seen
    done.set()
    poller.join(5)
    return percentiles([1000 * d for d in first_seen(sent, seen)])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--max-hz", type=int, default=20)
    args = p.parse_args()
    lw = losswatch_freshness(args.seconds, args.max_hz)
    pg = pushgateway_freshness(max(args.seconds, 60))
    print("\n%s\n" % _procs.machine())
    print("| path | samples | p50 | p99 | max |")
    print("|---|---|---|---|---|")
    print("| losswatch: `run.log()` → live WebSocket frame (max_hz %d) | %d | %.0f ms | %.0f ms | %.0f ms |"
          % (args.max_hz, lw["n"], lw["p50"], lw["p99"], lw["max"]))
    print("| `push_to_gateway` → Prometheus query (scrape every 5 s) | %d | %.0f ms | %.0f ms | %.0f ms |"
          % (pg["n"], pg["p50"], pg["p99"], pg["max"]))


if __name__ == "__main__":
    main()
