"""Train the CNN candidates one after another and write their accuracy–time record.

    python tools/cnn_time_curve.py          # about 30 minutes on a 2-core machine with AVX512-BF16

Issue 16 asks for a CNN at 99.6% test accuracy that trains in no more time than `cnn-aug`; if
both cannot be had, for the accuracy–time curve of the candidates and a choice by a rule stated
before test accuracy is looked at. This script makes that curve. Each candidate is trained by
the library (`model_cache.train`, the command `python -m helpers train` runs) into
`data/runs/curve/LABEL.keras`; a model already there is reused when its recipe and training code
are today's. Nothing else should run meanwhile: the seconds are compared within one run. (The
record's runs were made under the recipe names of that time, `cnn-aug` for A and `strided-aug`
for the others; a name changes no weight, but a model saved under another name is trained again.)

Written to `notebooks/records/cnn_time_curve.csv` (accuracy in %, validation split only): the
parameters, epochs, the best epoch, training seconds, clean accuracy, accuracy on the noise and
combined perturbations and the mean over the 11 perturbations (`perturb.perturbed_suite`, seed
0), and whether the candidate beats `mlp-aug` on every perturbation. The rule (notebook 06) is
applied by `choose`, which `tests/test_run_records.py` checks against the record's "chosen"
column. The test accuracy that `model_cache.train` stores beside each model is read only after
the choice, and only for A and the chosen candidate (column "test", blank for the others).
"""

from __future__ import annotations

import csv
import io

from helpers import data, registry
from helpers.run_records import COMMITTED_DIR

OUT_DIR = data.REPO_ROOT / "data" / "runs" / "curve"
RECORD = COMMITTED_DIR / "cnn_time_curve.csv"

#: label → (description, `registry.recipe_for` arguments). A was `cnn-aug` when the curve was
#: made (now `pooled-aug`); B2, chosen, is `cnn-aug` since; C is `strided-aug`.
CANDIDATES: dict[str, tuple[str, dict]] = {
    "A": ("`cnn-aug` then (1-1-2, pooling), float32, 15 epochs", {"arch": "pooled", "augment": True}),
    "B": ("strided, half width (16, 32, 64), bfloat16, 15 epochs",
          {"arch": "cnn", "augment": True, "dropout": 0.4}),
    "B2": ("strided, half width, dropout 0.2, bfloat16, 15 epochs (`cnn-aug` since)",
           {"arch": "cnn", "augment": True}),
    "C": ("strided (32, 64, 128; 327k weights), bfloat16, 15 epochs", {"arch": "strided", "augment": True}),
}
#: Time allowance over the baseline's training time in the same run (one machine's run-to-run noise).
TIME_ALLOWANCE = 1.10
#: Clean validation accuracy (points) a candidate must gain over the baseline to replace it: 4 of 5,000.
MIN_GAIN = 0.08


def choose(rows: list[dict]) -> str:
    """The rule, written before the runs: among candidates that train within TIME_ALLOWANCE of A's
    seconds and beat `mlp-aug` on every perturbation, the highest clean validation accuracy,
    if it is at least MIN_GAIN above A's; otherwise A (today's `cnn-aug` stays)."""
    base = next(r for r in rows if r["label"] == "A")
    eligible = [r for r in rows if r["train s"] <= TIME_ALLOWANCE * base["train s"] and r["beats mlp-aug"]]
    best = max(eligible, key=lambda r: r["clean"], default=base)
    return best["label"] if best["clean"] >= base["clean"] + MIN_GAIN - 1e-9 else "A"


def _trained(label: str, recipe: registry.Recipe):
    """The candidate's model and record: reused from OUT_DIR when current, else trained now."""
    from helpers import model_cache

    path = OUT_DIR / f"{label}.keras"
    metrics = registry.load_metrics(path)  # {} when there is none
    if (path.is_file() and metrics.get("recipe") == recipe.to_dict()
            and metrics.get("code") == registry.code_fingerprint(recipe)):
        return model_cache.load_model(path), metrics
    print(f"{label}: training {recipe.to_dict()}", flush=True)
    return model_cache.train(recipe, out=path, log_every=5)


def main() -> int:
    from helpers import evaluate, model_cache, perturb

    splits = data.load_splits()
    suite = perturb.perturbed_suite(splits.x_val, seed=0)
    reference = evaluate.robustness_table({"mlp-aug": model_cache.get_model("mlp-aug")}, suite, splits.y_val)
    reference = reference["mlp-aug"].drop("clean")
    rows = []
    for label, (description, args) in CANDIDATES.items():
        args = dict(args)
        recipe = registry.recipe_for(args.pop("arch"), args.pop("augment"), **args)
        model, metrics = _trained(label, recipe)
        acc = evaluate.robustness_table({label: model}, suite, splits.y_val)[label]
        history = metrics["history"]["val_accuracy"]
        rows.append({
            "test accuracy": 100 * metrics["test_accuracy"],
            "label": label, "candidate": f"{label}: {description}", "parameters": metrics["params"],
            "epochs": metrics["epochs_run"], "best epoch": history.index(max(history)) + 1,
            "train s": round(metrics["train_seconds"]), "clean": round(100 * metrics["val_accuracy"], 2),
            "noise": round(100 * acc["noise"], 2), "combined": round(100 * acc["combined"], 2),
            "mean of 11 perturbations": round(100 * acc.drop("clean").mean(), 2),
            "beats mlp-aug": bool((acc.drop("clean") > reference).all()),
        })
        print({k: v for k, v in rows[-1].items() if k not in ("candidate", "test accuracy")}, flush=True)
    chosen = choose(rows)
    for row in rows:  # test accuracy only now, and only for the baseline and the choice
        test = row.pop("test accuracy")
        row["test"] = round(test, 2) if row["label"] in ("A", chosen) else ""
    out = io.StringIO()
    fields = [k for k in rows[0] if k != "label"] + ["chosen"]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        cells = {k: f"{v:.2f}" if isinstance(v, float) else v for k, v in row.items() if k != "label"}
        writer.writerow({**cells, "beats mlp-aug": "yes" if row["beats mlp-aug"] else "no",
                         "chosen": "yes" if row["label"] == chosen else ""})
    data.atomic_write(RECORD, out.getvalue().encode())
    print(f"chosen by the rule: {chosen}; wrote {RECORD.relative_to(data.REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
