"""What goes over the wire: the create body and an append's columnar JSON.

A record is the tuple ``log()`` appends: ``(step, loss, lr, grad_norm, t, metrics)``, with ``t`` in epoch
seconds and ``metrics`` a dict or None. ``lr`` and ``grad_norm`` may be None (unknown). A step whose curvature
was measured has a 7th item, a dict of extra columns (``sharpness``, ``stability``) and run facts
(``curvature``). Python's ``json`` writes
NaN and infinities as bare ``NaN``/``Infinity``, which is not JSON: they go as the strings the server reads.
"""

from __future__ import annotations

import json
import re
from typing import Any, Collection, Dict, Iterable, List, Optional, Sequence, Tuple

# (step, loss, lr, grad_norm, t, metrics), or with a 7th item: (..., extra)
Record = Tuple[Any, ...]
Ack = Dict[str, Any]

# the protocol's metric names: train/loss, val.acc, a-b; a letter or _ first, at most 64 characters
METRIC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]{0,63}\Z")
MAX_METRIC_NAME = 64
MAX_METRICS = 64
# the states a 409 may name: the run ended and takes no more steps
ENDED = ("finished", "failed", "stopped", "diverged")

_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _name(x: float) -> str:
    return _NON_FINITE[repr(x)]


def numbers(column: Iterable[Optional[float]]) -> List[Any]:
    """Floats as JSON numbers, non-finite ones as "NaN"/"Infinity"/"-Infinity", None as null."""
    # x - x is 0.0 for every finite float and NaN for NaN and both infinities
    return [x if x is None or x - x == 0.0 else _name(x) for x in column]


def metric_refusal(name: Any, known: Collection[str]) -> Optional[str]:
    """Why ``name`` may not join ``known`` as a run's extra scalar, or None when it may."""
    if not isinstance(name, str) or not METRIC_NAME.match(name):
        return ("a metric name is 1 to %d characters of letters, digits, _ . / -, starting with a letter or _ "
                "(train/loss, val.acc), not %r" % (MAX_METRIC_NAME, name))
    if len(known) >= MAX_METRICS:
        return "a run has at most %d metrics; it has %d already" % (MAX_METRICS, len(known))
    return None


def append_body(records: Sequence[Record], acks: Sequence[Ack], cycle: Optional[int] = None,
                extras: bool = True) -> bytes:
    """The body of ``POST /api/runs/{id}/steps`` for these records and acknowledgements, as bytes: the records'
    extra columns too unless ``extras`` is False; ``cycle`` (a guarded run's: the rewinds executed before) when
    given."""
    body: Dict[str, Any] = {"step": [r[0] for r in records], "loss": numbers([r[1] for r in records])}
    if any(r[2] is not None for r in records):
        body["lr"] = numbers([r[2] for r in records])
    if any(r[3] is not None for r in records):
        body["grad_norm"] = numbers([r[3] for r in records])
    if records:
        body["t"] = [int(round(r[4] * 1000.0)) for r in records]
    names = []
    for r in records:
        m = r[5]
        if m:
            for k in m:
                if k not in names:
                    names.append(k)
    if names:
        body["metrics"] = {k: numbers([r[5].get(k) if r[5] else None for r in records]) for k in names}
    if extras and any(len(r) > 6 and r[6] for r in records):
        _extra_columns(body, records)
    if acks:
        # a rewind's ack says which cycle it begins ("cycle"): the append says it, the ack does not
        body["acks"] = [a if "cycle" not in a else {k: v for k, v in a.items() if k != "cycle"} for a in acks]
    if cycle is not None:
        body["cycle"] = cycle
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")


EXTRA_COLUMNS = ("sharpness", "stability")
EXTRA_FIELDS = EXTRA_COLUMNS + ("curvature",)


def _extra_columns(body: Dict[str, Any], records: Sequence[Record]) -> None:
    for k in EXTRA_COLUMNS:
        column = [r[6].get(k) if len(r) > 6 and r[6] else None for r in records]
        if any(v is not None for v in column):
            body[k] = numbers(column)
    for r in records:
        if len(r) > 6 and r[6] and "curvature" in r[6]:
            body["curvature"] = r[6]["curvature"]   # the latest facts, when they changed


def cycle_of(acks: Sequence[Ack], current: int) -> int:
    """The cycle an append carrying ``acks`` belongs to: a rewind's ack begins the next one."""
    for a in acks:
        c = a.get("cycle")
        if isinstance(c, int) and c > current:
            current = c
    return current


def begins_cycle(item: Any) -> bool:
    """Whether a queued item is a rewind's acknowledgement: it begins a cycle, so it goes first in an append of
    its own."""
    return item.__class__ is dict and "cycle" in item


def _plain(value: Any) -> Any:
    """A config as JSON can take it: non-finite floats as the server's strings, anything else json cannot write
    (a device, a path, a dtype) as its text."""
    if isinstance(value, float):
        return value if value - value == 0.0 else _name(value)
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def create_body(name: Optional[str], config: Any, optimizer: Any, auto_lr: bool,
                tags: Optional[Sequence[str]] = None, notes: Optional[str] = None,
                extra: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The body of ``POST /api/runs`` for a script's run, as a dict (``json_body`` makes it bytes). ``extra``:
    more fields (``guard``, ``lookahead``, ``lr_range``), already plain JSON."""
    body: Dict[str, Any] = {"source": "external"}
    if name is not None:
        body["name"] = str(name)
    if config is not None:
        if not isinstance(config, dict) and hasattr(config, "__dict__"):
            config = vars(config)   # an argparse.Namespace, say
        body["config"] = _plain(config)
    if optimizer is not None:
        body["optimizer"] = _plain(optimizer)
    if auto_lr:
        body["auto_lr"] = True
    if tags:
        body["tags"] = list(tags)
    if notes:
        body["notes"] = notes
    if extra:
        body.update(extra)
    return body


def tag_list(tags: Any, group: Optional[str] = None) -> List[str]:
    """``tags`` as a list of distinct strings, the group's name last; a TypeError for anything else."""
    if tags is None:
        tags = []
    elif isinstance(tags, str) or not isinstance(tags, (list, tuple, set, frozenset)):
        raise TypeError("losswatch: tags must be a list of strings, not %r" % (tags,))
    out: List[str] = []
    for t in list(tags) + ([group] if group is not None else []):
        if not isinstance(t, str) or not t.strip():
            raise TypeError("losswatch: a tag must be a non-empty string, not %r" % (t,))
        if t.strip() not in out:
            out.append(t.strip())
    return out


def optimizer_spec(optimizer: Any) -> Any:
    """The create body's ``optimizer`` for a dict (as it is) or a torch-style optimizer: its type and numbers."""
    if optimizer is None or isinstance(optimizer, dict):
        return optimizer
    groups = getattr(optimizer, "param_groups", None)
    spec: Dict[str, Any] = {"type": type(optimizer).__name__.lower()}
    if groups:
        for k, v in groups[0].items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v - v == 0:
                spec[k] = v
            elif k == "lr":
                try:
                    spec[k] = float(v)   # a tensor lr
                except (TypeError, ValueError):
                    pass
    return spec


def json_body(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode("utf-8")
