"""losswatch: watch your own training run live in a losswatch server.

::

    import losswatch
    run = losswatch.init(name="mlp-sgd", config={"batch": 64})   # url, token: LOSSWATCH_URL, LOSSWATCH_TOKEN
    run.watch(optimizer, scheduler)          # optional: lr and grad_norm are then filled in, lr commands applied
    for step in range(1, n + 1):
        loss = loss_fn(model(x), y)
        loss.backward()
        run.log(step, loss=loss.item(), val_acc=acc)
        optimizer.step()
        optimizer.zero_grad()
        if run.stopped:
            break
    run.finish()

``log()`` only appends to a queue (about a microsecond); a background thread sends the steps in batches,
keeps them while the server is away (spilling to a file past ``memory_steps``) and sends them again when it is
back. The server's commands (an lr change, pause, resume, stop) are applied inside ``log()``, in the training
thread. Standard library only; torch is never imported, only the objects given to ``watch()`` are used.

Failover across nodes: ``url`` (or ``$LOSSWATCH_URL``) may name several nodes of a losswatch cluster, as a list
or comma-separated (``"http://h1:8080,http://h2:8080"``). The run talks to one node at a time, the first that
answers (``run.url``). When it fails (connection refused or reset, a timeout, 502 or 504, 503 for more than
10 s) the run moves to the next URL, round-robin, backing off (50 ms doubling to 2 s) only after every node
failed in a row; each move is logged at warning level by the ``losswatch`` logger, with its from and to URLs.
Before sending more steps it asks the new node for the run's last stored step and sends again, first, the
steps it had confirmed after that one (it keeps the last ``resend_window``), then the rest: no step is lost
or stored twice. A node answering 503 (busy, e.g. while it takes the run over from a node that died) is
asked again after the backoff; a 409 ends the run; a 404 ends it only once every node said so.

``losswatch.lr_find(model, optimizer, step_fn)`` runs a learning-rate range test as a run of its own and returns
the lrs, the losses and three suggested lrs, leaving the model and the optimizer as they were.
"""

import atexit
import collections
import math
import operator
import os
import sys
import threading
import time

from . import _wire
from ._commands import OPS as _LOOP_OPS, LoopControl, DEFAULT_CURVATURE_EVERY
from ._guard import guard_spec
from ._http import Nodes, Unreachable, node_urls
from ._lr_find import lr_find
from ._probe import Lookahead, lookahead_spec
from ._sender import Sender
from ._snapshots import DEFAULT_BYTES, DEFAULT_KEEP
from ._watch import Watched

__all__ = ["init", "Run", "LosswatchError", "lr_find", "Lookahead"]
__version__ = "0.1.0"

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_FINISH_TIMEOUT = 30.0

_now = time.time


class LosswatchError(Exception):
    """The server refused the run (a bad token, a bad config): raised by ``init``."""


def init(name=None, url=None, token=None, config=None, optimizer=None, auto_lr=False, guard=None, lookahead=None,
         **options):
    """Creates a run on the server and returns it, ready to ``log()``.

    ``url`` defaults to ``$LOSSWATCH_URL``, else http://127.0.0.1:8080; ``token`` to ``$LOSSWATCH_TOKEN``.
    For a cluster, ``url`` names several nodes: a list or tuple of URLs, or one string of URLs separated by
    commas (so does ``$LOSSWATCH_URL``). The run is created on the first that answers and its steps go to one
    node at a time, ``run.url``, moving on to the next when that one fails (see the module's docstring).
    ``config`` is free-form JSON (at most 4 KiB) shown with the run; ``optimizer`` a dict such as
    ``{"type": "adamw", "lr": 3e-4}`` or a torch optimizer (its type and numbers are sent). ``auto_lr=True`` lets
    the server apply its lr advice by itself.

    ``guard`` (``{"on": ["diverging", "non_finite", "spike", "dead"], "rewind": 50, "lr_factor": 0.1,
    "max_rewinds": 3}``, or True for the server's defaults) lets the server rewind the run past a blow-up: give
    ``watch()`` the model, and the client keeps snapshots to go back to. ``lookahead`` (``{"horizon": 200,
    "budget": 0.1}`` or True) tells the server it may ask for look-ahead probes: give ``watch()`` a
    ``losswatch.Lookahead``. ``options`` are ``Run``'s keyword arguments.
    """
    return Run(name=name, url=url, token=token, config=config, optimizer=optimizer, auto_lr=auto_lr, guard=guard,
               lookahead=lookahead, **options)


