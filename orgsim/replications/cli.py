"""``orgsim replicate``: placeholder until the March (1991) replication lands."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``replicate`` sub-command to the ``orgsim`` parser."""
