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
thread. Standard library only; torch is never imported, only the objects given to ``watch()`` and ``log()`` are
used.

What ends a run: ``finish()``, a ``stop`` from the server (``run.stop_reason`` says why), a 409 whose answer says
the run ended (finished, failed, stopped, diverged: ``run.stop_reason`` is that state), or a 404 from every node
(deleted). Nothing else: a server that is away, restarting, busy or between states (503, a 409 that says no
ended state) is tried again with every step kept, and said once in one line (stderr, or the ``losswatch`` logger
where logging is set up).

Failover across nodes: ``url`` (or ``$LOSSWATCH_URL``) may name several nodes of a losswatch cluster, as a list
or comma-separated (``"http://h1:8080,http://h2:8080"``). The run talks to one node at a time, the first that
answers (``run.url``). When it fails (connection refused or reset, a timeout, 502 or 504, 503 for more than
10 s) the run moves to the next URL, round-robin, backing off (50 ms doubling to 2 s) only after every node
failed in a row; each move is logged at warning level by the ``losswatch`` logger, with its from and to URLs.
Before sending more steps it asks the new node for the run's last stored step and sends again, first, the
steps it had confirmed after that one (it keeps the last ``resend_window``), then the rest: no step is lost
or stored twice.

One run, one process: a run's steps come from the process that called ``init`` (or ``init(resume=id)``). In a
process forked from it (a DataLoader worker, ``multiprocessing`` with fork) ``log()`` raises a LosswatchError
that says what to do instead; ``finish()`` there does nothing (the parent owns the run).

