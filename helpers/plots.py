"""Figures for the notebooks and the command line.

Every function returns a `matplotlib.figure.Figure` made without pyplot: nothing
is shown or kept in a global registry, so the module works the same headless, in
tests and in scripts (`fig.savefig(path)`). In a notebook a figure is displayed
(once) when it is the cell's last expression, or with `display(fig)`; a figure
made in a loop or mid-cell needs `display(fig)`.

Functions that draw a single panel take an optional `ax` to draw into a larger
figure; they then return that axes' figure. Sizes and resolution are modest
(`DPI`) so executed notebooks stay small.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from helpers import evaluate

DPI = 80
#: Dark ink on a light page reads like handwriting; the data itself is light ink on black.
IMAGE_CMAP = "gray_r"
RIGHT, WRONG = "tab:green", "tab:red"


# ---------------------------------------------------------------- helpers


class PlotFigure(Figure):
    """A Figure that renders itself as PNG in notebooks, without pyplot or `%matplotlib`.

    IPython asks objects for `_repr_png_`; a plain Figure answers only once the
    inline backend is active, and pyplot figures would also be shown a second
    time at the end of the cell.
    """

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue()


def _figure(
    nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], **kw: Any
) -> tuple[Figure, np.ndarray]:
    fig = PlotFigure(figsize=figsize, dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def panels(
    nrows: int = 1, ncols: int = 2, *, figsize: tuple[float, float] = (9, 3.8)
) -> tuple[Figure, np.ndarray]:
    """An empty figure with a grid of axes (always 2-D), for side-by-side panels.

    Pass the axes to the functions that take `ax`, e.g.
    `fig, axes = panels(1, 2); confusion_heatmap(cm_a, ax=axes[0, 0]); ...; fig`.
    """
    return _figure(nrows, ncols, figsize=figsize)


def _panel(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.get_figure(), ax
    fig, axes = _figure(figsize=figsize)
    return fig, axes[0, 0]


def _images(x: Any, name: str = "images") -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 2 and x.shape[0] == x.shape[1]:
        x = x[None]  # one square image; a flat batch such as (N, 784) is refused below
    if x.ndim != 3:
        raise ValueError(f"{name}: expected images of shape (N, 28, 28), got shape {x.shape}")
    if len(x) == 0:
        raise ValueError(f"{name}: expected at least one image, got none")
    return x


def _show(ax: Axes, image: np.ndarray) -> None:
    # uint8 images are 0..255, scaled ones 0..1: fix the range so faint digits stay faint.
    vmax = 255 if np.issubdtype(image.dtype, np.integer) else 1.0
    ax.imshow(image, cmap=IMAGE_CMAP, vmin=0, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def _percent(p: float) -> str:
    """A probability as a short percentage that never rounds 99.97% up to "100%"."""
    if p < 0.99:
        return f"{p:.0%}"
    return f"{math.floor(p * 10_000) / 100:.2f}%"


def _vector(v: Any, n: int, name: str) -> np.ndarray:
    v = np.asarray(v)
    if v.shape != (n,):
        raise ValueError(f"{name}: expected {n} values, one per image, got shape {v.shape}")
    return v


# ---------------------------------------------------------------- images


def sample_grid(
    images: Any,
    labels: Any = None,
    *,
    predictions: Any = None,
    confidences: Any = None,
    ncols: int = 10,
    title: str | None = None,
    size: float = 0.9,
) -> Figure:
    """A grid of digits titled with their label; with `predictions`, "true→predicted".

    Wrong predictions are titled in red. `confidences` (0..1) adds the model's
    certainty under each title.
    """
    x = _images(images)
    n = len(x)
    labels = None if labels is None else _vector(labels, n, "labels")
    preds = None if predictions is None else _vector(predictions, n, "predictions")
    conf = None if confidences is None else _vector(confidences, n, "confidences")
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    text_rows = (labels is not None or preds is not None) + (conf is not None)
    fig, axes = _figure(
        nrows, ncols, figsize=(size * ncols, (size + 0.2 * text_rows) * nrows + 0.3 * bool(title))
    )
    for i, ax in enumerate(axes.flat):
        if i >= n:
            fig.delaxes(ax)
            continue
        _show(ax, x[i])
        parts, color = [], "black"
        if preds is not None:
            truth = "?" if labels is None else str(labels[i])
            parts.append(f"{truth}→{preds[i]}")
            if labels is not None and labels[i] != preds[i]:
                color = WRONG
        elif labels is not None:
            parts.append(str(labels[i]))
        if conf is not None:
            parts.append(_percent(conf[i]))
        if parts:
            ax.set_title("\n".join(parts), fontsize=8, color=color, pad=2)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def _class_indices(y: np.ndarray, n_classes: int = 10) -> list[np.ndarray]:
    return [np.flatnonzero(y == d) for d in range(n_classes)]


def samples_per_class(x: Any, y: Any, n: int = 10, seed: int = 0) -> Figure:
    """`n` random examples of each digit, one row per digit."""
    x = _images(x, "x")
    y = _vector(y, len(x), "y")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    fig, axes = _figure(10, n, figsize=(0.7 * n, 7.2))
    for d, idx in enumerate(_class_indices(y)):
        picked = rng.choice(idx, size=min(n, len(idx)), replace=False) if len(idx) else idx
        for j, ax in enumerate(axes[d]):
            if j < len(picked):
                _show(ax, x[picked[j]])
            else:
                ax.set_axis_off()
        axes[d, 0].set_ylabel(str(d), rotation=0, fontsize=10, labelpad=10, va="center")
    return fig


def class_means(x: Any, y: Any) -> Figure:
    """The average image of each digit: where its ink usually is."""
    x = _images(x, "x")
    y = _vector(y, len(x), "y")
    fig, axes = _figure(1, 10, figsize=(9, 1.4))
    for d, (ax, idx) in enumerate(zip(axes[0], _class_indices(y), strict=True)):
        mean = x[idx].astype(np.float64).mean(axis=0) if len(idx) else np.zeros(x.shape[1:])
        ax.imshow(mean, cmap=IMAGE_CMAP, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{d}  (n={len(idx):,})", fontsize=7)
    return fig


def pixel_histogram(x: Any, bins: int = 50, *, log: bool = True, ax: Axes | None = None) -> Figure:
    """Histogram of all pixel values; most MNIST pixels are exactly 0 (background)."""
    values = np.asarray(x).ravel()
    if values.size == 0:
        raise ValueError("x: expected at least one pixel, got none")
    top = 255 if np.issubdtype(values.dtype, np.integer) else 1.0
    counts, edges = np.histogram(values, bins=bins, range=(0, top))
    fig, ax = _panel(ax, (5, 2.6))
    ax.stairs(counts, edges, fill=True, alpha=0.8)
    if log:
        ax.set_yscale("log")
    zero_share = float(np.mean(values == 0))
    ax.set_title(f"Pixel values ({zero_share:.0%} are exactly 0)", fontsize=10)
    ax.set_xlabel("pixel value")
    ax.set_ylabel("pixels" + (" (log scale)" if log else ""))
    return fig


def augmentation_grid(
    originals: Any,
    augmented_list: Sequence[Any] | Mapping[str, Any],
    *,
    size: float = 0.9,
) -> Figure:
    """One row per original image, then a column for each augmented version of it.

    `augmented_list` is a sequence of arrays (columns titled "#1", "#2", …) or a
    mapping {column title: array}; each array has the originals' shape.
    """
    x = _images(originals, "originals")
    if isinstance(augmented_list, Mapping):
        names, arrays = list(augmented_list), list(augmented_list.values())
    else:
        arrays = list(augmented_list)
        names = [f"#{i}" for i in range(1, len(arrays) + 1)]
    if not arrays:
        raise ValueError("augmented_list: expected at least one array of augmented images")
    arrays = [
        _images(a, f"augmented_list[{name!r}]") for name, a in zip(names, arrays, strict=True)
    ]
    for name, a in zip(names, arrays, strict=True):
        if a.shape != x.shape:
            raise ValueError(
                f"augmented_list[{name!r}]: expected shape {x.shape} like the originals, "
                f"got {a.shape}"
            )
    columns = [x, *arrays]
    titles = ["original", *names]
    fig, axes = _figure(len(x), len(columns), figsize=(size * len(columns), size * len(x) + 0.3))
    for row in range(len(x)):
        for col, images in enumerate(columns):
            _show(axes[row, col], images[row])
    for ax, name in zip(axes[0], titles, strict=True):
        ax.set_title(name, fontsize=8)
    return fig


def probability_bars(
    probs: Any,
    images: Any = None,
    labels: Any = None,
    *,
    ncols: int = 5,
) -> Figure:
    """A bar chart of the ten class probabilities for each digit, optionally under its image.

    The predicted class is the dark bar; with `labels`, a wrong prediction is red
    and the true class is outlined, and its tick label written, in green.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim == 1:
        p = p[None]
    if p.ndim != 2 or p.shape[0] == 0:
        raise ValueError(f"probs: expected shape (N, n_classes), got shape {p.shape}")
    n, k = p.shape
    x = None if images is None else _images(images)
    if x is not None and len(x) != n:
        raise ValueError(f"images: expected {n} images, one per row of probs, got {len(x)}")
    y = None if labels is None else _vector(labels, n, "labels")
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    per = 2 if x is not None else 1
    height = (1.6 + 1.2 * (per - 1)) * nrows
    fig = PlotFigure(figsize=(1.9 * ncols, height), dpi=DPI, layout="constrained")
    ratios = [1, 1.3] * nrows if per == 2 else None
    grid = fig.add_gridspec(nrows * per, ncols, height_ratios=ratios)
    for i in range(n):
        r, c = divmod(i, ncols)
        if x is not None:
            _show(fig.add_subplot(grid[r * per, c]), x[i])
        ax = fig.add_subplot(grid[r * per + per - 1, c])
        pred = int(p[i].argmax())
        wrong = y is not None and int(y[i]) != pred
        colors = ["lightgray"] * k
        colors[pred] = WRONG if wrong else "tab:blue"
        bars = ax.bar(range(k), p[i], color=colors)
        ax.set_ylim(0, 1)
        ax.set_xticks(range(k))
        ax.tick_params(labelsize=7)
        if y is not None:
            # The true class's bar is often too short to see, so mark its tick label too.
            bars[int(y[i])].set_edgecolor(RIGHT)
            bars[int(y[i])].set_linewidth(2)
            ax.get_xticklabels()[int(y[i])].set(color=RIGHT, fontweight="bold")
        title = f"pred {pred} ({_percent(p[i, pred])})"
        if y is not None:
            title += f", true {int(y[i])}"
        ax.set_title(title, fontsize=8, color=WRONG if wrong else "black")
    return fig


