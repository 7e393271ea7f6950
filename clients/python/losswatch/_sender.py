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

With several nodes (``Nodes``) it talks to one at a time. When that node fails (no answer: refused, reset, a
timeout; or 502, 504, or 503 for longer than ``BUSY_FAILOVER``; or 404 while another node may know the run)
it moves to the next one at once, backing off only after a full round of failures, and asks the new node for
the run's last stored step as above before it sends anything: the steps that node lacks go first again.
"""

import collections
import sys
import threading
import time
import traceback

from . import _wire
from ._http import Unreachable
from ._spool import Spool

MAX_BACKOFF = 2.0
MAX_ACKS = 100   # per append, as the server takes them
BUSY_FAILOVER = 10.0   # a node answering 503 ("busy, send them again") this long counts as failed


class Sender(threading.Thread):
    def __init__(self, owner, http, create_body, batch_steps, memory_steps, flush_interval, poll_interval,
                 spool_dir, resend_window):
        super().__init__(name="losswatch-sender", daemon=True)
        self.owner = owner
        self.http = http
        self.create_body = create_body
        self.batch_steps = batch_steps
        self.memory_steps = memory_steps
        self.flush_interval = flush_interval
        self.poll_interval = poll_interval
        self.spool_dir = spool_dir
        self.queue = owner._queue
        self.wake = threading.Event()
        self.done = threading.Event()
        self.front = collections.deque()
        self.spool = None
        self.mem = collections.deque()
        self.mem_steps = 0
        self.sent = collections.deque()
        self.resend_window = resend_window
        self.forgotten = 0          # the newest step dropped from sent
        self.confirmed = 0          # the run's last stored step, as the server last said
        self.need_probe = False
        self.known_commands = set()
        self.failures = 0
        self.retry_now = False      # moved to a node not tried yet in this round: no backoff
        self.busy_since = None      # when the current node began answering 503
        self.busy_failover = BUSY_FAILOVER
        self.not_found = set()      # nodes that answered 404 since one took the run's steps
        self.last_send = 0.0
        self.last_contact = 0.0
        self.ended = None           # why the server takes no more steps for this run
        self.finish_request = None  # (state, message), set by Run.finish
        self.deadline = None
        self.unsent_at_exit = 0
        self._warned = set()
        self.cycles = False         # a guarded run: appends say their cycle (rewinds executed before them)
        self.cycle = 0              # the cycle of the last append the server took
        self.extras = True          # the curvature columns are sent (False: this server refused them)

    # ---- the loop

    def run(self):
        try:
            self._loop()
        except BaseException:   # a bug here must say so, not vanish with the daemon thread
            self._warn("crash", "losswatch: the sender thread failed; no more steps are sent:\n"
                       + traceback.format_exc())
        finally:
            self.done.set()

    def _loop(self):
        while True:
            self._drain()
            now = time.monotonic()
            if self.finish_request is not None and now >= self.deadline:
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
            if self.need_probe:
                # after a failure (and on another node): what does the server have? (_append rewinds)
                if self._append([], []):
                    self.need_probe = False
                    self._skip_stored(self.confirmed)
                else:
                    self._backoff()
                continue
            head = self._head()
            if head is not None and (self.finish_request is not None or head[1] or self._backlog_full()
                                     or now - self.last_send >= self.flush_interval):
                ok = self._append(head[0], head[1])
                if ok:
                    self._pop()
                    self.failures = 0
                elif ok is None:
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

    def _wait(self, seconds):
        if seconds > 0:
            self.wake.wait(seconds)
        self.wake.clear()

    def _backoff(self):
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

    def _drain(self):
        """Moves what log() queued into batches of at most batch_steps; spills the oldest past memory_steps."""
        q = self.queue
        while q:
            tail = self.mem[-1] if self.mem and len(self.mem[-1][0]) < self.batch_steps \
                and len(self.mem[-1][1]) < MAX_ACKS and not _begins_cycle(q[0]) else None
            if tail is None:
                tail = ([], [])
                self.mem.append(tail)
            records, acks = tail
            while q and len(records) < self.batch_steps and len(acks) < MAX_ACKS:
                if (records or acks) and _begins_cycle(q[0]):
                    break   # a rewind's ack goes first in an append of its own cycle
                item = q.popleft()
                if item.__class__ is tuple:
                    records.append(item)
                    self.mem_steps += 1
                else:
                    acks.append(item)
        while self.mem_steps > self.memory_steps and len(self.mem) > 1:
            records, acks = self.mem.popleft()
            self.mem_steps -= len(records)
            if self.spool is None:
                self.spool = Spool(self.spool_dir, self.owner.id or "new")
            if not self.spool.batches:
                self._warn("spool", "losswatch: the server is not taking steps; %d are waiting in memory, the "
                           "older ones go to %s until it is back" % (self.memory_steps, self.spool._folder
                                                                      or "a spool file"))
            self.spool.push(records, acks)
            self.owner.spilled_steps += len(records)

    def _head(self):
        if self.front:
            return self.front[0]
        if self.spool is not None and self.spool.batches:
            return self.spool.peek()
        if self.mem:
            return self.mem[0]
        return None

    def _pop(self):
        if self.front:
            self.front.popleft()
        elif self.spool is not None and self.spool.batches:
            self.spool.pop()
        else:
            records, _ = self.mem.popleft()
            self.mem_steps -= len(records)

    def _backlog_full(self):
        return (len(self.front) + (self.spool.batches if self.spool else 0) + len(self.mem) > 1
                or (self.mem and len(self.mem[0][0]) >= self.batch_steps))

    def pending_steps(self):
        return (sum(len(b[0]) for b in self.front) + (self.spool.steps if self.spool else 0) + self.mem_steps
                + sum(1 for item in list(self.queue) if item.__class__ is tuple))

    def _discard(self):
        self._drain()
        self.front.clear()
        self.mem.clear()
        self.mem_steps = 0
        if self.spool is not None:
            self.spool.remove()

    # ---- requests

    def _create(self):
        try:
            status, answer = self._request("POST", "/api/runs", self.create_body)
        except Unreachable as e:
            self._warn("create", "losswatch: cannot reach the server (%s); steps are kept and sent once it is "
                       "up" % e)
            self._fail_over(e)
            return False
        if status in (502, 503, 504) and self._node_failed(status, answer):
            return False
        if status in (200, 201) and isinstance(answer, dict) and answer.get("id"):
            self.owner.id = answer["id"]
            self.owner.summary = answer
            self.last_contact = time.monotonic()
            sys.stderr.write("losswatch: run %s created at %s\n" % (self.owner.id, self.http.url)) \
                if not self.owner.quiet else None
            return True
        if 400 <= status < 500 and status != 429:
            self._end("the server refused to create the run: %s %s" % (status, _error(answer)))
            return True
        self._warn("create-%d" % status, "losswatch: creating the run: %s %s; trying again" % (status, _error(answer)))
        return False

    def _append(self, records, acks):
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
        if status in (404, 502, 503, 504) and self._node_failed(status, answer):
            return False
        now = time.monotonic()
        self.last_contact = now
        if records:
            self.last_send = now
        if status == 200 and isinstance(answer, dict):
            self.not_found.clear()
            if "down" in self._warned:
                self._warned.discard("down")
                self._note("losswatch: the server is back; sending the %d steps it does not have yet"
                           % self.pending_steps())
            if cycle is not None and cycle > self.cycle:
                # a rewind: the steps before it are the server's abandoned ones, not to be sent again
                self.cycle = cycle
                self.sent.clear()
                self.forgotten = 0
                self.confirmed = 0
            self.sent.extend(records)
            while len(self.sent) > self.resend_window:
                self.forgotten = self.sent.popleft()[0]
            self._commands(answer.get("commands") or ())
            last = answer.get("last_step")
            if isinstance(last, int):
                if last < self.confirmed:
                    self._rewind(last)
                self.confirmed = last
            return True
        if status in (404, 409):
            self._end("the server takes no more steps for run %s: %s %s" % (self.owner.id, status, _error(answer)))
            return None
        if status == 413 and len(records) > 1:
            self._split()
            return False
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
        self._warn("status-%d" % status, "losswatch: appending steps: %s %s; trying again" % (status, _error(answer)))
        return False

    def _finish(self):
        state, message = self.finish_request
        body = {"state": state}
        if message is not None:
            body["message"] = message
        try:
            status, answer = self._request("POST", "/api/runs/%s/finish" % self.owner.id, _wire.json_body(body))
        except Unreachable as e:
            self._fail_over(e)
            return False
        if status in (404, 502, 503, 504) and self._node_failed(status, answer):
            return False
        if status == 200:
            if isinstance(answer, dict):
                self.owner.summary = answer
            return True
        if status in (404, 409):
            return True   # it had ended already (a stop it was told of), or is gone
        if 400 <= status < 500 and status != 429:
            self._note("losswatch: finishing run %s: %s %s" % (self.owner.id, status, _error(answer)))
            return True
        return False

    def _request(self, method, path, body):
        status, answer = self.http.request(method, path, body)
        if status != 503:
            self.busy_since = None
        return status, answer

    def _node_failed(self, status, answer):
        """A 404, 502, 503 or 504 from the node in use. True: the node counts as failed, the sender moved to the
        next one (try again); False: the answer is handled as with a single node (a 503 is tried again on the
        same node after the backoff, a 404 ends the run)."""
        single = len(self.http.urls) == 1
        if status == 404:
            if single:
                return False
            self.not_found.add(self.http.index)
            if len(self.not_found) >= len(self.http.urls):
                return False   # no node knows the run
            why = "404 %s" % _error(answer)
        elif status == 503:
            # alive and busy (taking the run over from a node that died, writing): stay, unless it lasts
            now = time.monotonic()
            if self.busy_since is None:
                self.busy_since = now
            if now - self.busy_since < self.busy_failover:
                return False
            why = "503 for %.0f s: %s" % (now - self.busy_since, _error(answer))
        else:
            why = "%d %s" % (status, _error(answer))
        self._fail_over(why)
        return True

    def _fail_over(self, why):
        """The node in use failed: the next one is asked for the run's last step before anything is sent to it."""
        self.need_probe = True
        self.busy_since = None
        if not self.http.fail_over(why, self.owner.id):
            self.retry_now = True

    # ---- what the answers say

    def _commands(self, commands):
        ids = set()
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

    def _rewind(self, last):
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

    def _skip_stored(self, last):
        """The server has the steps up to ``last``, some of them never confirmed here (the node took a batch and
        failed before it answered): the waiting steps at or below ``last`` are not sent again, they count as
        sent. Acknowledgements are all kept."""
        stored = []
        acks = []
        kept = []
        while True:
            head = self._head()
            if head is None or (head[0] and head[0][0][0] > last) or any(_begins_cycle(a) for a in head[1]):
                break   # (the server has no steps of a cycle it has not begun)
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
        batches = [([], c) for c in chunks[:-1]] + [(kept, chunks[-1])]
        if not kept and not chunks[-1]:
            batches.pop()
        self.front.extendleft(reversed(batches))
        if stored:
            self._note("losswatch: the server had steps %d to %d already; not sending them again"
                       % (stored[0][0], stored[-1][0]))

    def _split(self):
        """413: halves the head batch (acks go with the second half)."""
        records, acks = self._head()
        half = len(records) // 2
        first, second = (records[:half], []), (records[half:], acks)
        if any(_begins_cycle(a) for a in acks):
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

    def _end(self, why):
        self.ended = why
        self.owner.stopped = True
        self._note("losswatch: " + why.replace("losswatch: ", "") + "; stopping (run.stopped is True)")
        self.owner._wake_paused()

    def _give_up(self):
        """The finish timeout passed: what is left goes to the spool file, which stays."""
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
        if self.spool is None:
            self.spool = Spool(self.spool_dir, self.owner.id or "new")
        for records, acks in left:
            self.spool.push(records, acks)
        self.spool.close()
        self._note("losswatch: run %s: %d steps could not be sent before the finish timeout; they are in %s"
                   % (self.owner.id, n, self.spool.path))

    def _warn(self, key, text):
        """Says it once per kind of trouble until it clears."""
        if key not in self._warned:
            self._warned.add(key)
            self._note(text)

    def _note(self, text):
        if not self.owner.quiet or "crash" in self._warned:
            sys.stderr.write(text.rstrip("\n") + "\n")
            sys.stderr.flush()


def _begins_cycle(item):
    """A rewind's acknowledgement: it begins a cycle, so it goes first in an append of its own."""
    return item.__class__ is dict and "cycle" in item


def _error(answer):
    if isinstance(answer, dict):
        e = answer.get("error")
        f = answer.get("field")
        return "%s%s" % (e if e is not None else answer, " (field %s)" % f if f else "")
    return "" if answer is None else str(answer)
