"""The background thread: takes what ``log()`` queued, sends it in batches, keeps what the server did not take.

Every step is in exactly one place at a time, oldest first:

``front``  steps the server had accepted and then lost (it was killed): sent again first;
``spool``  batches spilled to a file while memory held more than ``memory_steps``;
``mem``    batches in memory, the last one still filling;
``queue``  the deque ``log()`` appends to (records, and the acknowledgements of applied commands);
``sent``   the newest ``resend_window`` steps the server accepted, kept in case it loses them.

After any failed request the sender first asks the server for the run's last stored step (an empty append) and
sends again whatever the server no longer has, so a step is never missing and never stored twice (the server
skips steps at or below its last one, and the sender does not send again what it has).

What ends a run, and only that (the protocol): a 409 whose body names an ended ``state`` (finished, failed,
stopped, diverged), a 404 from every node, or a ``stop`` command. Everything else — no answer (refused, reset, a
timeout), 502/503/504, a 409 that names no ended state (a server starting or stopping) — is tried again with the
steps kept, and said in one line.

With several nodes (``Nodes``) it talks to one at a time. When that node fails (no answer; or 502, 504, or 503 for
longer than ``BUSY_FAILOVER``; or 404 while another node may know the run) it moves to the next one at once,
backing off only after a full round of failures, and asks the new node for the run's last stored step as above
before it sends anything: the steps that node lacks go first again.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
import traceback
from typing import TYPE_CHECKING, Any, Deque, Dict, List, Optional, Set, Tuple

from . import _wire
from ._http import Nodes, Unreachable
from ._say import say
from ._spool import Batch, Spool
from ._wire import ENDED, Ack, Record

if TYPE_CHECKING:
    from . import Run

MAX_BACKOFF = 2.0
MAX_ACKS = 100   # per append, as the server takes them
BUSY_FAILOVER = 10.0   # a node answering 503 ("busy, send them again") this long counts as failed
# answers that say "not now" rather than "no": the same node is asked again after the backoff
NOT_NOW = (502, 503, 504)
# the kinds of trouble said once until an append is taken again
TROUBLE = frozenset(("down", "status", "busy", "create", "attach"))


class LosswatchError(Exception):
    """The server refused what the client asked (a bad token, a bad config, no such run to resume)."""


class Sender(threading.Thread):
    def __init__(self, owner: "Run", http: Nodes, create_body: Optional[Dict[str, Any]], batch_steps: int,
                 memory_steps: int, flush_interval: float, poll_interval: float, spool_dir: Optional[str],
                 resend_window: int) -> None:
        super().__init__(name="losswatch-sender", daemon=True)
        self.owner = owner
        self.http = http
        self.create_body = create_body   # None: an existing run (resume), attached by attach()
        self.batch_steps = batch_steps
        self.memory_steps = memory_steps
        self.flush_interval = flush_interval
        self.poll_interval = poll_interval
        self.spool_dir = spool_dir
        self.queue: Deque[Any] = owner._queue
        self.wake = threading.Event()
        self.done = threading.Event()
        self.front: Deque[Batch] = collections.deque()
        self.spool: Optional[Spool] = None
        self.mem: Deque[Batch] = collections.deque()
        self.mem_steps = 0
        self.sent: Deque[Record] = collections.deque()
        self.resend_window = resend_window
        self.forgotten = 0          # the newest step dropped from sent
        self.confirmed = 0          # the run's last stored step, as the server last said
        self.need_probe = False
        self.attached = create_body is not None   # a resumed run: False until the server said it takes it on
        self.known_commands: Set[str] = set()
        self.failures = 0
        self.retry_now = False      # moved to a node not tried yet in this round: no backoff
        self.busy_since: Optional[float] = None   # when the current node began answering "not now"
        self.busy_failover = BUSY_FAILOVER
        self.not_found: Set[int] = set()   # nodes that answered 404 since one took the run's steps
        self.taken_metrics: Set[str] = set()   # metric names the server has taken for this run
        self.patch: Dict[str, Any] = {}   # tags and notes set by the script, not yet taken by the server
        self.last_send = 0.0
        self.last_contact = 0.0
        self.ended: Optional[str] = None          # why the server takes no more steps for this run
        self.finish_request: Optional[Tuple[str, Optional[str]]] = None   # (state, message), set by Run.finish
        self.deadline: Optional[float] = None
        self.unsent_at_exit = 0
        self._warned: Set[str] = set()
        self.cycles = False         # a guarded run: appends say their cycle (the rewinds executed before them)
        self.cycle = 0              # the cycle of the last append the server took
        self.extras = True          # the curvature columns are sent (False: this server refused them)

    # ---- the loop

    def run(self) -> None:
        try:
            self._loop()
        except BaseException:   # a bug here must say so, not vanish with the daemon thread
            self._warned.add("crash")
            self._note("losswatch: the sender thread failed; no more steps are sent:\n" + traceback.format_exc())
        finally:
            self.done.set()

    def _loop(self) -> None:
        while True:
            self._drain()
            now = time.monotonic()
            if self.finish_request is not None and self.deadline is not None and now >= self.deadline:
                self._give_up()
                return
            if self.ended is not None:
                self._discard()
                if self.finish_request is not None:
                    return
                self._wait(self.poll_interval)
                continue
            if self.owner.id is None:
                if not self._create():
                    self._backoff()
                continue
            if not self.attached:
                try:
                    ok = self.attach()
                except LosswatchError as e:
                    self._end(str(e), "refused")
                    continue
                if not ok:
                    self._backoff()
                continue
            if self.need_probe:
                # after a failure (and on another node): what does the server have? (_append rewinds)
                if self._append([], []):
                    self.need_probe = False
                    self._skip_stored(self.confirmed)
                else:
                    self._backoff()
                continue
            if self.patch:
                if not self._patch():
                    self._backoff()
                continue
            head = self._head()
            if head is not None and (self.finish_request is not None or head[1] or self._backlog_full()
                                     or now - self.last_send >= self.flush_interval):
                taken = self._append(head[0], head[1])
                if taken:
                    self._pop()
                    self.failures = 0
                elif taken is None:
                    self._pop()   # refused for good (the batch was reported)
                else:
                    self._backoff()
                continue
            if head is None and self.finish_request is not None:
                if self._finish():
                    return
                self._backoff()
                continue
            if head is None and now - self.last_contact >= self.poll_interval:
                # nothing to send: ask for commands (a paused script waits for its resume this way)
                if not self._append([], []):
                    self._backoff()
                continue
            if head is None:
                self._wait(self.poll_interval - (now - self.last_contact))
            else:
                self._wait(self.flush_interval - (now - self.last_send))

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.wake.wait(seconds)
        self.wake.clear()

    def _backoff(self) -> None:
        """Waits before the next try (50 ms, doubling, at most 2 s), taking in and spilling what log() queues;
        right after a move to a node not yet tried in this round, tries at once."""
        if self.retry_now:
            self.retry_now = False
            self._drain()
            return
        self.failures += 1
        end = time.monotonic() + min(MAX_BACKOFF, 0.05 * 2 ** (self.failures - 1))
        while True:
            left = end - time.monotonic()
            if self.deadline is not None:
                left = min(left, self.deadline - time.monotonic())
            if left <= 0:
                return
            self.wake.wait(min(left, self.flush_interval))
            self.wake.clear()
            self._drain()

    # ---- where the steps are

    def _drain(self) -> None:
        """Moves what log() queued into batches of at most batch_steps; spills the oldest past memory_steps.
        A record queued as a list holds values still on a device (CUDA tensors): read here, off the training
        thread."""
        q = self.queue
        while q:
            tail = self.mem[-1] if self.mem and len(self.mem[-1][0]) < self.batch_steps \
                and len(self.mem[-1][1]) < MAX_ACKS and not _wire.begins_cycle(q[0]) else None
            if tail is None:
                tail = ([], [])
                self.mem.append(tail)
            records, acks = tail
            while q and len(records) < self.batch_steps and len(acks) < MAX_ACKS:
                if (records or acks) and _wire.begins_cycle(q[0]):
                    break   # a rewind's ack goes first in an append of its own cycle
                item = q.popleft()
                cls = item.__class__
                if cls is tuple:
                    records.append(item)
                    self.mem_steps += 1
                elif cls is list:
                    records.append(self._read(item))
                    self.mem_steps += 1
                else:
                    acks.append(item)
        while self.mem_steps > self.memory_steps and len(self.mem) > 1:
            records, acks = self.mem.popleft()
            self.mem_steps -= len(records)
            spool = self._spool()
            if not spool.batches:
                self._warn("spool", "losswatch: the server is not taking steps; %d are waiting in memory, the "
                           "older ones go to %s until it is back" % (self.memory_steps, spool.folder
                                                                      or "a spool file"))
            spool.push(records, acks)
            self.owner.spilled_steps += len(records)

    def _read(self, item: List[Any]) -> Record:
        """A record's device values as floats (a value that is not one number becomes NaN, said once)."""
        step, loss, lr, grad_norm, t, metrics = item[:6]
        if metrics:
            metrics = {k: self._float(v, k, step) for k, v in metrics.items()}
        return (step, self._float(loss, "loss", step), self._float(lr, "lr", step),
                self._float(grad_norm, "grad_norm", step), t, metrics) + tuple(item[6:])

    def _float(self, value: Any, column: str, step: int) -> Optional[float]:
        if value is None or value.__class__ is float:
            return value
        try:
            return float(value)
        except (TypeError, ValueError, RuntimeError) as e:
            self._warn("value-" + column, "losswatch: %s at step %d is not one number (%s); sent as NaN"
                       % (column, step, e))
            return float("nan")

    def _spool(self) -> Spool:
        if self.spool is None:
            body = self.create_body
            # a run not created yet is "new-<random>": two of them spilling into one spool_dir get two files
            self.spool = Spool(self.spool_dir, self.owner.id or "new-" + os.urandom(3).hex(),
                               {"run": self.owner.id, "urls": list(self.http.urls), "create": body})
        return self.spool

    def _head(self) -> Optional[Batch]:
        if self.front:
            return self.front[0]
        if self.spool is not None and self.spool.batches:
            return self.spool.peek()
        if self.mem:
            return self.mem[0]
        return None

    def _pop(self) -> None:
        if self.front:
            self.front.popleft()
        elif self.spool is not None and self.spool.batches:
            self.spool.pop()
        else:
            records, _ = self.mem.popleft()
            self.mem_steps -= len(records)

    def _backlog_full(self) -> bool:
        return bool(len(self.front) + (self.spool.batches if self.spool else 0) + len(self.mem) > 1
                    or (self.mem and len(self.mem[0][0]) >= self.batch_steps))

    def pending_steps(self) -> int:
        return (sum(len(b[0]) for b in self.front) + (self.spool.steps if self.spool else 0) + self.mem_steps
                + sum(1 for item in list(self.queue) if item.__class__ is tuple or item.__class__ is list))

    def _discard(self) -> None:
        self._drain()
        self.front.clear()
        self.mem.clear()
        self.mem_steps = 0
        if self.spool is not None:
            self.spool.remove()

    # ---- requests

    def _create(self) -> bool:
        assert self.create_body is not None
        try:
            status, answer = self._request("POST", "/api/runs", _wire.json_body(self.create_body))
        except Unreachable as e:
            self._warn("create", "losswatch: cannot reach the server (%s); steps are kept and sent once it is "
                       "up" % e)
            self._fail_over(e)
            return False
        if status in NOT_NOW and self._node_failed(status, answer):
            return False
        if status in (200, 201) and isinstance(answer, dict) and answer.get("id"):
            self.created(answer)
            self._note("losswatch: run %s created at %s" % (self.owner.id, self.http.url), logging.INFO)
            return True
        if status == 400 and self.without_tags(answer):
            return False   # again at once, without them
        if 400 <= status < 500 and status != 429:
            self._end("the server refused to create the run: %s %s" % (status, _error(answer)), "refused")
            return True
        self._warn("create-%d" % status, "losswatch: creating the run: %s %s; trying again" % (status, _error(answer)))
        return False

    def created(self, answer: Dict[str, Any]) -> None:
        """The server created the run (``answer`` its summary)."""
        self.owner.id = answer["id"]
        self.owner.summary = answer
        self.http.placed(answer)
        self.last_contact = time.monotonic()
        if self.spool is not None:
            self.spool.note(run=self.owner.id)

    def without_tags(self, answer: Any) -> bool:
        """A 400 about the create body's tags or notes (a server older than this client): they are left out and
        the run is created without them, said once. True if that is what the answer was about."""
        body = self.create_body
        field = answer.get("field") if isinstance(answer, dict) else None
        error = _error(answer)
        if body is None or not any(k in body and (field == k or error.startswith(k)) for k in ("tags", "notes")):
            return False
        dropped = {k: body.pop(k) for k in ("tags", "notes") if k in body}
        self._note("losswatch: the server does not take tags or notes (%s); the run is created without %s"
                   % (error, ", ".join("%s=%r" % kv for kv in dropped.items())))
        return True

    def attach(self) -> bool:
        """A resumed run: reads the run (``GET /api/runs/{id}``) on the nodes in turn and, unless it is running or
        paused, asks the server to resume it. True once attached (``confirmed`` is the run's last step); False
        when no node answered (try again later); a LosswatchError when the server says no."""
        run_id = self.owner.id
        not_found = 0
        for _ in self.http.urls:
            try:
                status, answer = self._request("GET", "/api/runs/%s" % run_id, None)
            except Unreachable as e:
                self._warn("attach", "losswatch: cannot reach the server to resume run %s (%s); steps are kept "
                           "and sent once it answers" % (run_id, e))
                self._fail_over(e)
                continue
            if status == 200 and isinstance(answer, dict):
                return self._resume(answer)
            if status == 404:
                not_found += 1
            elif 400 <= status < 500 and status != 429:
                raise LosswatchError("losswatch: %s cannot resume run %s: %d %s"
                                     % (self.http.url, run_id, status, _error(answer)))
            self._fail_over("%d %s" % (status, _error(answer)))
        if not_found == len(self.http.urls):
            raise LosswatchError("losswatch: no run %s at %s" % (run_id, ", ".join(self.http.urls)))
        return False

    def _resume(self, summary: Dict[str, Any]) -> bool:
        run_id = self.owner.id
        state = summary.get("state")
        last = summary.get("step")
        if state not in ("running", "paused", "created"):
            try:
                status, answer = self._request("POST", "/api/runs/%s/resume" % run_id, b"{}")
            except Unreachable as e:
                self._fail_over(e)
                return False
            if status in NOT_NOW:
                self._fail_over("%d %s" % (status, _error(answer)))
                return False
            if status == 200 and isinstance(answer, dict):
                summary = answer
            elif not (status == 409 and state in ("interrupted", "lost")):
                # an interrupted or lost run is taken on again by its first append, also by a server that
                # answers /resume with 409 for a script's run
                raise LosswatchError("losswatch: the server cannot resume run %s, which is %s: %d %s"
                                     % (run_id, state, status, _error(answer)))
        self.owner.summary = summary
        self.confirmed = last if isinstance(last, int) else 0
        if self.cycles and isinstance(summary.get("cycle"), int):
            self.cycle = self.owner._cycle = summary["cycle"]   # a guarded run goes on in the server's cycle
        self.attached = True
        self.need_probe = False
        self.last_contact = time.monotonic()
        self._skip_stored(self.confirmed)
        return True

    def _append(self, records: List[Record], acks: List[Ack]) -> Optional[bool]:
        """Sends one append. True: taken; False: try again later; None: refused for good (dropped, reported)."""
        path = "/api/runs/%s/steps" % self.owner.id
        cycle = _wire.cycle_of(acks, self.cycle) if self.cycles else None
        try:
            status, answer = self._request("POST", path, _wire.append_body(records, acks, cycle, self.extras))
        except Unreachable as e:
            self._warn("down", "losswatch: the server is not answering (%s); steps are kept and sent once it is "
                       "back" % e)
            self._fail_over(e)
            return False
        # a 409 that names no ended state is not an end: a server starting or stopping, a node that cannot take
        # the run now; like 502/503/504, tried again (on this node, or the next one: _node_failed)
        not_now = status in NOT_NOW or (status == 409 and not _ended(answer))
        if not_now or status == 404:
            moved = self._node_failed(status, answer)
            if moved or not_now:
                return False
        now = time.monotonic()
        self.last_contact = now
        if records:
            self.last_send = now
        if status == 200 and isinstance(answer, dict):
            self.not_found.clear()
            if self._warned & TROUBLE:
                self._warned -= TROUBLE
                self._note("losswatch: the server takes steps again; sending the %d steps waiting"
                           % self.pending_steps(), logging.INFO)
            if cycle is not None and cycle > self.cycle:
                # a rewind: the steps before it are the server's abandoned ones, not to be sent again
                self.cycle = cycle
                self.sent.clear()
                self.forgotten = 0
                self.confirmed = 0
            self.sent.extend(records)
            while len(self.sent) > self.resend_window:
                self.forgotten = self.sent.popleft()[0]
            for r in records:
                if r[5]:
                    self.taken_metrics.update(r[5])
            self._commands(answer.get("commands") or ())
            last = answer.get("last_step")
            if isinstance(last, int):
                if last < self.confirmed:
                    self._rewind(last)
                self.confirmed = last
            return True
        if status == 409:
            state = answer["state"]
            self._end("run %s is %s on the server: it takes no more steps (%s)" % (self.owner.id, state,
                                                                                 _error(answer)), state)
            return None
        if status == 404:
            self._end("no node knows run %s any more (deleted?): %s" % (self.owner.id, _error(answer)), "deleted")
            return None
        if status == 413 and len(records) > 1:
            self._split()
            return False
        if status == 400 and self._refuse_metrics(records, answer):
            return False   # again, without them
        if status == 400 and self.extras and isinstance(answer, dict) and answer.get("field") in _wire.EXTRA_FIELDS:
            self.extras = False   # a server without curvature columns: the steps go without them
            self._note("losswatch: the server does not take the curvature columns (%s); the steps are sent "
                       "without them" % _error(answer))
            return False
        if status in (400, 413):
            self.owner.dropped_steps += len(records)
            self._note("losswatch: the server refused %d steps (%s to %s) and they are dropped: %s %s"
                       % (len(records), records[0][0] if records else "-", records[-1][0] if records else "-",
                          status, _error(answer)))
            return None
        self._warn("status", "losswatch: appending steps: %s %s; steps are kept and sent again"
                   % (status, _error(answer)))
        return False

    def _finish(self) -> bool:
        if self.owner.stop_reason is not None:
            return True   # the server ended it (a stop command, acknowledged): nothing to finish
        assert self.finish_request is not None
        state, message = self.finish_request
        body: Dict[str, Any] = {"state": state}
        if message is not None:
            body["message"] = message
        try:
            status, answer = self._request("POST", "/api/runs/%s/finish" % self.owner.id, _wire.json_body(body))
        except Unreachable as e:
            self._fail_over(e)
            return False
        if status == 409 and not _ended(answer):
            status = 503   # not an end: the server is starting or stopping
        if status in (404,) + NOT_NOW and self._node_failed(status, answer):
            return False
        if status == 200:
            if isinstance(answer, dict):
                self.owner.summary = answer
            return True
        if status in (404, 409):
            return True   # it had ended already, or is gone
        if 400 <= status < 500 and status != 429:
            self._note("losswatch: finishing run %s: %s %s" % (self.owner.id, status, _error(answer)))
            return True
        return False

    def _patch(self) -> bool:
        """Sends the tags and notes the script set. True when done with them (taken, or refused: said)."""
        body = dict(self.patch)
        try:
            status, answer = self._request("PATCH", "/api/runs/%s" % self.owner.id, _wire.json_body(body))
        except Unreachable as e:
            self._fail_over(e)
            return False
        if status in NOT_NOW and self._node_failed(status, answer):
            return False
        for k, v in body.items():
            if self.patch.get(k) is v:
                del self.patch[k]   # unless the script set it again meanwhile
        if status == 200:
            if isinstance(answer, dict):
                self.owner.summary = answer
        else:
            self._note("losswatch: the server did not take %s for run %s: %s %s"
                       % (" and ".join(sorted(body)), self.owner.id, status, _error(answer)))
        return True

    def _request(self, method: str, path: str, body: Optional[bytes]) -> Tuple[int, Any]:
        status, answer = self.http.request(method, path, body)
        if status not in NOT_NOW and not (status == 409 and not _ended(answer)):
            self.busy_since = None
        return status, answer

    def _node_failed(self, status: int, answer: Any) -> bool:
        """A 404, 502, 503, 504 or a 409 naming no ended state from the node in use. True: the node counts as
        failed, the sender moved to the next one (try again); False: the answer is handled as with a single node
        (all but 404 are tried again on the same node after the backoff, said once; a 404 ends the run)."""
        single = len(self.http.urls) == 1
        if status == 404:
            if single:
                return False
            self.not_found.add(self.http.index)
            if len(self.not_found) >= len(self.http.urls):
                return False   # no node knows the run
            why = "404 %s" % _error(answer)
        elif status == 503 or single:
            # alive and busy (taking the run over from a node that died, writing, starting, stopping): stay,
            # unless it lasts and there is another node. A 409 naming no ended state (a node stopping, a mirror
            # that does not own the run) moves on at once, as 502 and 504 do, where there is another node
            self._warn("busy", "losswatch: the server cannot take run %s's steps now (%s %s); they are kept and "
                       "sent again" % (self.owner.id, status, _error(answer)))
            now = time.monotonic()
            if self.busy_since is None:
                self.busy_since = now
            if single or now - self.busy_since < self.busy_failover:
                return False
            why = "%d for %.0f s: %s" % (status, now - self.busy_since, _error(answer))
        else:
            why = "%d %s" % (status, _error(answer))
        self._fail_over(why)
        return True

    def _fail_over(self, why: Any) -> None:
        """The node in use failed: the next one is asked for the run's last step before anything is sent to it."""
        self.need_probe = True
        self.busy_since = None
        if not self.http.fail_over(str(why), self.owner.id):
            self.retry_now = True

    # ---- what the answers say

    def _commands(self, commands: Any) -> None:
        ids: Set[str] = set()
        fresh = []
        for c in commands:
            if not isinstance(c, dict) or "id" not in c:
                continue
            ids.add(c["id"])
            if c["id"] not in self.known_commands:
                fresh.append(c)
        # a command repeats until acknowledged; once gone from the answers its id may come back (a restart)
        withdrawn = self.known_commands - ids
        self.known_commands = ids
        if fresh or withdrawn:
            # gone unacknowledged: replaced by a newer lr, or a pause taken back by a resume before it was heard
            self.owner._command_arrived(fresh, withdrawn)

    def _refuse_metrics(self, records: List[Record], answer: Any) -> bool:
        """A 400 about metrics (a name the server refuses, or one past its limit): those metrics are taken out of
        every waiting step, and of what log() takes from now on, said once each; the steps are sent again. The
        names are the one the answer names, else those of the batch the server never took. True if it was
        about metrics."""
        field = (answer.get("field") if isinstance(answer, dict) else None) or ""
        error = _error(answer)
        if not (field.startswith("metrics") or error.startswith("metrics")):
            return False
        if field.startswith("metrics."):
            names = {field[len("metrics."):]}
        else:
            names = {k for r in records if r[5] for k in r[5]} - self.taken_metrics
        if not names:
            return False
        self.owner._refuse_metrics(names, "the server refused it: " + error)
        head = self._head()
        for batch in list(self.front) + ([head] if head is not None else []) + list(self.mem):
            for r in batch[0]:
                if r[5]:
                    for k in names:
                        r[5].pop(k, None)
        return True

    def _rewind(self, last: int) -> None:
        """The server has steps up to ``last`` only: what it accepted after that goes first again."""
        again = [r for b in self.front for r in b[0]]
        while self.sent and self.sent[-1][0] > last:
            again.append(self.sent.pop())
        again.sort(key=lambda r: r[0])
        if self.forgotten > last:
            self._note("losswatch: the server lost steps after %d it had taken; those up to %d were no longer kept "
                       "here (resend_window) and stay missing" % (last, self.forgotten))
        self.front.clear()
        for i in range(0, len(again), self.batch_steps):
            self.front.append((again[i:i + self.batch_steps], []))
        if again:
            self._note("losswatch: the server lost steps %d to %d it had taken (it was killed?); sending them again"
                       % (again[0][0], again[-1][0]))

    def _skip_stored(self, last: int) -> None:
        """The server has the steps up to ``last``, some of them never confirmed here (the node took a batch and
        failed before it answered; or a resumed run's script logged again steps the run had): the waiting steps
        at or below ``last`` are not sent again, they count as sent. Acknowledgements are all kept."""
        stored: List[Record] = []
        acks: List[Ack] = []
        kept: List[Record] = []
        self._drain()
        while True:
            head = self._head()
            if head is None or (head[0] and head[0][0][0] > last) or any(_wire.begins_cycle(a) for a in head[1]):
                break   # (nor steps of a cycle the server has not begun)
            self._pop()
            kept = [r for r in head[0] if r[0] > last]
            stored.extend(head[0][:len(head[0]) - len(kept)])
            acks.extend(head[1])
            if kept:
                break
        if not stored and not acks:
            return
        self.sent.extend(stored)
        while len(self.sent) > self.resend_window:
            self.forgotten = self.sent.popleft()[0]
        chunks = [acks[i:i + MAX_ACKS] for i in range(0, len(acks), MAX_ACKS)] or [[]]
        batches: List[Batch] = [([], c) for c in chunks[:-1]]
        batches.append((kept, chunks[-1]))
        if not kept and not chunks[-1]:
            batches.pop()
        self.front.extendleft(reversed(batches))
        if stored:
            self._note("losswatch: the server had steps %d to %d already; not sending them again"
                       % (stored[0][0], stored[-1][0]), logging.INFO)

    def _split(self) -> None:
        """413: halves the head batch (acks go with the second half, but a rewind's with the first)."""
        head = self._head()
        assert head is not None
        records, acks = head
        half = len(records) // 2
        first: Batch = (records[:half], [])
        second: Batch = (records[half:], acks)
        if any(_wire.begins_cycle(a) for a in acks):
            first, second = (records[:half], acks), (records[half:], [])   # a rewind's ack goes first
        if self.front:
            self.front.popleft()
            self.front.extendleft([second, first])
        elif self.spool is not None and self.spool.batches:
            # the spool's head is read-only: bring it to the front instead
            self.spool.pop()
            self.front.extendleft([second, first])
        else:
            self.mem.popleft()
            self.mem.extendleft([second, first])
        if self.batch_steps > half:
            self.batch_steps = max(1, half)

    def _end(self, why: str, reason: str) -> None:
        """The run ended on the server (``reason``: the state it ended in, "deleted", "refused"): log() says so
        through ``run.stopped`` and ``run.stop_reason``; what was not sent cannot be stored."""
        self.ended = why
        self.owner.stop_reason = reason
        self.owner.stopped = True
        self._drain()
        left = self.pending_steps()
        self._note("losswatch: %s; stopping (run.stopped is True)%s"
                   % (why.replace("losswatch: ", ""), "; %d steps not sent" % left if left else ""))
        self.owner._wake_paused()

    def _give_up(self) -> None:
        """The finish timeout passed: what is left goes to the spool file, which stays, with how the script
        finished the run (``python3 -m losswatch sync`` sends it)."""
        self._drain()
        left = [b for b in self.front] + list(self.mem)
        self.front.clear()
        self.mem.clear()
        self.mem_steps = 0
        n = sum(len(b[0]) for b in left) + (self.spool.steps if self.spool else 0)
        self.unsent_at_exit = n
        if not n:
            self._note("losswatch: run %s: the server did not confirm the end of the run in time" % self.owner.id)
            return
        spool = self._spool()
        for records, acks in left:
            spool.push(records, acks)
        if self.finish_request is not None:
            state, message = self.finish_request
            spool.note(finish={"state": state, "message": message})
        spool.close()
        self._note("losswatch: run %s: %d steps could not be sent before the finish timeout; they are in %s "
                   "(python3 -m losswatch sync %s sends them)" % (self.owner.id, n, spool.path, spool.path))

    def _warn(self, key: str, text: str) -> None:
        """Says it once per kind of trouble until it clears."""
        if key not in self._warned:
            self._warned.add(key)
            self._note(text)

    def _note(self, text: str, level: int = logging.WARNING) -> None:
        say(text, self.owner.quiet and "crash" not in self._warned, level)


def _ended(answer: Any) -> bool:
    """Whether a 409's body says the run ended (its ``state`` one of the ended states)."""
    return isinstance(answer, dict) and answer.get("state") in ENDED


def _error(answer: Any) -> str:
    if isinstance(answer, dict):
        e = answer.get("error")
        f = answer.get("field")
        return "%s%s" % (e if e is not None else answer, " (field %s)" % f if f else "")
    return "" if answer is None else str(answer)
