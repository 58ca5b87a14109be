"""Measure a model on real handwriting: the external-digits photos and the USPS digits.

The external-digits set (`../shared/external-digits`, or $EXTERNAL_DIGITS_DIR) holds
labelled photos, scans and drawings of single digits from public repositories, indexed
by `labels.csv`; its `usps/usps.mat` holds the USPS digits. Both are read through the
photo pipeline (`helpers.photo`) into MNIST's form. Nothing here prints: the command
line prints `ExternalSummary` (its `str` is the report).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from helpers import UserError, data
from helpers.inference import Model, predict_proba
from helpers.photo import DEFAULT_THRESHOLD, ImageReadError, classify_batch, find_batch, to_mnist

if TYPE_CHECKING:  # pandas is imported when a table is made: importing this module stays fast
    import pandas as pd

EXTERNAL_ENV = "EXTERNAL_DIGITS_DIR"
DEFAULT_EXTERNAL = data.REPO_ROOT.parent / "shared" / "external-digits"


class ExternalSetError(UserError, FileNotFoundError):
    """The external-digits folder or one of its files is missing; the message says which."""


def external_root(root: str | os.PathLike | None = None) -> Path:
    """The external-digits folder: the argument, else $EXTERNAL_DIGITS_DIR, else ../shared/external-digits."""
    if root is not None:
        return Path(root)
    return Path(os.environ.get(EXTERNAL_ENV) or DEFAULT_EXTERNAL)


def load_external_set(root: str | os.PathLike | None = None) -> pd.DataFrame:
    """The index of real handwritten digits (labels.csv), with a `file` column of full paths.

    Columns: path, label, source_repo, source_path, kind, notes, file. Labels come
    from the `label` column, never from file names.
    """
    import pandas as pd

    folder = external_root(root)
    csv = folder / "labels.csv"
    if not csv.is_file():
        raise ExternalSetError(f"{csv}: no such file (set ${EXTERNAL_ENV} to the external-digits folder)")
    try:
        df = pd.read_csv(csv)
    except (ValueError, OSError) as exc:  # pandas' EmptyDataError and ParserError are ValueErrors
        raise ExternalSetError(f"{csv}: not a readable CSV table ({exc})") from None
    missing = {"path", "label", "kind"} - set(df.columns)
    if missing:
        raise ExternalSetError(f"{csv}: missing columns {', '.join(sorted(missing))}")
    labels = pd.to_numeric(df["label"], errors="coerce")
    bad = df.index[~labels.isin(range(10))]
    if len(bad):
        row = bad[0]
        raise ExternalSetError(f"{csv}: row {row + 2}: label {str(df['label'][row])!r} is not a digit 0-9")
    df["label"] = labels.astype(int)
    df["file"] = [str(folder / p) for p in df["path"]]
    return df


def evaluate_external(
    model: Model, root: str | os.PathLike | None = None, threshold: float = DEFAULT_THRESHOLD,
    single: bool = True,
) -> pd.DataFrame:
    """Read every labelled image of the external set; one row per image.

    Each image holds one digit. With `single=True` it is read in single-digit mode
    (the largest blob clear of the edges plus the pieces near it); with `single=False`
    as `predict` reads any photo, and it counts as correct only when exactly one digit,
    the right one, is read. Columns: path, label, kind, predicted (-1 when nothing was
    found or the file was unreadable), probability, correct, low_confidence, top3, note
    (what was read when it was not one digit).
    """
    return evaluate_external_models({"model": model}, root, threshold, single)["model"]


def evaluate_external_models(
    models: Mapping[str, Model], root: str | os.PathLike | None = None,
    threshold: float = DEFAULT_THRESHOLD, single: bool = True,
) -> dict[str, pd.DataFrame]:
    """`evaluate_external` for several models, the photos read only once: one table per model."""
    df = load_external_set(root)
    files = list(df["file"])
    found = find_batch(files, single=single)
    return {name: _external_table(df, classify_batch(files, found, model, threshold), threshold)
            for name, model in models.items()}


def _external_table(df: pd.DataFrame, results: list, threshold: float) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for (_, row), res in zip(df.iterrows(), results, strict=True):
        if isinstance(res, ImageReadError) or not res.digits:
            note = str(res) if isinstance(res, ImageReadError) else res.message
            pred, prob, top3, low = -1, 0.0, [], True
        elif len(res.digits) > 1:
            d = max(res.digits, key=lambda d: d.probability)
            note, pred, prob, top3, low = f"read {res.text!r}", -1, d.probability, d.top3, True
        else:
            d = res.digits[0]
            note, pred, prob, top3, low = "", d.label, d.probability, d.top3, d.low_confidence
        rows.append({
            "path": row["path"], "label": int(row["label"]), "kind": row["kind"],
            "predicted": pred, "probability": prob, "correct": pred == int(row["label"]),
            "low_confidence": low or prob < threshold, "top3": top3, "note": note,
        })
    columns = ["path", "label", "kind", "predicted", "probability", "correct", "low_confidence", "top3",
               "note"]
    return pd.DataFrame(rows, columns=columns)


@dataclass
class ExternalSummary:
    """Accuracy of an external evaluation, overall and broken down."""

    n: int
    accuracy: float
    per_kind: pd.DataFrame  # accuracy and count per kind
    per_label: pd.DataFrame  # accuracy and count per true label
    failures: pd.DataFrame  # the rows read wrong

    def __str__(self) -> str:
        def rows(t: pd.DataFrame) -> list[str]:
            return [f"  {k!s:<8} {r.accuracy:6.1%}  ({int(r.correct)}/{int(r.n)})" for k, r in t.iterrows()]

        lines = [f"external digits: {self.accuracy:.1%} of {self.n} images read correctly", ""]
        lines += ["per kind:", *rows(self.per_kind), "", "per label:", *rows(self.per_label)]
        lines += ["", f"failures ({len(self.failures)}):"]
        for _, r in self.failures.iterrows():
            got = (r.note if r.note.startswith("read ") else "nothing found") if r.predicted < 0 \
                else f"read {r.predicted} ({r.probability:.0%})"
            lines.append(f"  {r.path}  label {r.label}, {got}  [{r.kind}]")
        return "\n".join(lines)


def summarize_external(results: pd.DataFrame) -> ExternalSummary:
    """Overall, per-kind and per-label accuracy, and the failures, of `evaluate_external`'s table."""

    def table(by: str):
        t = results.groupby(by)["correct"].agg(["mean", "sum", "size"])
        return t.rename(columns={"mean": "accuracy", "sum": "correct", "size": "n"})

    return ExternalSummary(
        n=len(results),
        accuracy=float(results["correct"].mean()) if len(results) else float("nan"),
        per_kind=table("kind"),
        per_label=table("label"),
        failures=results[~results["correct"]].reset_index(drop=True),
    )