# ---------------------------------------------------------------- training


_ACCURACY_KEYS = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy")


def training_curves(
    history: Mapping[str, Sequence[float]] | Any, title: str | None = None
) -> Figure:
    """Loss and accuracy per epoch, training vs validation, from a Keras history dict.

    Also accepts the `History` object `model.fit` returns. A dashed line marks the
    epoch with the best validation accuracy (the one early stopping keeps).
    """
    h = getattr(history, "history", history)
    if not isinstance(h, Mapping) or "loss" not in h:
        got = f"keys {sorted(h)}" if isinstance(h, Mapping) else type(h).__name__
        raise ValueError(
            f"history: expected a Keras history dict with at least a 'loss' list, got {got}"
        )
    acc_key = next((k for k in _ACCURACY_KEYS if k in h), None)
    panels = [("loss", "loss")] + ([(acc_key, "accuracy")] if acc_key else [])
    fig, axes = _figure(1, len(panels), figsize=(4.2 * len(panels), 3))
    best = None
    if acc_key and f"val_{acc_key}" in h and len(h[f"val_{acc_key}"]):
        best = int(np.argmax(h[f"val_{acc_key}"])) + 1
    for ax, (key, label) in zip(axes[0], panels, strict=True):
        for split, prefix, style in (("train", "", "-"), ("validation", "val_", "--")):
            values = h.get(prefix + key)
            if values is not None and len(values):
                ax.plot(np.arange(1, len(values) + 1), values, style, label=split)
        if best is not None:
            ax.axvline(best, color="gray", linestyle=":", linewidth=1, label=f"best epoch {best}")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.set_title(label, fontsize=10)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def comparison_bar(
    df: pd.DataFrame | pd.Series,
    *,
    title: str | None = None,
    ylabel: str = "accuracy",
    ylim: tuple[float, float] | None = None,
    fmt: str = "{:.2%}",
    ax: Axes | None = None,
) -> Figure:
    """Bars per row of `df` (e.g. one per model), one colour per column, values written on top.

    Pass `ylim` to zoom in when values are close (say 98% vs 99%); the written
    values keep the chart honest either way.
    """
    frame = df.to_frame() if isinstance(df, pd.Series) else df
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise ValueError("df: expected a non-empty DataFrame or Series of numbers")
    numeric = frame.select_dtypes("number")
    if numeric.shape[1] == 0:
        raise ValueError(f"df: expected numeric columns, got dtypes {dict(frame.dtypes)}")
    rows, cols = numeric.shape
    fig, ax = _panel(ax, (max(4.0, 0.9 * rows * max(1, cols) + 1.5), 3))
    width = 0.8 / cols
    centres = np.arange(rows)
    for j, column in enumerate(numeric.columns):
        values = numeric[column].to_numpy(dtype=np.float64)
        bars = ax.bar(centres + (j - (cols - 1) / 2) * width, values, width, label=str(column))
        ax.bar_label(bars, labels=[fmt.format(v) for v in values], fontsize=7, padding=2)
    ax.set_xticks(centres, [str(i) for i in numeric.index], rotation=0 if rows < 6 else 30)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    else:
        ax.margins(y=0.15)  # room for the value labels
    if cols > 1:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


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
        annot_kws={"fontsize": 7},
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
) -> Figure:
    """Heatmap of a confusion matrix (rows true, columns predicted), cells annotated.

    With `normalize`, each row is shown as percentages of that true class.
    """
    cm = _square(cm, "cm")
    labels = [str(i) for i in range(len(cm))] if labels is None else list(labels)
    if len(labels) != len(cm):
        raise ValueError(f"labels: expected {len(cm)} names, got {len(labels)}")
    values = evaluate.normalize_rows(cm) if normalize else cm.astype(np.float64)
    fig, ax = _panel(ax, (4.4, 3.8))
    _matrix_heatmap(ax, values, labels, as_percent=normalize,
                    cbar_label="% of true class" if normalize else "count",
                    cmap=cmap, vmin=0, vmax=1 if normalize else None)
    if normalize:
        # The colour bar reads 0..1; label cells as percentages to match the title.
        cbar = ax.collections[0].colorbar
        cbar.set_ticks([0, 0.25, 0.5, 0.75, 1], labels=["0", "25", "50", "75", "100"])
    default = "% of each true class" if normalize else "counts"
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
    ax.legend(fontsize=8)
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
                fontsize=6, color="white" if a > 0.2 else "black")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=7, loc="upper left")
    default = "Reliability diagram" + (f" (ECE {ece:.2%})" if ece is not None else "")
    ax.set_title(title or default, fontsize=10)
    return fig


def rejection_curve(
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
        ax.legend(fontsize=8)
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
        ax.bar_label(bars, labels=[f"{v:.1%}" for v in values], fontsize=7, padding=2)
    ax.set_yticks(centres, [str(i) for i in df.index])
    ax.invert_yaxis()  # first perturbation (usually "clean") on top
    ax.set_xlim(0, 1.12)  # room for the value labels past 100%
    ax.set_xticks(np.linspace(0, 1, 6), [f"{int(100 * t)}%" for t in np.linspace(0, 1, 6)])
    ax.set_xlabel("test accuracy")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title or "Accuracy on perturbed test images", fontsize=10)
    return fig
