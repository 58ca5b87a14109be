"""Figures of a model's mistakes and certainty: confusion matrices, calibration, rejection, robustness."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from helpers import evaluate
from helpers.plots.base import RIGHT, WRONG, _panel, _vector

# ---------------------------------------------------------------- confusion matrices


def _square(cm: Any, name: str) -> np.ndarray:
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] == 0:
        raise ValueError(f"{name}: expected a square confusion matrix, got shape {cm.shape}")
    return cm


def _cell_text(values: np.ndarray, as_percent: bool) -> np.ndarray:
    # Blank zero cells: a 10×10 grid of "0"s hides the few cells that matter.
    if as_percent:
        text = [f"{100 * v:.1f}" if abs(v) >= 0.0005 else "" for v in values.ravel()]
    else:
        text = [f"{int(round(v)):d}" if v else "" for v in values.ravel()]
    return np.array(text, dtype=object).reshape(values.shape)


def _matrix_heatmap(
    ax: Axes, values: np.ndarray, labels: Sequence[str], *, as_percent: bool, cbar_label: str, **colour: Any
) -> None:
    """The annotated 10×10 grid both confusion plots share (rows true, columns predicted)."""
    sns.heatmap(
        values,
        ax=ax,
        annot=_cell_text(values, as_percent),
        fmt="",
        annot_kws={"fontsize": 9},
        cbar_kws={"shrink": 0.8, "label": cbar_label},
        square=True,
        linewidths=0.5,
        linecolor="white",
        xticklabels=labels,
        yticklabels=labels,
        **colour,
    )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.tick_params(axis="y", rotation=0)


def confusion_heatmap(
    cm: Any,
    normalize: bool = False,
    ax: Axes | None = None,
    title: str | None = None,
    *,
    labels: Sequence[str] | None = None,
    cmap: str = "Blues",
    mistakes_only: bool = False,
) -> Figure:
    """Heatmap of a confusion matrix (rows true, columns predicted), cells annotated.

    With `normalize`, each row is shown as percentages of that true class. With
    `mistakes_only`, the diagonal (the correct answers, hundreds of times larger than any
    mistake) is left out of the colour scale and written in grey, so the mistakes get the
    whole scale.
    """
    cm = _square(cm, "cm")
    labels = [str(i) for i in range(len(cm))] if labels is None else list(labels)
    if len(labels) != len(cm):
        raise ValueError(f"labels: expected {len(cm)} names, got {len(labels)}")
    values = evaluate.normalize_rows(cm) if normalize else cm.astype(np.float64)
    fig, ax = _panel(ax, (4.4, 3.8))
    diagonal = np.eye(len(cm), dtype=bool)
    off = values[~diagonal]
    vmax = 1 if normalize else None
    if mistakes_only:
        vmax = max(float(off.max()) if off.size else 0.0, 1e-9)
    cbar_label = ("% of true class" if normalize else "count") + (", mistakes" if mistakes_only else "")
    _matrix_heatmap(ax, values, labels, as_percent=normalize, cbar_label=cbar_label,
                    cmap=cmap, vmin=0, vmax=vmax, mask=diagonal if mistakes_only else None)
    if mistakes_only:
        for i, text in enumerate(_cell_text(np.diag(values), normalize)):
            ax.text(i + 0.5, i + 0.5, text, ha="center", va="center", fontsize=9, color="0.45")
    if normalize:  # the colour bar in percent, as the cells are written
        percent = FuncFormatter(lambda v, _: f"{100 * v:.3g}")
        ax.collections[0].colorbar.ax.yaxis.set_major_formatter(percent)
    default = "% of each true class" if normalize else "counts"
    default += ", mistakes in colour" if mistakes_only else ""
    ax.set_title(title or f"Confusion matrix ({default})", fontsize=10)
    return fig


def confusion_difference(
    cm_a: Any,
    cm_b: Any,
    *,
    names: tuple[str, str] = ("A", "B"),
    normalize: bool = True,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Cell-by-cell difference B − A of two confusion matrices, red = more in B.

    Off the diagonal, red means B makes that mistake more often, blue less; on
    the diagonal, red means B gets that digit right more often. With `normalize`
    (default) the rows are compared as percentages, so different test-set sizes
    do not matter.
    """
    a, b = _square(cm_a, "cm_a"), _square(cm_b, "cm_b")
    if a.shape != b.shape:
        raise ValueError(f"cm_a and cm_b must have the same shape, got {a.shape} and {b.shape}")
    if normalize:
        a, b = evaluate.normalize_rows(a), evaluate.normalize_rows(b)
    diff = b.astype(np.float64) - a.astype(np.float64)
    limit = float(np.abs(diff).max()) or 1.0
    fig, ax = _panel(ax, (4.4, 3.8))
    labels = [str(i) for i in range(len(diff))]
    _matrix_heatmap(ax, diff, labels, as_percent=normalize,
                    cbar_label="percentage points" if normalize else "count",
                    cmap="RdBu_r", center=0, vmin=-limit, vmax=limit)
    if normalize:
        cbar = ax.collections[0].colorbar
        ticks = np.linspace(-limit, limit, 5)
        cbar.set_ticks(ticks, labels=[f"{100 * t:+.1f}" for t in ticks])
    ax.set_title(title or f"{names[1]} − {names[0]}", fontsize=10)
    return fig


