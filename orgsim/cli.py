"""The ``orgsim`` command line.

Every sub-command is a thin layer over the package's Python API. Bad input raises
:class:`orgsim.errors.OrgsimError`; :func:`main` prints its one-line message and exits with code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from orgsim.errors import OrgsimError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orgsim",
        description="Agent-based simulation of silo'd versus responsive organisations.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from orgsim.replications.cli import register as register_replicate

    register_replicate(sub)
    return parser



def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except OrgsimError as err:
        print(f"orgsim: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("orgsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
