"""Metrics for a trained classifier: accuracy with its uncertainty, confusions, calibration.

Functions take true labels `y_true` (N,) and either predicted labels `y_pred` (N,)
or predicted probabilities `probs` (N, K). Everything returns NumPy arrays,
pandas DataFrames or plain numbers, so results print well in notebooks and
`summarize` gives a JSON-serializable dict.

Only `evaluate_model` and `robustness_table` run a model, through
`inference.predict_proba` (which imports no runtime itself), so the metric functions
stay quick to import.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn import metrics as skm

from helpers.inference import predict_proba

N_CLASSES = 10
DEFAULT_BINS = 15
#: Rejection thresholds on the top-class probability; dense near 1 where trained nets live.
DEFAULT_THRESHOLDS = (
    0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999,
)


# ---------------------------------------------------------------- input checks


def _labels(y: Any, name: str, n_classes: int = N_CLASSES) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of class labels, got shape {y.shape}")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        if not (np.issubdtype(y.dtype, np.floating) and np.array_equal(y, np.round(y))):
            raise ValueError(f"{name}: expected integer class labels, got dtype {y.dtype}")
        y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(
            f"{name}: expected labels in 0..{n_classes - 1}, got range {y.min()}..{y.max()}"
        )
    return y.astype(np.int64, copy=False)


def _pair(y_true: Any, y_pred: Any, n_classes: int = N_CLASSES) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = _labels(y_true, "y_true", n_classes), _labels(y_pred, "y_pred", n_classes)
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true and y_pred must have the same length, got {len(y_true)} and {len(y_pred)}"
        )
    if len(y_true) == 0:
        raise ValueError("expected at least one example, got empty arrays")
    return y_true, y_pred


def _probs(probs: Any, y_true: Any) -> tuple[np.ndarray, np.ndarray]:
    """Check a (N, K) probability matrix against labels; return (y_true, probs)."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"probs: expected shape (N, n_classes), got shape {p.shape}")
    if not np.isfinite(p).all() or p.min() < 0 or p.max() > 1 + 1e-6:
        raise ValueError("probs: expected probabilities in [0, 1] (softmax outputs)")
    y = _labels(y_true, "y_true", p.shape[1])
    if len(y) != len(p):
        raise ValueError(f"y_true has {len(y)} labels but probs has {len(p)} rows")
    if len(y) == 0:
        raise ValueError("expected at least one example, got empty arrays")
    return y, p


# ---------------------------------------------------------------- accuracy


