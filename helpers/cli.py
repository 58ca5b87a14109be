"""Command line: `python -m helpers data | train | evaluate | predict | ...`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from helpers import UserError, data


def _cmd_data(args: argparse.Namespace) -> int:
    folder = data.fetch_mnist(args.path)
    print(f"MNIST verified (SHA-256) in {folder}\n")
    print(data.summary(args.path))
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from helpers import training  # TensorFlow loads only for commands that need it

    training.set_seed()
    recipe = training.recipe_for(args.arch, args.augment, args.epochs)
    out = args.out or training.model_path(recipe.name)
    print(f"training {recipe.name}: {recipe.to_dict()}", flush=True)
    _, metrics = training.train(recipe, out=out)
    print(
        f"\n{recipe.name}: {metrics['epochs_run']} epochs in {metrics['train_seconds']:.0f} s, "
        f"validation accuracy {metrics['val_accuracy']:.4f}, test accuracy {metrics['test_accuracy']:.4f}"
    )
    print(f"saved {out} and {Path(out).with_suffix('.json')}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("data", help="fetch and verify MNIST, then summarize it")
    p.add_argument("--path", help=f"cache folder (default: ${data.CACHE_ENV} or data/mnist/)")
    p.set_defaults(func=_cmd_data)

    p = sub.add_parser("train", help="train a model recipe and save it with its metrics")
    p.add_argument("--arch", choices=["mlp", "cnn"], default="mlp", help="network type")
    p.add_argument("--augment", action="store_true", help="train with random shifts/rotations/zooms")
    p.add_argument("--epochs", type=int, help="epoch budget (default: the recipe's)")
    p.add_argument("--out", type=Path, help="model file to write, *.keras (default: data/models/NAME.keras)")
    p.set_defaults(func=_cmd_train)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
