"""One line for the person running the script: to the ``losswatch`` logger where logging is set up, else on stderr
(unless ``quiet``). Never both, so a line is never said twice."""

from __future__ import annotations

import logging
import sys

log = logging.getLogger("losswatch")


def say(text: str, quiet: bool = False, level: int = logging.WARNING) -> None:
    if log.hasHandlers():
        log.log(level, text.rstrip("\n"))
    elif not quiet:
        sys.stderr.write(text.rstrip("\n") + "\n")
        sys.stderr.flush()
