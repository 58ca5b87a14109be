"""Figures of digit images: sample grids, class means, pixel values, augmentations, probabilities."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.plots.base import DPI, RIGHT, WRONG, PlotFigure, _figure, _panel, _vector

#: Dark ink on a light page reads like handwriting; the data itself is light ink on black.
IMAGE_CMAP = "gray_r"


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
            ax.set_title("\n".join(parts), fontsize=9, color=color, pad=2)
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
        ax.set_title(f"{d}  (n={len(idx):,})", fontsize=9)
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
        ax.set_title(name, fontsize=9)
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
        ax.tick_params(labelsize=9)
        if y is not None:
            # The true class's bar is often too short to see, so mark its tick label too.
            bars[int(y[i])].set_edgecolor(RIGHT)
            bars[int(y[i])].set_linewidth(2)
            ax.get_xticklabels()[int(y[i])].set(color=RIGHT, fontweight="bold")
        title = f"pred {pred} ({_percent(p[i, pred])})"
        if y is not None:
            title += f", true {int(y[i])}"
        ax.set_title(title, fontsize=9, color=WRONG if wrong else "black")
    return fig


def signed_images(stack: Any, *, ncols: int = 16, title: str | None = None, size: float = 0.75) -> Figure:
    """Weights or filters with a sign, (N, H, W), on one diverging scale centred on zero.

    Red is positive, blue negative, white zero; the scale is ±(largest magnitude), shared by
    all panels and given by the colour bar, so panels compare and sign is kept.
    """
    w = np.asarray(stack, dtype=np.float64)
    if w.ndim != 3 or not len(w):
        raise ValueError(f"stack: expected a non-empty (N, height, width) array, got shape {w.shape}")
    ncols = max(1, min(ncols, len(w)))
    nrows = math.ceil(len(w) / ncols)
    limit = max(float(np.abs(w).max()), 1e-12)
    fig, axes = _figure(nrows, ncols, figsize=(size * ncols + 0.8, size * nrows + 0.4))
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, image in zip(axes.flat, w, strict=False):
        shown = ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    fig.colorbar(shown, ax=axes.ravel().tolist(), shrink=1.0 if nrows > 1 else 0.9, aspect=8 * nrows)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def drawing_readings(
    drawings: Sequence[np.ndarray],
    titles: Sequence[str],
    readings: Sequence[Sequence[tuple[str, np.ndarray, str]]],
) -> Figure:
    """One row per drawing: the drawing, then each model's 28×28 inputs side by side with what it read.

    `readings[i]` holds, per model, (name, inputs (k, 28, 28), caption). Drawings are uint8
    dark ink on white; the inputs are shown in the same polarity (`IMAGE_CMAP`).
    """
    if not (len(drawings) == len(titles) == len(readings)) or not drawings:
        raise ValueError(f"expected as many drawings, titles and readings, got {len(drawings)}, "
                         f"{len(titles)} and {len(readings)}")
    ncols = 1 + max(len(r) for r in readings)
    aspect = drawings[0].shape[1] / drawings[0].shape[0]
    figsize = (1.7 * aspect + 1.9 * (ncols - 1), 1.75 * len(drawings))
    fig, axes = _figure(len(drawings), ncols, figsize=figsize,
                        gridspec_kw={"width_ratios": [aspect] + [1.1] * (ncols - 1)})
    for row, drawing, title, per_model in zip(axes, drawings, titles, readings, strict=True):
        row[0].imshow(drawing, cmap="gray", vmin=0, vmax=255, interpolation="antialiased")
        row[0].set_title(title, fontsize=10)
        for ax, (name, inputs, caption) in zip(row[1:], per_model, strict=False):
            x = np.asarray(inputs, np.float32).reshape(-1, 28, 28)
            strip = np.concatenate(list(x), axis=1) if len(x) else np.zeros((28, 28), np.float32)
            _show(ax, strip)
            ax.set_title(f"{name}: {caption}", fontsize=9)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
        for ax in row[1 + len(per_model):]:
            ax.set_axis_off()
    return fig
