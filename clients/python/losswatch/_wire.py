"""What goes over the wire: the create body and an append's columnar JSON.

A record is the tuple ``log()`` appends: ``(step, loss, lr, grad_norm, t, metrics)``, with ``t`` in epoch
seconds and ``metrics`` a dict or None. ``lr`` and ``grad_norm`` may be None (unknown). Python's ``json`` writes
NaN and infinities as bare ``NaN``/``Infinity``, which is not JSON: they go as the strings the server reads.
"""

import json
import re

METRIC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MAX_METRIC_NAME = 64
MAX_METRICS = 8

_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _name(x):
    return _NON_FINITE[repr(x)]


def numbers(column):
    """Floats as JSON numbers, non-finite ones as "NaN"/"Infinity"/"-Infinity", None as null."""
    # x - x is 0.0 for every finite float and NaN for NaN and both infinities
    return [x if x is None or x - x == 0.0 else _name(x) for x in column]


def check_metric_name(name, known):
    """Raises ValueError unless ``name`` may join ``known`` as an extra scalar."""
    if not isinstance(name, str) or not METRIC_NAME.match(name) or len(name) > MAX_METRIC_NAME:
        raise ValueError("losswatch: a metric name must match [A-Za-z_][A-Za-z0-9_]* and have at most %d "
                         "characters, not %r" % (MAX_METRIC_NAME, name))
    if len(known) >= MAX_METRICS:
        raise ValueError("losswatch: at most %d extra scalars per run (%s), not also %r"
                         % (MAX_METRICS, ", ".join(sorted(known)), name))


def append_body(records, acks, cycle=None, extras=True):
    """The body of ``POST /api/runs/{id}/steps`` for these records and acknowledgements, as bytes. A record may
    carry a 7th item, a dict of extra columns (``sharpness``, ``stability``) and run facts (``curvature``): sent
    unless ``extras`` is False. ``cycle``, for a guarded run: the rewinds the client executed so far."""
    body = {"step": [r[0] for r in records], "loss": numbers([r[1] for r in records])}
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


def _extra_columns(body, records):
    for k in EXTRA_COLUMNS:
        column = [r[6].get(k) if len(r) > 6 and r[6] else None for r in records]
        if any(v is not None for v in column):
            body[k] = numbers(column)
    for r in records:
        if len(r) > 6 and r[6] and "curvature" in r[6]:
            body["curvature"] = r[6]["curvature"]   # the latest facts, when they changed


def cycle_of(acks, current):
    """The cycle an append carrying ``acks`` belongs to: a rewind's ack begins the next one."""
    for a in acks:
        c = a.get("cycle")
        if c is not None and c > current:
            current = c
    return current


def _plain(value):
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


def create_body(name, config, optimizer, auto_lr, extra=None):
    """``extra``: more fields of the create body (``guard``, ``lookahead``, ``lr_range``), already plain JSON."""
    body = {"source": "external"}
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
    if extra:
        body.update(extra)
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")


def optimizer_spec(optimizer):
    """The create body's ``optimizer`` for a dict (as it is) or a torch-style optimizer: its type and numbers."""
    if optimizer is None or isinstance(optimizer, dict):
        return optimizer
    groups = getattr(optimizer, "param_groups", None)
    spec = {"type": type(optimizer).__name__.lower()}
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


def json_body(obj):
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode("utf-8")
