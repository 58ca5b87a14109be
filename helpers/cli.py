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
    recipe = training.recipe_for(
        args.arch, args.augment, args.epochs, args.noise, args.stroke, args.convs
    )
    out = args.out or training.model_path(recipe.name)
    print(f"training {recipe.name}: {recipe.to_dict()}", flush=True)
    _, metrics = training.train(recipe, out=out)
    print(
        f"\n{recipe.name}: {metrics['epochs_run']} epochs in {metrics['train_seconds']:.0f} s, "
        f"validation accuracy {metrics['val_accuracy']:.4f}, test accuracy {metrics['test_accuracy']:.4f}"
    )
    print(f"saved {out} and {Path(out).with_suffix('.json')}")
    return 0


def _model_label(name_or_path: str) -> str:
    """"mlp-aug" stays "mlp-aug"; "some/dir/best.keras" becomes "best"."""
    return Path(name_or_path).stem if name_or_path.endswith(".keras") else Path(name_or_path).name


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import io
    import json

    from helpers import evaluate, plots, training  # TensorFlow loads only when needed

    model = training.load_model(args.model)
    splits = data.load_splits()
    probs = training.predict_proba(model, splits.x_test)
    pred = probs.argmax(axis=1)
    summary = {"model": str(args.model), **evaluate.summarize(splits.y_test, probs)}
    print(f"{args.model}: test accuracy {evaluate.accuracy_ci(splits.y_test, pred)}")
    print(f"expected calibration error {summary['ece']:.2%}\n")
    per_class = evaluate.per_class_metrics(splits.y_test, pred)
    print(per_class.to_string(float_format=lambda v: f"{v:.4f}"))

    out = Path(args.out or data.REPO_ROOT / "data" / "runs" / f"evaluate-{_model_label(args.model)}")
    cm = evaluate.confusion_matrix(splits.y_test, pred)
    fig, axes = plots.panels(1, 2, figsize=(9, 3.8))
    plots.confusion_heatmap(cm, ax=axes[0, 0], title=f"{args.model} (counts)")
    plots.confusion_heatmap(cm, normalize=True, ax=axes[0, 1], title=f"{args.model} (% of true class)")
    png = io.BytesIO()
    fig.savefig(png, format="png")
    # Temp file then rename: an interrupted run never leaves half a file behind.
    data.atomic_write(out / "confusion_matrix.png", png.getvalue())
    data.atomic_write(out / "metrics.json", json.dumps(summary, indent=1).encode())
    print(f"\nwrote {out / 'confusion_matrix.png'} and {out / 'metrics.json'}")
    return 0


def _cmd_robustness(args: argparse.Namespace) -> int:
    from helpers import evaluate, perturb, training  # TensorFlow loads only when needed

    model = training.load_model(args.model)
    splits = data.load_splits()
    # The validation split is for choosing settings (e.g. the augmentation noise); the test
    # split only reports the chosen model.
    x, y = (splits.x_val, splits.y_val) if args.split == "val" else (splits.x_test, splits.y_test)
    suite = perturb.perturbed_suite(x, seed=args.seed)
    table = evaluate.robustness_table({str(args.model): model}, suite, y)
    acc = table[str(args.model)]
    table = acc.to_frame("accuracy").assign(vs_clean=acc - acc["clean"])
    name = "validation" if args.split == "val" else "test"
    print(f"{args.model}: {name} accuracy on perturbed copies of the {name} set (seed {args.seed})\n")
    points = lambda v: f"{100 * v:+.2f} pp"  # noqa: E731 - percentage points, not percent
    print(table.to_string(formatters={"accuracy": "{:.2%}".format, "vs_clean": points}))
    if args.json:
        import json

        record = {"model": str(args.model), "split": args.split, "seed": args.seed, "accuracy": acc.to_dict()}
        data.atomic_write(args.json, json.dumps(record, indent=1).encode())
        print(f"\nwrote {args.json}")
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from helpers import external  # OpenCV only here; TensorFlow only once a digit needs a model

    return external.predict_files(
        args.images, args.model, as_json=args.json, annotate_dir=args.annotate,
        threshold=args.threshold, single=args.single,
    )


def _cmd_evaluate_external(args: argparse.Namespace) -> int:
    from helpers import external

    return external.evaluate_external_command(args.dir, args.model)


def _counts(text: str) -> tuple[int, ...]:
    """Parse "1,1,2" into (1, 1, 2), or tell argparse what was expected."""
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole numbers separated by commas, e.g. 1,1,2; got {text!r}"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("data", help="fetch and verify MNIST, then summarize it")
    p.add_argument("--path", help=f"cache folder (default: ${data.CACHE_ENV} or data/mnist/)")
    p.set_defaults(func=_cmd_data)

    p = sub.add_parser("train", help="train a model recipe and save it with its metrics")
    p.add_argument("--arch", choices=["mlp", "cnn"], default="mlp", help="network type")
    p.add_argument("--augment", action="store_true",
                   help="train with random stroke widths, rotations, shifts, zooms and noise")
    p.add_argument("--epochs", type=int, help="epoch budget (default: the recipe's)")
    p.add_argument("--noise", type=float, metavar="SIGMA", help="std of the Gaussian pixel noise in "
                   "augmentation (with --augment; default: the recipe's)")
    p.add_argument("--stroke", type=float, metavar="P", help="share of training images drawn with thicker "
                   "or thinner strokes (with --augment; default: the recipe's)")
    p.add_argument("--convs", type=_counts, metavar="N,N,N", help="convolutions in each CNN block, "
                   "e.g. 1,1,2 (with --arch cnn; default: the recipe's)")
    p.add_argument("--out", type=Path, help="model file to write, *.keras (default: data/models/NAME.keras)")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="test accuracy with 95%% CI, per-class table, confusion matrix")
    p.add_argument("--model", required=True, help="model name (mlp, mlp-aug, cnn-aug, ...) or .keras path")
    p.add_argument("--out", type=Path, help="folder for PNG and JSON (default: data/runs/evaluate-NAME/)")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("robustness",
                       help="accuracy on shifted, rotated, scaled, noisy ... test (or validation) images")
    p.add_argument("--model", required=True, help="model name (mlp, mlp-aug, cnn-aug, ...) or .keras path")
    p.add_argument("--seed", type=int, default=0, help="seed of the random perturbations (default: 0)")
    p.add_argument("--split", choices=["test", "val"], default="test",
                   help="perturb the test set (default) or the validation set, for choosing settings")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the accuracies to this JSON file")
    p.set_defaults(func=_cmd_robustness)

    p = sub.add_parser("predict", help="read the handwritten digits in photos or scans")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="PNG, JPEG, BMP, TIFF or WebP files")
    p.add_argument("--model", help="model name or .keras path (default: best validation accuracy)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--annotate", type=Path, metavar="DIR", help="write copies with boxes and labels here")
    p.add_argument("--threshold", type=float, default=0.6, help="flag digits below this probability")
    p.add_argument("--single", action="store_true", help="each image holds exactly one digit")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("evaluate-external", help="accuracy on real handwriting photos and on USPS")
    p.add_argument("dir", nargs="?", help="external-digits folder (default: ../shared/external-digits)")
    p.add_argument("--model", help="model name or .keras path (default: best validation accuracy)")
    p.set_defaults(func=_cmd_evaluate_external)
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