class AccuracyCI(NamedTuple):
    """Accuracy with a confidence interval (`level`, e.g. 0.95) over `n` examples."""

    accuracy: float
    low: float
    high: float
    n: int
    level: float = 0.95

    def __str__(self) -> str:
        return (
            f"{self.accuracy:.2%} ({self.level:.0%} CI {self.low:.2%}–{self.high:.2%}, "
            f"n={self.n:,})"
        )


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion `successes / n`.

    Unlike the textbook p ± z·√(p(1-p)/n), it stays inside [0, 1] and is not
    zero-width at 0% or 100%, which matters for accuracies near 99%.
    """
    if n <= 0:
        raise ValueError(f"n must be a positive count, got {n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in 0..n={n}, got {successes}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), e.g. 0.95, got {level}")
    z = float(norm.ppf(0.5 + level / 2))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # At 0 or n successes the bound is exactly 0 or 1; rounding would leave 1e-16 off.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def accuracy_ci(y_true: Any, y_pred: Any, level: float = 0.95) -> AccuracyCI:
    """Accuracy of `y_pred` with a Wilson `level` confidence interval."""
    y_true, y_pred = _pair(y_true, y_pred)
    correct, n = int((y_true == y_pred).sum()), len(y_true)
    low, high = wilson_interval(correct, n, level)
    return AccuracyCI(correct / n, low, high, n, level)


# ---------------------------------------------------------------- confusions


def confusion_matrix(
    y_true: Any, y_pred: Any, *, normalize: bool = False, n_classes: int = N_CLASSES
) -> np.ndarray:
    """Counts `cm[true, predicted]`; with `normalize`, each row divided by its total.

    A normalized row reads "of all the true 4s, this share was called 0, 1, …";
    a class absent from `y_true` gets a row of zeros rather than NaN.
    """
    y_true, y_pred = _pair(y_true, y_pred, n_classes)
    cm = skm.confusion_matrix(y_true, y_pred, labels=np.arange(n_classes))
    return normalize_rows(cm) if normalize else cm


def normalize_rows(cm: Any) -> np.ndarray:
    """Divide each row of a confusion matrix by its total (empty rows stay zero)."""
    cm = np.asarray(cm, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"expected a square confusion matrix, got shape {cm.shape}")
    totals = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, totals, out=np.zeros_like(cm), where=totals > 0)


def per_class_metrics(y_true: Any, y_pred: Any, n_classes: int = N_CLASSES) -> pd.DataFrame:
    """Precision, recall, F1 and support per class (index "digit").

    Sort it to find the weak classes, e.g. `.sort_values("f1").head(3)`.
    """
    y_true, y_pred = _pair(y_true, y_pred, n_classes)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=np.arange(n_classes), zero_division=0
    )
    return pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support},
        index=pd.RangeIndex(n_classes, name="digit"),
    )


def confused_pairs(
    y_true: Any, y_pred: Any, top: int | None = 10, n_classes: int = N_CLASSES
) -> pd.DataFrame:
    """The most frequent mistakes: columns true, predicted, count, share.

    `share` is the count divided by the number of true examples of that class:
    "3.1% of all 4s were called 9".
    """
    cm = confusion_matrix(y_true, y_pred, n_classes=n_classes)
    off = cm.copy()
    np.fill_diagonal(off, 0)
    true, pred = np.nonzero(off)
    counts = off[true, pred]
    support = cm.sum(axis=1)[true]
    table = pd.DataFrame(
        {"true": true, "predicted": pred, "count": counts, "share": counts / support}
    )
    # Ties broken by share, then by digits, so the order never depends on the sort algorithm.
    table = table.sort_values(
        ["count", "share", "true", "predicted"], ascending=[False, False, True, True]
    ).reset_index(drop=True)
    return table if top is None else table.head(top)


def misclassified(y_true: Any, probs: Any) -> np.ndarray:
    """Indices of wrong predictions, most confident mistakes first."""
    y, p = _probs(probs, y_true)
    pred, conf = p.argmax(axis=1), p.max(axis=1)
    wrong = np.flatnonzero(pred != y)
    # Stable sort on -confidence keeps equal-confidence mistakes in index order.
    return wrong[np.argsort(-conf[wrong], kind="stable")]


# ---------------------------------------------------------------- calibration


def _bin_index(conf: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin i holds confidences in (i/n, (i+1)/n]; a confidence of exactly 0 goes to bin 0."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)


def reliability_bins(y_true: Any, probs: Any, n_bins: int = DEFAULT_BINS) -> pd.DataFrame:
    """Per equal-width confidence bin: lower, upper, confidence (mean), accuracy, count.

    For a calibrated model, accuracy ≈ confidence in every bin. Empty bins have
    count 0 and NaN confidence/accuracy.
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    y, p = _probs(probs, y_true)
    conf, correct = p.max(axis=1), (p.argmax(axis=1) == y).astype(np.float64)
    idx = _bin_index(conf, n_bins)
    count = np.bincount(idx, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(idx, weights=conf, minlength=n_bins) / count
        acc = np.bincount(idx, weights=correct, minlength=n_bins) / count
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return pd.DataFrame(
        {
            "lower": edges[:-1],
            "upper": edges[1:],
            "confidence": mean_conf,
            "accuracy": acc,
            "count": count,
        }
    )


def expected_calibration_error(y_true: Any, probs: Any, n_bins: int = DEFAULT_BINS) -> float:
    """ECE: the count-weighted mean |accuracy − confidence| over equal-width bins.

    0 means the model's confidence can be taken at face value; 0.05 means it is
    off by 5 percentage points on average.
    """
    bins = reliability_bins(y_true, probs, n_bins).query("count > 0")
    weights = bins["count"] / bins["count"].sum()
    return float((weights * (bins["accuracy"] - bins["confidence"]).abs()).sum())


def rejection_curve(
    y_true: Any, probs: Any, thresholds: Sequence[float] | None = None
) -> pd.DataFrame:
    """Accuracy when the model may refuse to answer below a confidence threshold.

    Columns: threshold, rejected (share of all examples with confidence below
    it), accepted (count), accuracy (on the accepted; NaN when none are left).
    """
    y, p = _probs(probs, y_true)
    conf, correct = p.max(axis=1), p.argmax(axis=1) == y
    ts = np.asarray(DEFAULT_THRESHOLDS if thresholds is None else thresholds, dtype=np.float64)
    if ts.ndim != 1 or ts.size == 0:
        raise ValueError(f"thresholds: expected a non-empty 1-D sequence, got shape {ts.shape}")
    ts = np.sort(ts)
    rows = []
    for t in ts:
        keep = conf >= t
        n_keep = int(keep.sum())
        rows.append(
            {
                "threshold": float(t),
                "rejected": 1.0 - n_keep / len(y),
                "accepted": n_keep,
                "accuracy": float(correct[keep].mean()) if n_keep else float("nan"),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- summaries


def summarize(
    y_true: Any, probs: Any, *, top_confusions: int = 10, n_bins: int = DEFAULT_BINS
) -> dict[str, Any]:
    """A JSON-serializable summary: accuracy and CI, per-class metrics, top confusions, ECE."""
    y, p = _probs(probs, y_true)
    pred = p.argmax(axis=1)
    acc = accuracy_ci(y, pred)
    per_class = per_class_metrics(y, pred, n_classes=p.shape[1])
    pairs = confused_pairs(y, pred, top=top_confusions, n_classes=p.shape[1])
    return {
        "n": acc.n,
        "accuracy": acc.accuracy,
        "ci95": [acc.low, acc.high],
        "errors": int((pred != y).sum()),
        "ece": expected_calibration_error(y, p, n_bins),
        "ece_bins": n_bins,
        "per_class": {
            str(digit): {
                "precision": float(row["precision"]),
                "recall": float(row["recall"]),
                "f1": float(row["f1"]),
                "support": int(row["support"]),
            }
            for digit, row in per_class.to_dict("index").items()
        },
        "top_confusions": [
            {
                "true": int(row["true"]),
                "predicted": int(row["predicted"]),
                "count": int(row["count"]),
                "share": float(row["share"]),
            }
            for row in pairs.to_dict("records")
        ],
    }


#: `predict(model, x) -> probs (N, K)`; `None` means `inference.predict_proba`.
Predict = Callable[[Any, np.ndarray], np.ndarray]


def evaluate_model(
    model: Any, x: np.ndarray, y: Any, *, predict: Predict | None = None
) -> dict[str, Any]:
    """Run `model` on images `x` and `summarize` it against labels `y`."""
    y = _labels(y, "y")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} images but y has {len(y)} labels")
    return summarize(y, (predict or predict_proba)(model, x))


def robustness_table(
    models: Mapping[str, Any],
    suite: Mapping[str, np.ndarray],
    y: Any,
    *,
    predict: Predict | None = None,
) -> pd.DataFrame:
    """Accuracy of each model (columns) on each perturbed copy of the test set (rows).

    `suite` is e.g. `perturb.perturbed_suite(x_test)`; every entry must hold the
    same images as `y` labels, in the same order.
    """
    if not models:
        raise ValueError("models: expected at least one {name: model}")
    if not suite:
        raise ValueError("suite: expected at least one {perturbation name: images}")
    y = _labels(y, "y")
    for name, x in suite.items():
        if len(x) != len(y):
            raise ValueError(f"suite[{name!r}] has {len(x)} images but y has {len(y)} labels")
    run = predict or predict_proba
    table = pd.DataFrame(index=pd.Index(list(suite), name="perturbation"), dtype=np.float64)
    for model_name, model in models.items():
        table[model_name] = [
            float(np.mean(run(model, x).argmax(axis=1) == y)) for x in suite.values()
        ]
    return table
