"""Short comparison runs, trained once and recorded, so a notebook redraws them instead of retraining.

Notebook 02 compares MLP designs by training each for a few epochs. Those runs take minutes
and give the same numbers every time on the same machine (seeded, deterministic ops), so
each run is kept as a row of a JSON record:

- `notebooks/records/NAME.json`: the record committed with the notebooks;
- `data/runs/records/NAME.json`: runs made on this machine that the committed record does not
  hold (a design a learner added or changed), kept so they are not trained twice.

A row is reused only when its recipe *and* the code that trains it (`registry.code_fingerprint`)
are today's; anything else is trained again. Running with `retrain=True`, or with the
environment variable `MNIST_RECORD=1`, trains every run again; `MNIST_RECORD=1` also rewrites
the committed record (`MNIST_RECORD=1 python tools/run_notebooks.py notebooks/02_mlp_model.ipynb`).
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pandas as pd

from helpers import UserError, data
from helpers.registry import Recipe, code_fingerprint, source_texts

COMMITTED_DIR = data.REPO_ROOT / "notebooks" / "records"
LOCAL_DIR = data.REPO_ROOT / "data" / "runs" / "records"
RECORD_ENV = "MNIST_RECORD"


class RecordError(UserError):
    """A run record that cannot be read; the message names the file."""


def machine() -> str:
    """The CPU this process runs on, as /proc/cpuinfo names it, and its core count."""
    name = platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    return f"{name}, {os.cpu_count()} cores"


def _load(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    try:
        rows = json.loads(path.read_text())["runs"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise RecordError(f"{path}: not a run record ({exc}); delete it to train the runs again") from exc
    return list(rows)


def _save(path: Path, rows: list[dict]) -> None:
    text = json.dumps({"runs": rows}, indent=1, sort_keys=True) + "\n"
    data.atomic_write(path, text.encode())


def _train(label: str, recipe: Recipe, splits: data.Splits, code: str) -> dict:
    from helpers import inference, training  # TensorFlow only when something is trained

    start = time.perf_counter()
    model, history = training.fit(recipe, splits, verbose=False)
    seconds = time.perf_counter() - start
    return {
        "label": label,
        "recipe": recipe.to_dict(),
        "code": code,
        "parameters": int(model.count_params()),
        "val_accuracy": inference.accuracy(model, splits.x_val, splits.y_val),
        "history": history,
        "seconds": round(seconds, 1),
        "date": date.today().isoformat(),
        "machine": machine(),
    }


def short_runs(
    name: str, recipes: Mapping[str, Recipe], splits: data.Splits, *, retrain: bool = False
) -> pd.DataFrame:
    """Train each recipe (or read its recorded run) and tabulate it, one row per label.

    Columns: parameters, val accuracy, train accuracy (last epoch), seconds (the training time
    where it ran) and recorded (the date and machine of the run). A recorded run is used when
    its recipe and training code are today's.
    """
    record_all = os.environ.get(RECORD_ENV) == "1"
    committed, local = COMMITTED_DIR / f"{name}.json", LOCAL_DIR / f"{name}.json"
    known = [] if retrain or record_all else _load(committed) + _load(local)
    rows, fresh = [], []
    texts = source_texts()  # the training code, read once for every recipe
    for label, recipe in recipes.items():
        code = code_fingerprint(recipe, texts=texts)
        found = [r for r in known if r["recipe"] == recipe.to_dict() and r["code"] == code]
        row = found[0] if found else _train(label, recipe, splits, code)
        if not found:
            fresh.append(row)
        rows.append({**row, "label": label})
    if record_all:
        _save(committed, rows)
    elif fresh:
        mine = [r for r in _load(local) if all(r["recipe"] != f["recipe"] for f in fresh)]
        _save(local, mine + fresh)
    table = pd.DataFrame({
        "parameters": [r["parameters"] for r in rows],
        "val accuracy": [r["val_accuracy"] for r in rows],
        "train accuracy (last epoch)": [r["history"]["accuracy"][-1] for r in rows],
        "seconds": [r["seconds"] for r in rows],
        "recorded": [f"{r['date']}, {r['machine']}" for r in rows],
    }, index=pd.Index([r["label"] for r in rows], name="design"))
    table.attrs["fresh"] = len(fresh)
    return table


# ---------------------------------------------------------------- selection records

#: Validation results of the runs that chose the augmentation, the CNN and each model's epoch
#: budget (accuracy in %, training seconds), one CSV per selection under `notebooks/records/`.
#: The notebooks and the README show these files; neither types the numbers.
SELECTIONS = (
    "mlp_augment_selection", "cnn_selection", "epochs_mlp", "epochs_mlp_aug", "epochs_cnn_aug",
    "cnn_time_curve", "mlp_half_time",
)


def selection(name: str) -> pd.DataFrame:
    """A selection record as a table: one row per candidate, the chosen one marked "yes"."""
    path = COMMITTED_DIR / f"{name}.csv"
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (FileNotFoundError, pd.errors.ParserError) as exc:
        raise RecordError(f"{path}: not a readable selection record ({exc})") from exc
    if "candidate" not in table or "chosen" not in table:
        raise RecordError(f"{path}: expected the columns 'candidate' and 'chosen', got {list(table)}")
    return table.set_index("candidate")


def selection_markdown(name: str) -> str:
    """The selection record as a Markdown table (chosen row in bold; "—" where nothing was measured)."""
    table = selection(name)
    numbers = [c for c in table.columns if c != "chosen"]
    lines = ["| candidate | " + " | ".join(numbers) + " |", "| --- |" + " ---: |" * len(numbers)]
    for candidate, row in table.iterrows():
        cells = [candidate] + [row[c] or "—" for c in numbers]
        if row["chosen"] == "yes":
            cells = [f"**{c}**" for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