# ---------------------------------------------------------------- confidence and calibration


def confidence_histogram(
    conf: Any,
    correct: Any,
    *,
    bins: int = 20,
    log: bool = True,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """How sure the model was, for right and for wrong answers (two histograms)."""
    conf = np.asarray(conf, dtype=np.float64)
    if conf.ndim != 1 or conf.size == 0:
        raise ValueError(f"conf: expected a non-empty 1-D array of confidences, got {conf.shape}")
    correct = _vector(correct, len(conf), "correct").astype(bool)
    edges = np.linspace(0, 1, bins + 1)
    fig, ax = _panel(ax, (5, 3))
    for mask, label, color in ((correct, "right", RIGHT), (~correct, "wrong", WRONG)):
        counts, _ = np.histogram(conf[mask], bins=edges)
        ax.stairs(counts, edges, fill=True, alpha=0.5, color=color,
                  label=f"{label} (n={int(mask.sum()):,})")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("confidence (top-class probability)")
    ax.set_ylabel("predictions" + (" (log scale)" if log else ""))
    ax.legend(fontsize=9)
    ax.set_title(title or "Confidence of right and wrong answers", fontsize=10)
    return fig


def reliability_diagram(
    bins: pd.DataFrame,
    *,
    ece: float | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Accuracy per confidence bin against the diagonal of perfect calibration.

    `bins` is `evaluate.reliability_bins(...)`. Bars below the diagonal mean the
    model is over-confident there; the red part is the gap to its mean confidence.
    Each bar is labelled with the number of answers in its bin.
    """
    needed = {"lower", "upper", "confidence", "accuracy", "count"}
    if not isinstance(bins, pd.DataFrame) or not needed <= set(bins.columns):
        raise ValueError(
            "bins: expected the DataFrame from evaluate.reliability_bins, "
            f"with columns {sorted(needed)}"
        )
    full = bins[bins["count"] > 0]
    width = (full["upper"] - full["lower"]).to_numpy()
    left = full["lower"].to_numpy()
    acc, conf = full["accuracy"].to_numpy(), full["confidence"].to_numpy()
    fig, ax = _panel(ax, (3.8, 3.6))
    ax.bar(left, acc, width, align="edge", color="tab:blue", edgecolor="white", label="accuracy")
    # Hatched, unfilled: the gap stays visible where it overlaps the accuracy bar.
    ax.bar(left, conf - acc, width, bottom=acc, align="edge", fill=False, hatch="///",
           edgecolor=WRONG, linewidth=0.8, label="gap to mean confidence")
    ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfect calibration")
    # How many answers each bar stands for: bins with a handful of images are noise.
    for x0, w, a, n in zip(left, width, acc, full["count"].to_numpy(), strict=True):
        ax.text(x0 + w / 2, 0.02, f"{n:,}", rotation=90, ha="center", va="bottom",
                fontsize=9, color="white" if a > 0.2 else "black")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    # Below the axes: inside, it would hide the bars of the middle bins.
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    default = "Reliability diagram" + (f" (ECE {ece:.2%})" if ece is not None else "")
    ax.set_title(title or default, fontsize=10)
    return fig


def rejection_chart(
    curves: pd.DataFrame | Mapping[str, pd.DataFrame],
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Accuracy on the answers kept against the share rejected as too unsure.

    `curves` is `evaluate.rejection_curve(...)`, or {model name: that frame} to compare.
    """
    named = {"": curves} if isinstance(curves, pd.DataFrame) else dict(curves)
    if not named:
        raise ValueError("curves: expected a rejection-curve DataFrame or {name: DataFrame}")
    fig, ax = _panel(ax, (4.6, 3.2))
    for name, curve in named.items():
        if not isinstance(curve, pd.DataFrame) or not {"rejected", "accuracy"} <= set(curve):
            raise ValueError(
                f"curves[{name!r}]: expected the DataFrame from evaluate.rejection_curve"
            )
        kept = curve.dropna(subset=["accuracy"])
        ax.plot(100 * kept["rejected"], 100 * kept["accuracy"], "o-", markersize=3,
                label=name or None)
    ax.set_xlabel("% of test images rejected (confidence below threshold)")
    ax.set_ylabel("% accuracy on the rest")
    if len(named) > 1:
        ax.legend(fontsize=9)
    ax.set_title(title or "Accuracy vs. share rejected", fontsize=10)
    return fig


def robustness_chart(
    df: pd.DataFrame, *, ax: Axes | None = None, title: str | None = None
) -> Figure:
    """Horizontal grouped bars: accuracy of each model (colour) on each perturbation (row).

    `df` is `evaluate.robustness_table(...)` (rows perturbations, columns models).
    """
    if not isinstance(df, pd.DataFrame) or df.empty:
        raise ValueError("df: expected the non-empty DataFrame from evaluate.robustness_table")
    rows, cols = df.shape
    fig, ax = _panel(ax, (5.5, 0.25 * rows * cols + 1.2))
    height = 0.8 / cols
    centres = np.arange(rows)
    for j, model in enumerate(df.columns):
        values = df[model].to_numpy(dtype=np.float64)
        bars = ax.barh(centres + (j - (cols - 1) / 2) * height, values, height, label=str(model))
        ax.bar_label(bars, labels=[f"{v:.1%}" for v in values], fontsize=9, padding=2)
    ax.set_yticks(centres, [str(i) for i in df.index])
    ax.invert_yaxis()  # first perturbation (usually "clean") on top
    ax.set_xlim(0, 1.12)  # room for the value labels past 100%
    ax.set_xticks(np.linspace(0, 1, 6), [f"{int(100 * t)}%" for t in np.linspace(0, 1, 6)])
    ax.set_xlabel("test accuracy")
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)  # clear of the bars
    ax.set_title(title or "Accuracy on perturbed test images", fontsize=10)
    return fig


# ---------------------------------------------------------------- what a network learned


def embedding_map(points: Any, labels: Any, wrong: Any = None, *, title: str | None = None) -> Figure:
    """A 2-D map of examples (e.g. t-SNE of a hidden layer), one colour per digit, each digit's
    name at the middle of its points, and mistakes (`wrong`, booleans) ringed in black."""
    xy = np.asarray(points, dtype=np.float64)
    y = np.asarray(labels)
    if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) != len(y) or not len(y):
        raise ValueError(
            f"points and labels: expected (N, 2) points and N labels, got {xy.shape} and {y.shape}")
    bad = np.zeros(len(y), dtype=bool) if wrong is None else np.asarray(wrong, dtype=bool)
    if bad.shape != y.shape:
        raise ValueError(f"wrong: expected {len(y)} booleans, got shape {bad.shape}")
    fig, ax = _panel(None, (6.2, 5.2))
    for digit in np.unique(y):
        at = y == digit
        ax.scatter(xy[at, 0], xy[at, 1], s=6, color=f"C{int(digit) % 10}", alpha=0.6, linewidths=0)
        cx, cy = np.median(xy[at], axis=0)
        ax.text(cx, cy, str(digit), fontsize=14, weight="bold", ha="center", va="center",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7})
    if bad.any():
        ax.scatter(xy[bad, 0], xy[bad, 1], s=40, facecolors="none", edgecolors="black", linewidths=1,
                   label=f"misread ({int(bad.sum())})")
        ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title or "each point is one image; colour and label: the true digit", fontsize=10)
    return fig
