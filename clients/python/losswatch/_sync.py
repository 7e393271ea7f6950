"""``python3 -m losswatch sync PATH``: sends the steps a script left in a spool file (its server was away when it
ended) to the server, creating the run if the server was never reached, and says what it sent.

A spool file is what ``Run.finish()`` (or interpreter exit) leaves when the server did not take every step in
``finish_timeout``; its name is printed then. The file names its run (or the body to create it with) and the nodes
it was for; the steps the server has already are skipped by the server, so syncing twice stores nothing twice.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, TextIO, Tuple

from . import _spool, _wire
from ._http import Nodes, Unreachable, node_urls
from ._spool import Batch

BATCH = 4096
TRIES = 6   # a request answered "not now" (no answer, 502/503/504, a 409 without an ended state) is tried again


class SyncError(Exception):
    pass


def main(argv: Optional[Sequence[str]] = None, out: TextIO = sys.stdout) -> int:
    p = argparse.ArgumentParser(prog="python3 -m losswatch sync",
                                description="Send the steps a script left in a spool file to the server.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="a spool file (.jsonl), or a folder holding some")
    p.add_argument("--url", help="the server's node(s), comma-separated (default: $LOSSWATCH_URL, else the urls "
                                 "the script used)")
    p.add_argument("--token", help="the server's token (default: $LOSSWATCH_TOKEN)")
    p.add_argument("--keep", action="store_true", help="keep the file after sending it")
    p.add_argument("--force", action="store_true", help="send it although the process that wrote it still runs")
    args = p.parse_args(argv)
    files = _files(args.paths)
    if not files:
        print("losswatch sync: no spool file (*%s) in %s" % (_spool.SUFFIX, ", ".join(args.paths)), file=out)
        return 1
    failed = 0
    for path in files:
        try:
            line = sync(path, args.url or os.environ.get("LOSSWATCH_URL"),
                        args.token if args.token is not None else os.environ.get("LOSSWATCH_TOKEN"),
                        keep=args.keep, force=args.force)
        except (SyncError, OSError, ValueError) as e:
            failed += 1
            line = "%s: not sent: %s" % (path, e)
        print(line, file=out, flush=True)
    return 1 if failed else 0


def _files(paths: Sequence[str]) -> List[str]:
    out: List[str] = []
    for path in paths:
        if os.path.isdir(path):
            for folder, _, names in sorted(os.walk(path)):
                out.extend(os.path.join(folder, n) for n in sorted(names) if n.endswith(_spool.SUFFIX))
        else:
            out.append(path)
    return out


def sync(path: str, url: Optional[str], token: Optional[str], keep: bool = False, force: bool = False) -> str:
    """Sends one spool file; returns the line that says what was sent. SyncError when it could not be."""
    facts, batches = _spool.read(path)
    writer = _writer(path)
    if writer is not None and not force:
        raise SyncError("process %d that wrote it still runs (its own sender sends these steps); --force sends "
                        "them anyway" % writer)
    urls = node_urls(url or facts.get("urls") or "http://127.0.0.1:8080")
    nodes = Nodes(urls, token or None)
    try:
        run_id, how, cycle = _run(nodes, facts)
        sent, skipped, first, last = _send(nodes, run_id, batches, cycle)
        finish = facts.get("finish")
        if finish:
            body = {"state": finish.get("state", "finished")}
            if finish.get("message") is not None:
                body["message"] = finish["message"]
            status, answer = _ask(nodes, "POST", "/api/runs/%s/finish" % run_id, _wire.json_body(body))
            ended = ("finished as %s" % body["state"]) if status == 200 else (
                "not finished (%s %s)" % (status, _error(answer)))
        else:
            ended = "left as it is (its script did not finish it)"
    finally:
        nodes.close()
    if not keep:
        os.remove(path)
        folder = os.path.dirname(path)
        if os.path.basename(folder).startswith("losswatch-spool-") and not os.listdir(folder):
            os.rmdir(folder)
    steps = "%d steps (%s to %s)" % (sent, first, last) if sent else "no new steps"
    return "%s: run %s at %s (%s): sent %s%s; %s%s" % (
        path, run_id, nodes.url, how, steps, ", %d the server had already" % skipped if skipped else "", ended,
        "" if keep else "; file removed")


def _writer(path: str) -> Optional[int]:
    """The process that wrote the file (its name ends in -<pid>.jsonl), if it still runs."""
    try:
        pid = int(os.path.basename(path)[:-len(_spool.SUFFIX)].rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return None
    if pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except OSError:
        return None
    return pid


def _run(nodes: Nodes, facts: Dict[str, Any]) -> Tuple[str, str, Optional[int]]:
    """The run the steps go to: the file's, taken on again if the server interrupted it; or a new one. And, for a
    guarded run, the cycle it is in (its appends say theirs)."""
    run_id = facts.get("run")
    body = facts.get("create")
    guarded = isinstance(body, dict) and "guard" in body
    if run_id:
        status, answer = _ask(nodes, "GET", "/api/runs/%s" % run_id, None)
        if status == 200 and isinstance(answer, dict):
            state = answer.get("state")
            cycle = answer.get("cycle") if guarded and isinstance(answer.get("cycle"), int) else (0 if guarded else None)
            if state in ("running", "paused", "created", "interrupted", "lost"):
                return run_id, "the run it was for, %s" % state, cycle
            status, answer = _ask(nodes, "POST", "/api/runs/%s/resume" % run_id, b"{}")
            if status == 200:
                return run_id, "the run it was for, resumed from %s" % state, cycle
            raise SyncError("run %s is %s and the server does not resume it: %s %s"
                            % (run_id, state, status, _error(answer)))
        if status != 404 or not body:
            raise SyncError("run %s: %s %s" % (run_id, status, _error(answer)))
        how = "run %s is gone from the server; a new run" % run_id
    elif body:
        how = "created: the script never reached the server"
    else:
        raise SyncError("the file names no run and has no body to create one with")
    status, answer = _ask(nodes, "POST", "/api/runs", _wire.json_body(body))
    if status != 201 or not isinstance(answer, dict) or not answer.get("id"):
        raise SyncError("the server did not create the run: %s %s" % (status, _error(answer)))
    nodes.placed(answer)
    return answer["id"], how, 0 if guarded else None


def _send(nodes: Nodes, run_id: str, batches: List[Batch], cycle: Optional[int] = None) -> Tuple[int, int, Any, Any]:
    """Appends the batches in order, at most BATCH steps each; returns (accepted, skipped, first, last). A guarded
    run's appends say their ``cycle``, which a rewind's acknowledgement begins."""
    sent = skipped = 0
    first = last = None
    refused: set = set()
    for records, acks in batches:
        rewind = any(_wire.begins_cycle(a) for a in acks)
        for i in range(0, max(1, len(records)), BATCH):
            chunk = records[i:i + BATCH]
            # the acks with the last chunk; a rewind's with the first, which it begins
            chunk_acks = acks if (i == 0 if rewind else i + BATCH >= len(records)) else []
            if cycle is not None:
                cycle = _wire.cycle_of(chunk_acks, cycle)
            while True:
                status, answer = _ask(nodes, "POST", "/api/runs/%s/steps" % run_id,
                                      _wire.append_body(_without(chunk, refused), chunk_acks, cycle))
                if status == 400 and isinstance(answer, dict) and str(answer.get("field", "")).startswith("metrics."):
                    refused.add(answer["field"][len("metrics."):])   # left out, as the client does
                    continue
                break
            if status != 200 or not isinstance(answer, dict):
                raise SyncError("sent %d steps; then %s %s" % (sent, status, _error(answer)))
            sent += answer.get("accepted", 0)
            skipped += answer.get("duplicates", 0)
            if chunk and answer.get("accepted"):
                first = first if first is not None else chunk[answer.get("duplicates", 0)][0]
                last = chunk[-1][0]
    return sent, skipped, first, last


def _without(records: List[Any], refused: set) -> List[Any]:
    if not refused:
        return records
    return [r[:5] + ({k: v for k, v in r[5].items() if k not in refused} if r[5] else r[5],) + tuple(r[6:])
            for r in records]


def _ask(nodes: Nodes, method: str, path: str, body: Optional[bytes]) -> Tuple[int, Any]:
    """One request, tried again (on the next node, backing off) while the answer is "not now"."""
    why: Any = None
    for attempt in range(TRIES * len(nodes.urls)):
        try:
            status, answer = nodes.request(method, path, body)
        except Unreachable as e:
            why = e
        else:
            if status not in (502, 503, 504) and not (status == 409 and not _ended(answer)):
                return status, answer
            why = "%s %s" % (status, _error(answer))
        if nodes.fail_over(str(why)):
            time.sleep(min(2.0, 0.1 * 2 ** (attempt // len(nodes.urls))))
    raise SyncError("no node answers (%s)" % why)


def _ended(answer: Any) -> bool:
    return isinstance(answer, dict) and answer.get("state") in _wire.ENDED


def _error(answer: Any) -> str:
    if isinstance(answer, dict):
        return str(answer.get("error", answer))
    return "" if answer is None else str(answer)
