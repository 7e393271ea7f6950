"""``python3 -m losswatch sync PATH``: sends the steps a script left in a spool file (see ``_sync``)."""

from __future__ import annotations

import sys
from typing import Optional, Sequence

USAGE = """usage: python3 -m losswatch sync PATH... [--url URL] [--token TOKEN] [--keep] [--force]

commands:
  sync    send the steps a script left in a spool file (its server was away) to the server
"""


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "sync":
        from ._sync import main as sync
        return sync(args[1:])
    if args and args[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0
    sys.stderr.write(USAGE if not args else "losswatch: unknown command %r\n%s" % (args[0], USAGE))
    return 2


if __name__ == "__main__":
    sys.exit(main())