``losswatch.lr_find(model, optimizer, step_fn)`` runs a learning-rate range test as a run of its own and returns
the lrs, the losses and three suggested lrs, leaving the model and the optimizer as they were.
``losswatch.follow(run_id, mode="all")`` iterates over a run's steps as the server streams them (every step once,
in order, as columns of ``array.array``; the WebSocket's binary format): to record or analyse a run elsewhere.
``python3 -m losswatch sync PATH`` sends the steps a script left in a spool file (its server was away).
"""

from __future__ import annotations

import atexit
import collections
import logging
import math
import operator
import os
import sys
import threading
import time
import weakref
from typing import Any, Deque, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple, Union

from . import _wire
from ._follow import Follow, Steps, follow
from ._commands import DEFAULT_CURVATURE_EVERY, OPS as _LOOP_OPS, LoopControl
from ._guard import guard_spec
from ._http import Nodes, Unreachable, node_urls
from ._lr_find import lr_find
from ._probe import Lookahead, lookahead_spec
from ._say import say
from ._sender import LosswatchError, Sender
from ._snapshots import DEFAULT_BYTES, DEFAULT_KEEP
from ._watch import Watched

__all__ = ["init", "Run", "LosswatchError", "lr_find", "Lookahead", "follow", "Follow", "Steps"]
__version__ = "0.2.0"

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_FINISH_TIMEOUT = 30.0

_now = time.time


def init(name: Optional[str] = None, url: Union[str, Sequence[str], None] = None, token: Optional[str] = None,
         config: Any = None, optimizer: Any = None, auto_lr: bool = False, *, tags: Optional[Iterable[str]] = None,
         notes: Optional[str] = None, group: Optional[str] = None, resume: Optional[str] = None,
         guard: Any = None, lookahead: Any = None, **options: Any) -> "Run":
    """Creates a run on the server and returns it, ready to ``log()``; or, with ``resume=run_id``, takes that run
    on again.

    ``url`` defaults to ``$LOSSWATCH_URL``, else http://127.0.0.1:8080; ``token`` to ``$LOSSWATCH_TOKEN``.
    For a cluster, ``url`` names several nodes: a list or tuple of URLs, or one string of URLs separated by
    commas (so does ``$LOSSWATCH_URL``). The run is created on the first that answers and its steps go to one
    node at a time, ``run.url``, moving on to the next when that one fails (see the module's docstring).
    ``config`` is free-form JSON (at most 4 KiB) shown with the run; ``optimizer`` a dict such as
    ``{"type": "adamw", "lr": 3e-4}`` or a torch optimizer (its type and numbers are sent). ``auto_lr=True`` lets
    the server apply its lr advice by itself.

    ``tags`` (strings) and ``notes`` (text) are shown with the run and can be changed later (``run.tags = …``,
    ``run.notes = …``). ``group`` names a group of runs, such as one run per process of a distributed job: it is
    one more tag, so the page groups the runs by it.

    ``resume``: the id of an existing run (interrupted, or ended by a crash) to continue: the server is asked to
    resume it unless it is running, and ``run.step`` is its last step; ``log()`` without a step numbers on from
    there, and steps the run has already are skipped (said once). A run the server cannot resume (no such run, or
    one it refuses to resume) raises a LosswatchError here; while no node answers, the run is resumed in the
    background once one does. ``name``, ``config``, ``optimizer`` and ``auto_lr`` are then the run's own.

    ``guard`` (``{"on": ["diverging", "non_finite", "spike", "dead"], "rewind": 50, "lr_factor": 0.1,
    "max_rewinds": 3}``, or True for the server's defaults) lets the server rewind the run past a blow-up: give
    ``watch()`` the model, and the client keeps snapshots to go back to. ``lookahead`` (``{"horizon": 200,
    "budget": 0.1}`` or True) tells the server it may ask for look-ahead probes: give ``watch()`` a
    ``losswatch.Lookahead``. Both are checked here (a TypeError or ValueError) and sent with the run.

    ``options`` are ``Run``'s keyword arguments.
    """
    return Run(name=name, url=url, token=token, config=config, optimizer=optimizer, auto_lr=auto_lr, tags=tags,
               notes=notes, group=group, resume=resume, guard=guard, lookahead=lookahead, **options)


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

    def __init__(self, name: Optional[str] = None, url: Union[str, Sequence[str], None] = None,
                 token: Optional[str] = None, config: Any = None, optimizer: Any = None, auto_lr: bool = False,
                 tags: Optional[Iterable[str]] = None, notes: Optional[str] = None, group: Optional[str] = None,
                 resume: Optional[str] = None, guard: Any = None, lookahead: Any = None,
                 _extra: Optional[Dict[str, Any]] = None, flush_interval: float = 0.05, batch_steps: int = 4096,
                 memory_steps: int = 100_000, spool_dir: Optional[str] = None, resend_window: int = 65_536,
                 finish_timeout: float = DEFAULT_FINISH_TIMEOUT, request_timeout: float = 5.0,
                 poll_interval: float = 0.2, quiet: bool = False) -> None:
        if not 1 <= batch_steps <= 10_000:
            raise ValueError("losswatch: batch_steps must be 1 to 10,000 (the server's limit), not %r" % batch_steps)
        if memory_steps < batch_steps:
            raise ValueError("losswatch: memory_steps must be at least batch_steps")
        if notes is not None and not isinstance(notes, str):
            raise TypeError("losswatch: notes must be a string, not %r" % (notes,))
        if group is not None and not isinstance(group, str):
            raise TypeError("losswatch: group must be a string, not %r" % (group,))
        urls = node_urls(url or os.environ.get("LOSSWATCH_URL") or DEFAULT_URL)
        token = token if token is not None else os.environ.get("LOSSWATCH_TOKEN") or None
        self.id: Optional[str] = None
        """The run's id on the server (None until the server, if it was down at ``init``, is reached)."""
        self.name = name
        self.urls = urls
        """The nodes' URLs in the order they are tried (one, unless the server is a cluster); ``url`` is the one
        in use."""
        self.summary: Optional[Dict[str, Any]] = None
        """The run's summary as the server last returned it (on creation, on resume, on finish)."""
        self.stopped = False
        """True once the server said stop (or ended the run): leave the training loop."""
        self.stop_reason: Optional[str] = None
        """Why the run stopped, once ``stopped``: the stop command's reason ("stopped" by a person, "diverged" by
        the guard), the state a 409 said the run ended in ("finished", "failed", "stopped", "diverged"),
        "deleted" (no node knows it) or "refused" (the server refused to create or resume it)."""
        self.dropped_steps = 0
        """Steps the server refused as invalid (400) and that were not sent again; 0 unless something is wrong."""
        self.spilled_steps = 0
        """Steps that went to the spool file while the server was away (they are sent all the same)."""
        self.quiet = quiet
        self.finish_timeout = finish_timeout
        self._queue: Deque[Any] = collections.deque()
        self._batch_steps = batch_steps
        self._last_step: float = 0   # log()'s floor: the last step, or infinity once log() must not be called
        self._step = 0               # the run's step while the floor is infinite
        self._resumed_at = 0         # a resumed run's last step on the server: steps up to it are skipped
        self._finished = False
        self._forked = False
        self._pid = os.getpid()
        self._watched: Optional[Watched] = None
        self._metric_names: Set[str] = set()
        self._refused_metrics: Set[str] = set()
        self._commands: Deque[Dict[str, Any]] = collections.deque()
        self._commands_waiting = False
        self._command_cond = threading.Condition()
        self._paused = False
        self._warned: Set[str] = set()
        self._tags = _wire.tag_list(tags, group)
        self._notes = notes
        self.rewound = False
        """True once the server rewound the run (its guard): ``step`` went back. The loop may read and reset it."""
        self._guard = guard_spec(guard)
        self._lookahead = lookahead_spec(lookahead)
        self._control: Optional[LoopControl] = None   # the snapshots, probes and curvature, from watch()
        self._cycle = 0        # the rewinds executed (a resumed run: the server's cycle)
        self._rewound_to: Optional[int] = None

        self._http = Nodes(urls, token, request_timeout, quiet)
        body = None
        if resume is None:
            extra = dict(_extra or {})
            if self._guard is not None:
                extra["guard"] = self._guard
            if self._lookahead is not None:
                extra["lookahead"] = self._lookahead
            body = _wire.create_body(name, config, _wire.optimizer_spec(optimizer), auto_lr, self._tags, notes,
                                     extra)
        self._sender = Sender(self, self._http, body, batch_steps, memory_steps, flush_interval, poll_interval,
                              spool_dir, resend_window)
        # a guarded run's appends say their cycle (a resumed run: say guard= again, and it goes on in the server's)
        self._sender.cycles = self._guard is not None
        if body is not None:
            self._create(body)
        else:
            self._resume(str(resume))
        _runs.add(self)
        self._sender.start()
        _at_exit.add(self)

    @property
    def url(self) -> str:
        """The URL of the node the run talks to now (with several, it changes when one fails)."""
        return self._http.url

    @property
    def step(self) -> int:
        """The step the run is at: the last one logged (a resumed run's last step, until it logs more)."""
        return int(self._last_step) if self._last_step != math.inf else self._step

    @property
    def tags(self) -> List[str]:
        """The run's tags; setting them sends them to the server (``PATCH``, in the background)."""
        return list(self._tags)

    @tags.setter
    def tags(self, tags: Iterable[str]) -> None:
        self._tags = _wire.tag_list(tags)
        self._sender.patch["tags"] = list(self._tags)
        self._sender.wake.set()

    @property
    def notes(self) -> Optional[str]:
        """The run's notes; setting them sends them to the server (``PATCH``, in the background)."""
        return self._notes

    @notes.setter
    def notes(self, notes: str) -> None:
        if not isinstance(notes, str):
            raise TypeError("losswatch: notes must be a string, not %r" % (notes,))
        self._notes = notes
        self._sender.patch["notes"] = notes
        self._sender.wake.set()

    def _create(self, body: Dict[str, Any]) -> None:
        """Creates the run on the first node that answers; when none does, the sender tries again in the
        background."""
        nodes = self._http
        status: Optional[int] = None
        answer: Any = None
        failed = 0
        while failed < len(nodes.urls):
            try:
                status, answer = nodes.request("POST", "/api/runs", _wire.json_body(body))
            except Unreachable as e:
                status, answer = None, str(e)
            else:
                if status == 400 and self._sender.without_tags(answer):
                    continue   # once more, without them
                if status not in (502, 503, 504) or len(nodes.urls) == 1:
                    break
                answer = "%d %s" % (status, answer.get("error") if isinstance(answer, dict) else answer)
            failed += 1
            if len(nodes.urls) > 1:
                nodes.fail_over(str(answer))   # after the last, back to the first: the sender goes on from there
        if status is None:
            self._say("losswatch: cannot reach %s (%s); the run is created and its steps sent once it answers"
                      % (", ".join(nodes.urls), answer))
            self._sender._warned.add("create")   # said: the sender need not say it again
        elif status == 201 and isinstance(answer, dict) and answer.get("id"):
            self._sender.created(answer)
        elif 400 <= status < 500 and status != 429:
            nodes.close()
            raise LosswatchError("losswatch: %s refused to create the run: %d %s"
                                 % (self.url, status, answer.get("error") if isinstance(answer, dict) else answer))
        else:
            self._say("losswatch: creating the run: %d %s; trying again in the background" % (status, answer))

    def _resume(self, run_id: str) -> None:
        self.id = run_id
        try:
            attached = self._sender.attach()
        except LosswatchError:
            self._http.close()
            raise
        if not attached:
            return   # said by the sender; it resumes the run once a node answers
        self._last_step = self._resumed_at = self._sender.confirmed
        summary = self.summary or {}
        self.name = summary.get("name", self.name)
        if isinstance(summary.get("tags"), list):
            self._tags = list(summary["tags"])
        if isinstance(summary.get("notes"), str):
            self._notes = summary["notes"]
        paused = summary.get("state") == "paused"
        self._say("losswatch: run %s resumed at %s from step %d%s" % (
            run_id, self.url, self._resumed_at,
            "; it is paused: log() waits for a resume from the page or REST" if paused else ""), logging.INFO)
        if paused:
            self._paused = True
            self._commands_waiting = True   # the first log() waits for the resume (or a stop)

    def __repr__(self) -> str:
        return "<losswatch.Run %s %r at %s%s>" % (self.id, self.name, self.url, " stopped" if self.stopped else "")

    def __getstate__(self) -> Any:
        raise TypeError("losswatch: a Run cannot be pickled into another process (multiprocessing with spawn); "
                        "log from the process that created it, or attach to the run there with "
                        "losswatch.init(resume=%r) once this one no longer logs" % (self.id,))

    # ---- the training loop's side

    def watch(self, optimizer: Any, scheduler: Any = None, *, model: Any = None, lookahead: Optional[Lookahead] = None,
              curvature: Any = None, curvature_every: int = DEFAULT_CURVATURE_EVERY,
              snapshot_every: Optional[int] = None, snapshot_keep: int = DEFAULT_KEEP,
              snapshot_bytes: int = DEFAULT_BYTES) -> "Run":
        """From now on ``log()`` fills in ``lr`` (the first param group's) and ``grad_norm`` (of all the
        optimizer's parameters' gradients, in one fused call, so call it after ``backward()``) when not given,
        and the server's lr commands scale every param group's lr, and the scheduler's ``base_lrs``, by the same
        factor. On a GPU the gradient norm is left on the device and read by the sender thread: ``log()`` never
        waits for the device.

        ``model`` (a torch module) lets a guarded run (``init(guard=...)``) keep snapshots and rewind: the model's,
        the optimizer's and the scheduler's state and the RNGs every ``snapshot_every`` steps (``guard["rewind"]
        // 5``: 10 by default), the newest ``snapshot_keep`` of them within ``snapshot_bytes``, in host memory,
        plus the state at this call. ``lookahead``, a ``losswatch.Lookahead(step_fn, batches)``: the means to run
        the server's look-ahead probes (``init(lookahead=...)``). ``curvature``, a function returning the loss on a
        batch with its graph: the sharpness and the stability are measured every ``curvature_every`` steps and
        sent with them.
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

    def log(self, step: Optional[int] = None, loss: Any = None, lr: Any = None, grad_norm: Any = None,
            metrics: Optional[Mapping[str, Any]] = None, **scalars: Any) -> int:
        """Records one step: ``step`` an int greater than the last one (gaps are fine; left out: the next one),
        ``loss`` a number (NaN and infinities too), ``lr``, ``grad_norm`` and other named scalars, as keywords
        (``val_acc=0.93``) or in ``metrics`` for names that are not identifiers (``{"train/loss": x,
        "val.acc": y}``). A number may be a float, an int, a numpy scalar or a one-element tensor; a CUDA
        tensor is read later by the sender thread, so ``log()`` never waits for the device.

        Metric names are 1 to 64 letters, digits, ``_ . / -`` starting with a letter or ``_``, at most 64 per run:
        a name past that, or one the server refuses, is left out (said once, naming it) and the step is sent
        without it; ``log()`` never raises for a metric.

        Returns the step the run is at (``run.step``): this one, or the one a rewind went back to. Returns at
        once, unless the server paused the run: then it waits here until resume or stop. A command from the
        server (an lr change, stop, rewind) takes effect before it returns: the optimizer step that follows this
        call is the first to use the new lr. Call it after ``optimizer.step()`` when the run has a guard: the
        snapshot it takes is then the state the step ended in, and a rewind to it replays exactly.
        """
        if step.__class__ is not int or step <= self._last_step:   # type: ignore[operator]
            checked = self._check_step(step)
            if checked is None:
                return self.step
            step = checked
        later = False   # a value still on a device: the record goes as a list, read by the sender
        if loss.__class__ is not float:
            loss = self._loss(loss)
            later = loss.__class__ is not float
        control = self._control
        extra = control.before(step) if control is not None else None   # type: ignore[arg-type]
        deferred = self._apply_commands(step) if self._commands_waiting else None   # type: ignore[arg-type]
        w = self._watched
        if w is not None:
            if lr is None:
                lr = w.lr()
            if grad_norm is None:
                grad_norm = w.grad_norm()
        if lr.__class__ is not float and lr is not None:
            lr = _number(lr, "lr")
            later = later or lr.__class__ is not float
        if grad_norm.__class__ is not float and grad_norm is not None:
            grad_norm = _number(grad_norm, "grad_norm")
            later = later or grad_norm.__class__ is not float
        m = None
        if scalars or metrics:
            m, on_device = self._metrics(metrics, scalars)
            later = later or on_device
        self._last_step = step   # type: ignore[assignment]
        q = self._queue
        if later:
            q.append([step, loss, lr, grad_norm, _now(), m] if extra is None else
                     [step, loss, lr, grad_norm, _now(), m, extra])
        elif extra is None:
            q.append((step, loss, lr, grad_norm, _now(), m))
        else:
            q.append((step, loss, lr, grad_norm, _now(), m, extra))
        if deferred:
            q.extend(deferred)   # after the step they took effect at, so a stop never cuts it off
            self._sender.wake.set()
        elif len(q) >= self._batch_steps:
            self._sender.wake.set()
        if control is not None:
            control.after(step)   # type: ignore[arg-type]
            if self._rewound_to is not None:
                step = self._last_step = self._rewound_to   # the next steps are numbered from there
                self._rewound_to = None
        return step   # type: ignore[return-value]

    @property
    def paused(self) -> bool:
        return self._paused

    def finish(self, state: str = "finished", message: Optional[str] = None, timeout: Optional[float] = None) -> None:
        """Sends what is left (waiting at most ``timeout`` s, ``finish_timeout`` by default) and ends the run
        as ``finished``, or ``failed`` with a message. Steps still unsent then stay in a spool file, named on
        stderr (``python3 -m losswatch sync`` sends them later). Calling it again does nothing; so does calling
        it in a forked child (the parent owns the run)."""
        if self._finished or self._forked:
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

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if exc is None:
            self.finish()
        else:
            self.finish("failed", repr(exc))

    # ---- the slow paths of log()

    def _check_step(self, step: Any) -> Optional[int]:
        """The step to log; None to skip it (a resumed run's step it has already)."""
        if self._forked:
            raise LosswatchError(
                "losswatch: log() in process %d, forked from process %d which created run %s: a run takes its steps "
                "from one process. Log from the parent (send the numbers back to it, e.g. through a "
                "multiprocessing.Queue), or give each process a run of its own, grouped: "
                "losswatch.init(group=...), or attach to the run by id in one process at a time: "
                "losswatch.init(resume=%r)" % (os.getpid(), self._pid, self.id, self.id))
        if self._finished:
            raise RuntimeError("losswatch: log() after finish()")
        if step is None:
            return int(self._last_step) + 1
        step = operator.index(step)
        if step < 1:
            raise ValueError("losswatch: steps start at 1, not %d" % step)
        if step <= self._last_step:
            if step <= self._resumed_at and self._last_step == self._resumed_at:
                self._warn_once("resumed", "losswatch: run %s has its steps up to %d already; steps logged again up "
                                "to there are skipped (from step %d)" % (self.id, self._resumed_at, step))
                return None
            raise ValueError("losswatch: step %d after step %d: steps must increase (gaps are fine)"
                             % (step, self._last_step))
        return step

    def _loss(self, loss: Any) -> Any:
        if loss is None:
            raise TypeError("losswatch: log() needs loss=")
        return _number(loss, "loss")

    def _metrics(self, metrics: Optional[Mapping[str, Any]], scalars: Dict[str, Any]) -> Tuple[Optional[dict], bool]:
        """The step's metrics as the record holds them (numbers as floats, or device tensors read later: then
        True), without the ones that cannot be sent (said once each)."""
        if metrics:
            if not isinstance(metrics, Mapping):
                self._warn_once("metrics-type", "losswatch: log()'s metrics must be a dict of names to numbers, "
                                "not %r; left out" % (metrics,))
                metrics = {}
            scalars = dict(metrics, **scalars) if scalars else dict(metrics)
        known = self._metric_names
        later = False
        out: Dict[str, Any] = {}
        for k, v in scalars.items():
            if k not in known:
                if k in self._refused_metrics:
                    continue
                why = _wire.metric_refusal(k, known)
                if why is not None:
                    self._refuse_metrics([k], why)
                    continue
                known.add(k)
            if v is not None and v.__class__ is not float:
                try:
                    v = _number(v, k)
                except TypeError as e:
                    self._warn_once("value-" + k, "%s; left out" % e)
                    continue
                later = later or v.__class__ is not float
            out[k] = v
        return (out or None), later

    def _refuse_metrics(self, names: Iterable[str], why: str) -> None:
        """These metrics are not sent from now on (nor where still waiting: the sender's part); said once each.
        Called from the training thread (log) and the sender's (the server refused them)."""
        for k in names:
            self._metric_names.discard(k)
            self._refused_metrics.add(k)
            self._warn_once("metric-" + str(k), "losswatch: metric %r is not sent (%s); the steps are sent "
                            "without it" % (k, why))

    def _warn_once(self, key: str, text: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self._say(text)

    # ---- commands: the sender hands them over, log() applies them

    def _command_arrived(self, commands: List[Dict[str, Any]], withdrawn: Iterable[str] = ()) -> None:
        with self._command_cond:
            if withdrawn:
                kept = [c for c in self._commands if c["id"] not in withdrawn]
                self._commands.clear()
                self._commands.extend(kept)
            self._commands.extend(commands)
            self._commands_waiting = True
            self._command_cond.notify_all()

    def _wake_paused(self) -> None:
        with self._command_cond:
            self._command_cond.notify_all()

    def _apply_commands(self, step: int) -> List[Dict[str, Any]]:
        """Applies the waiting commands at ``step``; waits here while paused. Returns the acknowledgements to
        queue after the step (lr, stop); pause and resume are acknowledged at once."""
        deferred: List[Dict[str, Any]] = []
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
                    self.stop_reason = str(c.get("reason") or "stopped")
                    self._paused = False
                    deferred.append(ack)
                elif op == "pause":
                    if not self.stopped:
                        self._paused = True
                        self._say("losswatch: paused by the server at step %d" % step, logging.INFO)
                    self._ack_now(ack)
                elif op == "resume":
                    if self._paused:
                        self._say("losswatch: resumed at step %d" % step, logging.INFO)
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

    def _loop_command(self, command: Dict[str, Any], step: int, deferred: List[Dict[str, Any]]) -> None:
        """A rewind or a probe, executed by the watched loop's LoopControl."""
        control = self._control
        if control is None:
            self._warn_once("loop-" + str(command.get("op")), "losswatch: the server asks for a %s but nothing is "
                            "watched (run.watch(optimizer, scheduler, model=model)); refused" % command.get("op"))
            deferred.append({"id": command["id"], "step": step, "error": "no watch(): nothing to %s"
                             % command.get("op")})
            return
        ack, to = control.apply(command, step)
        if to is not None:
            self._cycle += 1
            ack["cycle"] = self._cycle   # the sender begins an append of the new cycle with it
            self._rewound_to = to
            self.rewound = True
        deferred.append(ack)

    def _ack_now(self, ack: Dict[str, Any]) -> None:
        self._queue.append(ack)
        self._sender.wake.set()

    def _apply_lr(self, command: Dict[str, Any], step: int) -> bool:
        w = self._watched
        if w is None:
            self._warn_once("lr", "losswatch: the server asks for lr %s but no optimizer is watched "
                            "(run.watch(optimizer)); the command is not applied" % command.get("lr"))
            return False
        current = float(w.lr())
        lr = command.get("lr")
        factor = command.get("factor")
        if lr is not None and current and (factor is None or w.scheduler is None):
            # no schedule: the lr asked for, exactly (the factor is relative to the lr the server last saw);
            # under a schedule: the factor, since the schedule moved the lr on since then
            factor = float(lr) / current
        try:
            factor = float(factor)   # type: ignore[arg-type]
        except (TypeError, ValueError):
            factor = math.nan
        if not (factor > 0 and math.isfinite(factor)):
            self._say("losswatch: ignoring an lr command it cannot apply: %r" % (command,))
            return False
        new = w.scale_lr(factor, None if lr is None else float(lr))
        self._say("losswatch: lr %.6g -> %.6g from step %d (%s)" % (current, new, step, command.get("id")),
                  logging.INFO)
        return True

    def _say(self, text: str, level: int = logging.WARNING) -> None:
        say(text, self.quiet, level)

    # ---- fork: the child gets a copy of the run without its sender thread

    def _forked_child(self) -> None:
        self._forked = True
        self._step = self.step
        self._last_step = math.inf   # every log() takes the slow path, which raises


def _number(x: Any, what: str) -> Any:
    """A float; or, for a tensor on a device (CUDA), the tensor detached, for the sender thread to read, so the
    training loop never waits for the device. A TypeError naming ``what`` for anything else."""
    if getattr(x, "is_cpu", True) is False and hasattr(x, "detach"):
        return x.detach()
    try:
        return float(x)
    except (TypeError, ValueError) as e:
        raise TypeError("losswatch: %s must be a number, not %r (%s)" % (what, x, e)) from None


class _AtExit:
    """Finishes the runs still open when the interpreter exits: ``failed`` if an exception ended the script."""

    def __init__(self) -> None:
        self.runs: List[Run] = []
        self.error: Optional[BaseException] = None
        self._installed = False

    def add(self, run: Run) -> None:
        if not self._installed:
            self._installed = True
            atexit.register(self._exit)
            previous = sys.excepthook

            def hook(kind: Any, value: BaseException, tb: Any) -> None:
                self.error = value
                previous(kind, value, tb)

            sys.excepthook = hook
        self.runs.append(run)

    def discard(self, run: Run) -> None:
        if run in self.runs:
            self.runs.remove(run)

    def _exit(self) -> None:
        for run in list(self.runs):
            if self.error is not None:
                run.finish("failed", repr(self.error))
            else:
                run.finish()


_at_exit = _AtExit()
_runs: "weakref.WeakSet[Run]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """In a forked child: its runs' sender threads did not come along, and their steps must not come from two
    processes; the parent finishes them, not the child's exit."""
    for run in list(_runs):
        run._forked_child()
    _at_exit.runs.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
