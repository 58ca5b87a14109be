"""Command line: `python -m helpers data | train | evaluate | predict | ...`."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from helpers import UserError, data, inference, photo, registry


def _cmd_data(args: argparse.Namespace) -> int:
    folder = data.fetch_mnist(args.path)
    print(f"MNIST verified (SHA-256) in {folder}\n")
    print(data.summary(args.path))
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    recipe = registry.recipe_for(args.arch, args.augment, args.epochs, args.noise, args.stroke, args.convs,
                                 filters=args.filters, dropout=args.dropout,
                                 bfloat16=True if args.bfloat16 else None)
    out = args.out or registry.model_path(recipe.name)
    if Path(out).suffix != ".keras":  # before minutes of training, not after
        raise registry.ModelError(f"{out}: model files must end in .keras")
    from helpers import model_cache  # TensorFlow loads only once the input is checked

    print(f"training {recipe.name}: {recipe.to_dict()}", flush=True)
    _, metrics = model_cache.train(recipe, out=out)
    print(
        f"\n{recipe.name}: {metrics['epochs_run']} epochs in {metrics['train_seconds']:.0f} s, "
        f"validation accuracy {metrics['val_accuracy']:.4f}, test accuracy {metrics['test_accuracy']:.4f}"
    )
    print(f"saved {out}, {Path(out).with_suffix('.tflite').name} and {Path(out).with_suffix('.json').name}")
    return 0


def _model_label(name_or_path: str) -> str:
    """"mlp-aug" stays "mlp-aug"; "some/dir/best.keras" becomes "best"."""
    return Path(name_or_path).stem if name_or_path.endswith(".keras") else Path(name_or_path).name


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import io

    from helpers import evaluate, plots  # matplotlib and scikit-learn load only when needed

    model = inference.load_model(args.model)
    splits = data.load_splits()
    probs = inference.predict_proba(model, splits.x_test)
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
    from helpers import evaluate, perturb

    model = inference.load_model(args.model)
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
        record = {"model": str(args.model), "split": args.split, "seed": args.seed, "accuracy": acc.to_dict()}
        data.atomic_write(args.json, json.dumps(record, indent=1).encode())
        print(f"\nwrote {args.json}")
    return 0


def _cli_model(name: str | None) -> inference.Model:
    """The model `predict` and `evaluate-external` use, run by LiteRT when it can be.

    By default the cached model of the series with the best validation accuracy. A stale
    model stops the command with one line saying how to retrain it; a missing one is
    trained now (the first use on a new machine).
    """
    name = name or registry.best_model_name()
    if name in registry.RECIPES and registry.staleness(name) == "missing":
        from helpers import model_cache  # TensorFlow loads only to train

        print(f"{name}: not trained yet; training it now (a few minutes)", file=sys.stderr, flush=True)
        with contextlib.redirect_stdout(sys.stderr):  # stdout is for results (JSON with --json)
            model_cache.train(name)
    return inference.load_model(name, runtime="litert")


def _describe(result: photo.ImageResult, annotated: str | None = None) -> str:
    """Text report of one image: the digits read, then one line per digit."""
    lines = [f"{result.path}: {' '.join(result.rows) or '-'}  ({result.message})"]  # rows side by side
    for d in result.digits:
        top3 = ", ".join(f"{k} {p:.1%}" for k, p in d.top3)
        flag = "  LOW CONFIDENCE" if d.low_confidence else ""
        x, y, w, h = d.bbox
        lines.append(f"  {d.label}  {d.probability:6.1%}   top-3: {top3}   box x={x} y={y} w={w} h={h}{flag}")
    if annotated:
        lines.append(f"  annotated copy: {annotated}")
    return "\n".join(lines)


def _cmd_predict(args: argparse.Namespace) -> int:
    """Read each image and print what was read; exit 1 if any file could not be read.

    A bad file gives one line on stderr naming it, and the others are still read. The
    model is loaded only once an image has digits to classify.
    """
    model = None
    failed = False
    records: list[dict] = []
    written: set[Path] = set()
    for image in args.images:
        try:
            stages = photo.find_digits(image, single=args.single)
        except photo.ImageReadError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            records.append({"image": str(image), "error": str(exc)})
            failed = True
            continue
        if stages.boxes and model is None:
            model = _cli_model(args.model)
        probs = None
        if stages.boxes:
            stages, probs = photo.classify(stages, model)
        result = photo.make_result(str(image), stages, probs, args.threshold)
        record = result.to_dict()
        if args.annotate is not None:
            target = photo.write_annotated(result, args.annotate, avoid=written)
            written.add(target)
            record["annotated"] = str(target)
        records.append(record)
        if not args.json:
            print(_describe(result, record.get("annotated")), flush=True)
    if args.json:
        print(json.dumps(records, indent=1))
    return 1 if failed else 0


def _cmd_evaluate_external(args: argparse.Namespace) -> int:
    """Accuracy on the external set per kind and label, its failures, and USPS test accuracy."""
    from helpers import external_sets  # pandas and scipy load only here

    folder = external_sets.external_root(args.dir)
    external_sets.load_external_set(folder)  # a missing or bad labels.csv stops here, before any model
    name = args.model or registry.best_model_name()
    model = _cli_model(name)
    print(f"model: {name}\n")
    print(external_sets.summarize_external(external_sets.evaluate_external(model, folder)))
    default = external_sets.summarize_external(external_sets.evaluate_external(model, folder, single=False))
    print(f"\nread as `predict` reads any photo (not --single): {default.accuracy:.1%} "
          f"({default.n - len(default.failures)}/{default.n}; correct = exactly one digit, the right one)")
    for kind, r in default.per_kind.iterrows():
        print(f"  {kind!s:<8} {r.accuracy:6.1%}  ({int(r.correct)}/{int(r.n)})")
    usps = folder / "usps" / "usps.mat"
    if usps.is_file():
        print(f"\nUSPS test set (2,007 digits, MNIST form): {external_sets.usps_accuracy(model, folder):.2%}")
    else:
        print(f"\nUSPS: skipped ({usps} not found)")
    return 0


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
    p.add_argument("--arch", choices=["mlp", "cnn", "pooled", "strided"], default="mlp",
                   help="network type (pooled: the earlier CNN; strided: the CNN at full width; "
                        "both with --augment)")
    p.add_argument("--augment", action="store_true",
                   help="train with random stroke widths, rotations, shifts, zooms and noise")
    p.add_argument("--epochs", type=int, help="epoch budget (default: the recipe's)")
    p.add_argument("--noise", type=float, metavar="SIGMA", help="std of the Gaussian pixel noise in "
                   "augmentation (with --augment; default: the recipe's)")
    p.add_argument("--stroke", type=float, metavar="P", help="share of training images drawn with thicker "
                   "or thinner strokes (with --augment; default: the recipe's)")
    p.add_argument("--convs", type=_counts, metavar="N,N,N", help="convolutions in each block of the "
                   "pooling CNN, e.g. 1,1,2 (with --arch pooled; default: the recipe's)")
    p.add_argument("--filters", type=_counts, metavar="N,N,N", help="channels of each CNN block "
                   "(default: the recipe's)")
    p.add_argument("--dropout", type=float, metavar="P", help="dropout rate (default: the recipe's)")
    p.add_argument("--bfloat16", action="store_true", help="train in mixed bfloat16 (fast only on CPUs "
                   "with AVX512-BF16)")
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
    p.add_argument("--model", help="model name or .keras path; a .tflite beside it is run with LiteRT "
                   "(default: the model with the best validation accuracy)")
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
    except OSError as exc:  # e.g. an output folder that cannot be written
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
