"""Batches that did not fit in memory while the server was away: JSON lines in a file, read back in order."""

import json
import os
import tempfile


class Spool:
    """A first-in first-out file of batches; a batch is ``(records, acks)``.

    The folder is made on the first spill (``losswatch-spool-<run>-<pid>`` in the temp folder unless given) and
    removed once everything in it was sent. Lines are written whole and flushed, so a crash leaves at worst a
    cut last line.
    """

    def __init__(self, folder=None, label="run"):
        self._folder = folder
        self._made = False
        self._label = label
        self.path = None
        self._out = None
        self._in = None
        self._head = None
        self.batches = 0
        self.steps = 0

    def __len__(self):
        return self.batches

    def push(self, records, acks):
        if self._out is None:
            if self._folder is None:
                self._folder = tempfile.mkdtemp(prefix="losswatch-spool-%s-%d-" % (self._label, os.getpid()))
                self._made = True
            else:
                os.makedirs(self._folder, exist_ok=True)
            self.path = os.path.join(self._folder, "%s-%d.jsonl" % (self._label, os.getpid()))
            self._out = open(self.path, "a", encoding="utf-8")
            self._in = open(self.path, "r", encoding="utf-8")
        self._out.write(json.dumps([records, acks], separators=(",", ":")))   # NaN as Python writes it: ours only
        self._out.write("\n")
        self._out.flush()
        self.batches += 1
        self.steps += len(records)

    def peek(self):
        """The oldest batch, or None."""
        if self._head is None and self.batches:
            records, acks = json.loads(self._in.readline())
            self._head = ([tuple(r) for r in records], acks)
        return self._head

    def pop(self):
        head = self.peek()
        self._head = None
        self.batches -= 1
        self.steps -= len(head[0])
        if not self.batches:
            self.remove()
        return head

    def close(self):
        """Closes the files and leaves them where they are (they hold steps that were never sent)."""
        for f in (self._out, self._in):
            if f is not None:
                f.close()
        self._out = self._in = None

    def remove(self):
        self.close()
        self._head = None
        if self.path is not None:
            try:
                os.remove(self.path)
                if self._made:
                    os.rmdir(self._folder)
            except OSError:
                pass
            self.path = None
            if self._made:
                self._folder = None
                self._made = False