class Run:
    """One training run on the server. Not thread-safe: call ``log()`` from the training loop's thread.

    Options (keyword arguments of ``init``):

    ``flush_interval`` (0.05 s)   steps are sent at least this often...
    ``batch_steps`` (4096)        ... or as soon as this many are waiting, at most this many per request
    ``memory_steps`` (100,000)    steps kept in memory while the server is away; older ones go to a spool file
    ``spool_dir`` (None)          where that file goes; None: a new folder in the temp folder
    ``resend_window`` (65,536)    steps kept after the server took them, sent again if it is killed and loses them
    ``finish_timeout`` (30 s)     how long ``finish()`` and interpreter exit wait for the steps to be sent
    ``request_timeout`` (5 s)     one request's timeout
    ``poll_interval`` (0.2 s)     how often an idle or paused run asks the server for commands
    ``quiet`` (False)             print nothing (problems included) to stderr
    """

    def __init__(self, name=None, url=None, token=None, config=None, optimizer=None, auto_lr=False, guard=None,
                 lookahead=None, _extra=None, flush_interval=0.05, batch_steps=4096, memory_steps=100_000, spool_dir=None,
                 resend_window=65_536, finish_timeout=DEFAULT_FINISH_TIMEOUT, request_timeout=5.0,
                 poll_interval=0.2, quiet=False):
        if not 1 <= batch_steps <= 10_000:
            raise ValueError("losswatch: batch_steps must be 1 to 10,000 (the server's limit), not %r" % batch_steps)
        if memory_steps < batch_steps:
            raise ValueError("losswatch: memory_steps must be at least batch_steps")
        urls = node_urls(url or os.environ.get("LOSSWATCH_URL") or DEFAULT_URL)
        token = token if token is not None else os.environ.get("LOSSWATCH_TOKEN") or None
        self.id = None
        """The run's id on the server (None until the server, if it was down at ``init``, is reached)."""
        self.name = name
        self.urls = urls
        """The nodes' URLs in the order they are tried (one, unless the server is a cluster); ``url`` is the one
        in use."""
        self.summary = None
        """The run's summary as the server last returned it (on creation, on finish)."""
        self.stopped = False
        """True once the server said stop (or ended the run): leave the training loop."""
        self.dropped_steps = 0
        """Steps the server refused as invalid (400) and that were not sent again; 0 unless something is wrong."""
        self.spilled_steps = 0
        """Steps that went to the spool file while the server was away (they are sent all the same)."""
        self.quiet = quiet
        self.finish_timeout = finish_timeout
        self._queue = collections.deque()
        self._batch_steps = batch_steps
        self._last_step = 0
        self._finished = False
        self._watched = None
        self._metric_names = set()
        self._commands = collections.deque()
        self._commands_waiting = False
        self._command_cond = threading.Condition()
        self._paused = False
        self._warned_lr = False
        self.rewound = False
        """True once the server rewound the run (its guard): ``step`` went back. The loop may read and reset it."""
        self._guard = guard_spec(guard)
        self._lookahead = lookahead_spec(lookahead)
        self._control = None   # the guard's snapshots, the probes, the curvature: LoopControl, from watch()
        self._cycle = 0        # rewinds executed
        self._rewound_to = None
        self._step = 0

        self._http = Nodes(urls, token, request_timeout, quiet)
        extra = dict(_extra or {})
        if self._guard is not None:
            extra["guard"] = self._guard
        if self._lookahead is not None:
            extra["lookahead"] = self._lookahead
        body = _wire.create_body(name, config, _wire.optimizer_spec(optimizer), auto_lr, extra)
        self._sender = Sender(self, self._http, body, batch_steps, memory_steps, flush_interval, poll_interval,
                              spool_dir, resend_window)
        self._sender.cycles = self._guard is not None
        status, answer = self._create(body)
        if status is None:
            self._say("losswatch: cannot reach %s (%s); the run is created and its steps sent once it answers"
                      % (", ".join(urls), answer))
        else:
            if status == 201 and isinstance(answer, dict) and answer.get("id"):
                self.id = answer["id"]
                self.summary = answer
            elif 400 <= status < 500 and status != 429:
                self._http.close()
                raise LosswatchError("losswatch: %s refused to create the run: %d %s"
                                     % (self.url, status, answer.get("error") if isinstance(answer, dict) else answer))
            else:
                self._say("losswatch: creating the run: %d %s; trying again in the background" % (status, answer))
        self._sender.start()
        _at_exit.add(self)

    @property
    def url(self):
        """The URL of the node the run talks to now (with several, it changes when one fails)."""
        return self._http.url

    def _create(self, body):
        """Creates the run on the first node that answers; returns its answer, or ``(None, why)`` when none
        did (the sender then tries again in the background)."""
        nodes = self._http
        for _ in nodes.urls:
            try:
                status, answer = nodes.request("POST", "/api/runs", body)
            except Unreachable as e:
                status, answer = None, e
                why = str(e)
            else:
                if status not in (502, 503, 504) or len(nodes.urls) == 1:
                    return status, answer
                why = "%d %s" % (status, answer.get("error") if isinstance(answer, dict) else answer)
            if len(nodes.urls) > 1:
                nodes.fail_over(why)   # after the last, back to the first: the sender goes on from there
        return status, answer

    def __repr__(self):
        return "<losswatch.Run %s %r at %s%s>" % (self.id, self.name, self.url, " stopped" if self.stopped else "")

    # ---- the training loop's side

    def watch(self, optimizer, scheduler=None, *, model=None, lookahead=None, curvature=None,
              curvature_every=DEFAULT_CURVATURE_EVERY, snapshot_every=None, snapshot_keep=DEFAULT_KEEP,
              snapshot_bytes=DEFAULT_BYTES):
        """From now on ``log()`` fills in ``lr`` (the first param group's) and ``grad_norm`` (of all the
        optimizer's parameters' gradients, so call it after ``backward()``) when not given, and the server's lr
        commands scale every param group's lr, and the scheduler's ``base_lrs``, by the same factor.

        ``model`` (a torch module) lets a guarded run (``init(guard=...)``) keep snapshots and rewind: a snapshot
        of the model's, the optimizer's and the scheduler's state and the RNGs every ``snapshot_every`` steps
        (``guard["rewind"] // 5``, 10 by default), the newest ``snapshot_keep`` of them within ``snapshot_bytes``,
        in host memory, plus the state at this call. ``lookahead``, a ``losswatch.Lookahead(step_fn, batches)``:
        the means to run the server's look-ahead probes (``init(lookahead=...)``). ``curvature``, a function that
        returns the loss on a batch with its graph: the sharpness and stability are measured every
        ``curvature_every`` steps and sent with the steps.
        """
        watched = Watched(optimizer, scheduler)
        control = None
        if model is not None or lookahead is not None or curvature is not None or self._guard is not None:
            control = LoopControl(watched, model, self.step, self._say, guard=self._guard,
                                  lookahead_spec=self._lookahead, lookahead=lookahead, curvature=curvature,
                                  curvature_every=curvature_every, snapshot_every=snapshot_every,
                                  snapshot_keep=snapshot_keep, snapshot_bytes=snapshot_bytes)
        self._watched = watched
        self._control = control
        return self

    @property
    def step(self):
        """The step the run is at: the last one logged, or the one a rewind went back to. ``log()`` without a
        step logs the next one."""
        return self._step

    def log(self, step=None, loss=None, lr=None, grad_norm=None, **metrics):
        """Records one step: ``step`` an int greater than the last one (gaps are fine; left out: the next one),
        ``loss`` a number (NaN and infinities too), ``lr``, ``grad_norm`` and up to 8 other named scalars
        (``val_acc=0.93``). Returns the step the run is at: this one, or the one a rewind went back to.

        Returns at once, unless the server paused the run: then it waits here until resume or stop. A command
        from the server (an lr change, stop, rewind) takes effect before it returns: the optimizer step that
        follows this call is the first to use the new lr. Call it after ``optimizer.step()`` when the run has a
        guard: the snapshot it takes is then the state the step ended in, and a rewind to it replays exactly.
        """
        if step.__class__ is not int or step <= self._last_step:
            step = self._check_step(step)
        if loss.__class__ is not float:
            if loss is None:
                raise TypeError("losswatch: log() needs loss=")
            loss = float(loss)
        control = self._control
        extra = control.before(step) if control is not None else None
        deferred = self._apply_commands(step) if self._commands_waiting else None
        w = self._watched
        if w is not None:
            if lr is None:
                lr = w.lr()
            if grad_norm is None:
                grad_norm = w.grad_norm()
        if lr is not None and lr.__class__ is not float:
            lr = float(lr)
        if grad_norm is not None and grad_norm.__class__ is not float:
            grad_norm = float(grad_norm)
        if metrics:
            self._check_metrics(metrics)
        else:
            metrics = None
        self._last_step = self._step = step
        q = self._queue
        if extra is None:
            q.append((step, loss, lr, grad_norm, _now(), metrics))
        else:
            q.append((step, loss, lr, grad_norm, _now(), metrics, extra))
        if deferred:
            q.extend(deferred)   # after the step they took effect at, so a stop never cuts it off
            self._sender.wake.set()
        elif len(q) >= self._batch_steps:
            self._sender.wake.set()
        if control is not None:
            if self._rewound_to is not None:
                self._last_step = self._step = self._rewound_to   # the next steps are numbered from there
                self._rewound_to = None
            control.after(step)
        return self._step

    @property
    def paused(self):
        return self._paused

    def finish(self, state="finished", message=None, timeout=None):
        """Sends what is left (waiting at most ``timeout`` s, ``finish_timeout`` by default) and ends the run
        as ``finished``, or ``failed`` with a message. Steps still unsent then stay in a spool file, named on
        stderr. Calling it again does nothing."""
        if self._finished:
            return
        if state not in ("finished", "failed"):
            raise ValueError("losswatch: finish() takes state 'finished' or 'failed', not %r" % (state,))
        self._finished = True
        self._step = self.step
        self._last_step = math.inf   # log() after finish fails in _check_step
        _at_exit.discard(self)
        timeout = self.finish_timeout if timeout is None else timeout
        s = self._sender
        s.deadline = time.monotonic() + timeout
        s.finish_request = (state, None if message is None else str(message)[:1000])
        s.wake.set()
        self._wake_paused()
        s.done.wait(timeout + 1.0)
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None:
            self.finish()
        else:
            self.finish("failed", repr(exc))
        return False

    # ---- the slow paths of log()

    def _check_step(self, step):
        if self._finished:
            raise RuntimeError("losswatch: log() after finish()")
        if step is None:
            return self._last_step + 1
        step = operator.index(step)
        if step < 1:
            raise ValueError("losswatch: steps start at 1, not %d" % step)
        if step <= self._last_step:
            raise ValueError("losswatch: step %d after step %d: steps must increase (gaps are fine)"
                             % (step, self._last_step))
        return step

    def _check_metrics(self, metrics):
        known = self._metric_names
        for k, v in metrics.items():
            if k not in known:
                _wire.check_metric_name(k, known)
                known.add(k)
            if v is not None and v.__class__ is not float:
                metrics[k] = float(v)

    # ---- commands: the sender hands them over, log() applies them

    def _command_arrived(self, commands, withdrawn=()):
        with self._command_cond:
            if withdrawn:
                kept = [c for c in self._commands if c["id"] not in withdrawn]
                self._commands.clear()
                self._commands.extend(kept)
            self._commands.extend(commands)
            self._commands_waiting = True
            self._command_cond.notify_all()

    def _wake_paused(self):
        with self._command_cond:
            self._command_cond.notify_all()

    def _apply_commands(self, step):
        """Applies the waiting commands at ``step``; waits here while paused. Returns the acknowledgements to
        queue after the step (lr, stop); pause and resume are acknowledged at once."""
        deferred = []
        while True:
            with self._command_cond:
                commands = list(self._commands)
                self._commands.clear()
                self._commands_waiting = False
            for c in commands:
                op = c.get("op")
                ack = {"id": c["id"], "step": step if self._rewound_to is None else self._rewound_to}
                if op in _LOOP_OPS:
                    if not self.stopped:
                        self._loop_command(c, ack["step"], deferred)
                elif op == "lr":
                    if self._apply_lr(c, step):
                        deferred.append(ack)
                elif op == "stop":
                    self.stopped = True
                    self._paused = False
                    deferred.append(ack)
                elif op == "pause":
                    if not self.stopped:
                        self._paused = True
                        self._say("losswatch: paused by the server at step %d" % step)
                    self._ack_now(ack)
                elif op == "resume":
                    if self._paused:
                        self._say("losswatch: resumed at step %d" % step)
                    self._paused = False
                    self._ack_now(ack)
                else:
                    self._say("losswatch: ignoring a command this client does not know: %r" % (c,))
            if not self._paused or self._finished:
                return deferred
            with self._command_cond:
                while not self._commands and not self.stopped and not self._sender.done.is_set():
                    self._command_cond.wait(0.5)   # in steps, so Ctrl-C gets through
                if self.stopped and not self._commands:
                    self._paused = False
                    return deferred

    def _loop_command(self, command, step, deferred):
        """A rewind or a probe, executed by the watched loop's LoopControl."""
        control = self._control
        if control is None:
            deferred.append({"id": command["id"], "step": step, "error": "no watch(): nothing to %s"
                             % command.get("op")})
            self._say("losswatch: the server asks for a %s but nothing is watched (run.watch(optimizer, scheduler, "
                      "model=model))" % command.get("op"))
            return
        ack, to = control.apply(command, step)
        if to is not None:
            self._cycle += 1
            ack["cycle"] = self._cycle   # the sender begins an append of the new cycle with it
            self._rewound_to = to
            self.rewound = True
        deferred.append(ack)

    def _ack_now(self, ack):
        self._queue.append(ack)
        self._sender.wake.set()

    def _apply_lr(self, command, step):
        w = self._watched
        if w is None:
            if not self._warned_lr:
                self._warned_lr = True
                self._say("losswatch: the server asks for lr %s but no optimizer is watched (run.watch(optimizer)); "
                          "the command is not applied" % command.get("lr"))
            return False
        current = w.lr()
        lr = command.get("lr")
        factor = command.get("factor")
        if lr is not None and current and (factor is None or w.scheduler is None):
            # no schedule: the lr asked for, exactly (the factor is relative to the lr the server last saw);
            # under a schedule: the factor, since the schedule moved the lr on since then
            factor = float(lr) / current
        try:
            factor = float(factor)
        except (TypeError, ValueError):
            factor = math.nan
        if not (factor > 0 and math.isfinite(factor)):
            self._say("losswatch: ignoring an lr command it cannot apply: %r" % (command,))
            return False
        new = w.scale_lr(factor, None if lr is None else float(lr))
        self._say("losswatch: lr %.6g -> %.6g from step %d (%s)" % (current, new, step, command.get("id")))
        return True

    def _say(self, text):
        if not self.quiet:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()


class _AtExit:
    """Finishes the runs still open when the interpreter exits: ``failed`` if an exception ended the script."""

    def __init__(self):
        self.runs = []
        self.error = None
        self._installed = False

    def add(self, run):
        if not self._installed:
            self._installed = True
            atexit.register(self._exit)
            previous = sys.excepthook

            def hook(kind, value, tb):
                self.error = value
                previous(kind, value, tb)

            sys.excepthook = hook
        self.runs.append(run)

    def discard(self, run):
        if run in self.runs:
            self.runs.remove(run)

    def _exit(self):
        for run in list(self.runs):
            if self.error is not None:
                run.finish("failed", repr(self.error))
            else:
                run.finish()


_at_exit = _AtExit()