def usps_to_mnist(x: np.ndarray) -> np.ndarray:
    """USPS rows (N, 256) in −1…1 (ink +1) → (N, 28, 28) float32 in MNIST's form.

    The same normalization as for photos: ink crop, stroke width matched, longer
    side fitted to 20 px, centre of mass at (14, 14).
    """
    ink = (np.asarray(x, np.float32).reshape(-1, 16, 16) + 1.0) / 2.0  # 0 = paper, 1 = ink
    if len(ink) == 0:
        return np.zeros((0, 28, 28), np.float32)
    return np.stack([to_mnist(np.clip(im, 0, 1))[0] for im in ink])


def _usps_mat(root: str | os.PathLike | None, names: list[str]) -> dict[str, np.ndarray]:
    """The named arrays of `usps/usps.mat`, or one `ExternalSetError` line naming the file."""
    from scipy.io import loadmat

    path = external_root(root) / "usps" / "usps.mat"
    if not path.is_file():
        raise ExternalSetError(f"{path}: no such file")
    try:
        mat = loadmat(path, variable_names=names)
    except (ValueError, OSError, TypeError) as exc:
        raise ExternalSetError(f"{path}: not a readable MATLAB file ({exc})") from None
    missing = [n for n in names if n not in mat]
    if missing:
        raise ExternalSetError(f"{path}: no {', '.join(missing)} in it (expected {', '.join(names)})")
    return mat


def load_usps(
    root: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """USPS (7,291 train + 2,007 test) in MNIST's form: x_train, y_train, x_test, y_test.

    Images are float32 (N, 28, 28) in [0, 1], white ink on black; labels uint8.
    """
    mat = _usps_mat(root, ["Xtr", "ytr", "Xtst", "ytst"])
    y = lambda k: np.asarray(mat[k]).reshape(-1).astype(np.uint8)  # noqa: E731
    return usps_to_mnist(mat["Xtr"]), y("ytr"), usps_to_mnist(mat["Xtst"]), y("ytst")


def usps_accuracy(model: Model, root: str | os.PathLike | None = None) -> float:
    """Accuracy of `model` on the USPS *test* set brought to MNIST's form."""
    mat = _usps_mat(root, ["Xtst", "ytst"])
    x = usps_to_mnist(mat["Xtst"])
    y = np.asarray(mat["ytst"]).reshape(-1)
    return float((predict_proba(model, x).argmax(axis=1) == y).mean())


def uci_digits_to_mnist(images: np.ndarray) -> np.ndarray:
    """scikit-learn's UCI digits (N, 8, 8), 0…16 with 16 = most ink → (N, 28, 28) in MNIST's form.

    The same normalization as USPS and the photos (`to_mnist`): an 8×8 grid of ink counts is
    the ink map, blown up, its stroke width matched, fitted to 20 px and centred by mass.
    """
    x = np.asarray(images, np.float32)
    if x.ndim != 3 or x.shape[1:] != (8, 8):
        raise ExternalSetError(f"UCI digits: expected images of shape (N, 8, 8), got {x.shape}")
    if not len(x):
        return np.zeros((0, 28, 28), np.float32)
    return np.stack([to_mnist(np.clip(im / 16.0, 0, 1))[0] for im in x])


def load_uci_digits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's bundled UCI handwritten digits (the UCI test part: 1,797 digits by 13 writers):
    the 8×8 images as stored, the same in MNIST's form, and the labels."""
    from sklearn.datasets import load_digits  # bundled with scikit-learn: works offline

    bunch = load_digits()
    return bunch.images, uci_digits_to_mnist(bunch.images), bunch.target.astype(np.int64)
