"""All mode to one recorder in its own process (issue 25's first two rows): Debian's python3-websockets reads every
step of a run, checks each is the next, and times it; first while the run is followed live (subscribed before it
is created, unthrottled), then replaying the finished run from step 1.

    /usr/bin/python3 clients/python/bench/recorder.py http://127.0.0.1:8080 [--steps 1000000] [--format binary|json]

Prints one JSON line per phase: {"phase", "format", "steps", "seconds", "steps_per_second", "messages", "bytes"}
(and for the live phase "run_seconds": the run's own time from created to finished).
The recorder decodes what it reads (json.loads, or the binary columns with losswatch's decoder), as a real one would.
"""

import argparse
import asyncio
import datetime
import json
import os
import sys
import time
import urllib.request

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from losswatch._follow import decode  # noqa: E402

ENDED = ("finished", "failed", "stopped", "diverged")


def iso(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def call(url, method, path, body=None):
    req = urllib.request.Request(url + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


async def record(url, fmt, run, create=None):
    """Reads `run` (or the run `create()` makes once subscribed) in all mode until it ended and every step came."""
    ws_url = "ws" + url[4:] + "/ws"
    async with websockets.connect(ws_url, max_size=2 ** 22, compression=None) as ws:
        await ws.send(json.dumps({"op": "subscribe", "runs": [run or "*"], "mode": "all", "format": fmt}))
        if create:
            await ws.send(json.dumps({"op": "barrier"}))   # its error says the subscribe is in place
            while "barrier" not in str(await ws.recv()):
                pass
            run = create()
        nxt, last, start, messages, size, took = 1, None, None, 0, 0, 0.0
        while last is None or nxt <= last:
            m = await ws.recv()
            size += len(m)
            if isinstance(m, bytes):
                for s in decode(m)[3]:
                    if s.run != run:
                        continue
                    if s.step[0] != nxt:
                        raise SystemExit("step %d came after %d" % (s.step[0], nxt - 1))
                    nxt = s.step[-1] + 1
                    start = start or time.perf_counter()
                    messages += 1
                continue
            m = json.loads(m)
            if m.get("type") == "steps" and m.get("run") == run:
                if m["step"][0] != nxt:
                    raise SystemExit("step %d came after %d" % (m["step"][0], nxt - 1))
                nxt = m["step"][-1] + 1
                start = start or time.perf_counter()
                messages += 1
            elif m.get("type") == "run" and m["run"]["id"] == run and m["run"]["state"] in ENDED:
                last = m["run"]["step"]
                took = iso(m["run"]["updated"]) - iso(m["run"]["created"])
        end = time.perf_counter()
        return run, nxt - 1, end - start, messages, size, took


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--steps", type=int, default=1000000)
    p.add_argument("--format", default="binary", choices=["binary", "json"])
    a = p.parse_args()
    url = a.url.rstrip("/")
    spec = {"problem": "rosenbrock", "optimizer": {"type": "adam", "lr": 0.001}, "steps": a.steps}
    run, n, secs, msgs, size, took = asyncio.run(record(url, a.format, None,
                                                       lambda: call(url, "POST", "/api/runs", spec)["id"]))
    # run_seconds: the run's own, created to finished: a recorder that keeps up takes about as long
    print(json.dumps({"phase": "live", "format": a.format, "steps": n, "seconds": round(secs, 3),
                      "steps_per_second": round(n / secs), "run_seconds": round(took, 3), "messages": msgs,
                      "bytes": size}), flush=True)
    run, n, secs, msgs, size, _ = asyncio.run(record(url, a.format, run))
    print(json.dumps({"phase": "replay", "format": a.format, "steps": n, "seconds": round(secs, 3),
                      "steps_per_second": round(n / secs), "messages": msgs, "bytes": size}), flush=True)


if __name__ == "__main__":
    main()
