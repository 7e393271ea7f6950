"""Batches that did not fit in memory while the server was away: JSON lines in a file, read back in order.

The file's first line says what run the batches belong to: ``{"losswatch_spool": 1, "run": id or null, "urls":
[...], "create": the run's creation body}``, so that ``python3 -m losswatch sync`` can send them on its own
(creating the run if the server was never reached). Later object lines add to it (``{"run": id}`` once the run
was created, ``{"finish": {...}}`` when the script had finished it); every other line is a batch
``[records, acks]``.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Dict, List, Optional, Tuple

from ._wire import Ack, Record

Batch = Tuple[List[Record], List[Ack]]

SUFFIX = ".jsonl"


class Spool:
    """A first-in first-out file of batches; a batch is ``(records, acks)``.

    The folder is made on the first spill (``losswatch-spool-<run>-<pid>`` in the temp folder unless given) and
    removed once everything in it was sent. Lines are written whole and flushed, so a crash leaves at worst a
    cut last line.
    """

    def __init__(self, folder: Optional[str] = None, label: str = "run", header: Optional[Dict[str, Any]] = None):
        self._folder = folder
        self._made = False
        self._label = label
        self._header = dict(header or {})
        self.path: Optional[str] = None
        self._out: Any = None
        self._in: Any = None
        self._head: Optional[Batch] = None
        self.batches = 0
        self.steps = 0

    def __len__(self) -> int:
        return self.batches

    @property
    def folder(self) -> Optional[str]:
        return self._folder

    def push(self, records: List[Record], acks: List[Ack]) -> None:
        if self._out is None:
            self._open()
        self._write([records, acks])
        self.batches += 1
        self.steps += len(records)

    def note(self, **facts: Any) -> None:
        """Adds to what the file says of its run (its id once created, how the script finished it)."""
        self._header.update(facts)
        if self._out is not None:
            self._write(facts)

    def _open(self) -> None:
        if self._folder is None:
            self._folder = tempfile.mkdtemp(prefix="losswatch-spool-%s-%d-" % (self._label, os.getpid()))
            self._made = True
        else:
            os.makedirs(self._folder, exist_ok=True)
        self.path = os.path.join(self._folder, "%s-%d%s" % (self._label, os.getpid(), SUFFIX))
        self._out = open(self.path, "a", encoding="utf-8")
        self._in = open(self.path, "r", encoding="utf-8")
        self._write(dict({"losswatch_spool": 1}, **self._header))

    def _write(self, line: Any) -> None:
        self._out.write(json.dumps(line, separators=(",", ":")))   # NaN as Python writes it: ours only
        self._out.write("\n")
        self._out.flush()

    def peek(self) -> Optional[Batch]:
        """The oldest batch, or None."""
        while self._head is None and self.batches:
            line = json.loads(self._in.readline())
            if isinstance(line, list):
                records, acks = line
                self._head = ([tuple(r) for r in records], acks)   # type: ignore[misc]
        return self._head

    def pop(self) -> Optional[Batch]:
        head = self.peek()
        self._head = None
        self.batches -= 1
        self.steps -= len(head[0]) if head else 0
        if not self.batches:
            self.remove()
        return head

    def close(self) -> None:
        """Closes the files and leaves them where they are (they hold steps that were never sent)."""
        for f in (self._out, self._in):
            if f is not None:
                f.close()
        self._out = self._in = None

    def remove(self) -> None:
        self.close()
        self._head = None
        if self.path is not None:
            try:
                os.remove(self.path)
                if self._made:
                    os.rmdir(self._folder)   # type: ignore[arg-type]
            except OSError:
                pass
            self.path = None
            if self._made:
                self._folder = None
                self._made = False


def read(path: str) -> Tuple[Dict[str, Any], List[Batch]]:
    """What a spool file holds: what it says of its run (the object lines merged, in order) and its batches. A cut
    last line (the script was killed while writing it) is left out."""
    facts: Dict[str, Any] = {}
    batches: List[Batch] = []
    with open(path, "r", encoding="utf-8") as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            if i >= len(lines) - 2:
                break   # the last line, cut
            raise ValueError("%s: line %d is not JSON" % (path, i + 1)) from None
        if isinstance(item, dict):
            facts.update(item)
        else:
            records, acks = item
            batches.append(([tuple(r) for r in records], list(acks)))   # type: ignore[misc]
    if facts.get("losswatch_spool") != 1:
        raise ValueError("%s is not a losswatch spool file" % path)
    return facts, batches
