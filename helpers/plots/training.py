"""Figures of training runs and of results side by side: training curves, comparison bars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from helpers.plots.base import _figure, _panel

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
        ax.legend(fontsize=9)
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
        ax.bar_label(bars, labels=[fmt.format(v) for v in values], fontsize=9, padding=2)
    ax.set_xticks(centres, [str(i) for i in numeric.index], rotation=0 if rows < 6 else 30)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(ylim[0], ylim[1] + 0.08 * (ylim[1] - ylim[0]))  # room for the value labels
    else:
        ax.margins(y=0.15)
    if cols > 1:  # beside the axes: inside, it would hide the value labels of the first bars
        ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def first_steps(
    losses: Sequence[float], learning_rates: Sequence[float], steps_per_epoch: int
) -> Figure:
    """Left: the loss of each training batch over the first steps, and its running mean.
    Right: the learning rate at every step of the whole run, epochs marked, first steps shaded."""
    losses = np.asarray(losses, dtype=np.float64)
    if losses.ndim != 1 or not len(losses) or not len(learning_rates) or steps_per_epoch < 1:
        raise ValueError("losses and learning_rates: expected non-empty lists; steps_per_epoch ≥ 1")
    fig, axes = _figure(1, 2, figsize=(9, 3))
    left, right = axes[0]
    steps = np.arange(1, len(losses) + 1)
    window = max(1, min(20, len(losses) // 5))
    running = np.convolve(losses, np.ones(window) / window, mode="valid")
    left.plot(steps, losses, color="0.7", linewidth=0.8, label="one batch")
    left.plot(steps[window - 1:], running, color="C0", label=f"mean of {window} batches")
    for epoch_end in range(steps_per_epoch, len(losses) + 1, steps_per_epoch):
        label = "end of an epoch" if epoch_end == steps_per_epoch else None
        left.axvline(epoch_end, color="gray", linestyle=":", linewidth=1, label=label)
    left.set(xlabel="step (one batch, one weight update)", ylabel="loss (cross-entropy)", yscale="log")
    left.set_title(f"the first {len(losses)} steps", fontsize=10)
    left.legend(fontsize=9)
    rates = np.asarray(learning_rates, dtype=np.float64)
    epochs = np.arange(len(rates)) / steps_per_epoch
    right.plot(epochs, rates, color="C1")
    right.axvspan(0, len(losses) / steps_per_epoch, color="C0", alpha=0.15, label="the steps on the left")
    right.set(xlabel="epoch (one pass over the training images)", ylabel="learning rate")
    right.set_title("the learning-rate schedule", fontsize=10)
    right.legend(fontsize=9)
    return fig


def history_panels(
    groups: Mapping[str, Mapping[str, Mapping[str, Sequence[float]]]],
    keys: Sequence[str] = ("loss", "val_accuracy"),
) -> Figure:
    """One row of panels per key (e.g. loss, validation accuracy), one column per group of runs.

    Each run of a group is a line over the epochs; losses on a log scale; rows share their
    y axis. `groups` maps a column title to {run label: Keras history dict}.
    """
    if not groups or any(not runs for runs in groups.values()):
        raise ValueError("groups: expected {title: {run label: history}} with at least one run in each group")
    fig, axes = _figure(len(keys), len(groups), figsize=(4.2 * len(groups), 2.6 * len(keys)),
                        sharex=True, sharey="row")  # shared scales: the groups compare at a glance
    for row, key in enumerate(keys):
        for col, (title, runs) in enumerate(groups.items()):
            ax = axes[row][col]
            for i, (label, history) in enumerate(runs.items()):
                if key not in history:
                    raise ValueError(f"run {label!r}: no {key!r} in its history (has {sorted(history)})")
                values = history[key]
                ax.plot(np.arange(1, len(values) + 1), values, marker="o", color=f"C{i}", label=label)
            name = {"loss": "training loss", "accuracy": "training accuracy", "val_loss": "validation loss",
                    "val_accuracy": "validation accuracy"}.get(key, key)
            ax.set_ylabel(name + (" (log scale)" if "loss" in key else ""))
            if "loss" in key:
                ax.set_yscale("log")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if row == 0:
                ax.set_title(title, fontsize=10)
            if row == len(keys) - 1:
                ax.set_xlabel("epoch")
    for ax in axes[0]:
        ax.legend(fontsize=9)
    return fig
