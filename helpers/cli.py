"""Command line: `python -m helpers data | train | evaluate | predict | ...`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from helpers import data


def _cmd_data(args: argparse.Namespace) -> int:
    folder = data.fetch_mnist(args.path)
    print(f"MNIST verified (SHA-256) in {folder}\n")
    print(data.summary(args.path))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("data", help="fetch and verify MNIST, then summarize it")
    p.add_argument("--path", help=f"cache folder (default: ${data.CACHE_ENV} or data/mnist/)")
    p.set_defaults(func=_cmd_data)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except data.MnistDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
