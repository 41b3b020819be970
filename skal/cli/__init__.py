"""The ``skal`` command line: ``skal demo``, ``skal label``, ``skal export``; each
sub-command is a module."""

from __future__ import annotations

import argparse
import sys

from skal.cli._demo import add_parser as add_demo_parser
from skal.cli._export import add_parser as add_export_parser
from skal.cli._label import add_parser as add_label_parser

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``skal`` argument parser with its sub-commands."""
    parser = argparse.ArgumentParser(
        prog="skal", description="Active learning for deep classifiers, scikit-learn style."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    add_demo_parser(sub)
    add_label_parser(sub)
    add_export_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``skal`` command."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
