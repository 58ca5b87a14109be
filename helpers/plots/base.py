"""The figure class, resolution, colours and layout helpers every plots module shares."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

DPI = 100
RIGHT, WRONG = "tab:green", "tab:red"


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


class PhotoFigure(PlotFigure):
    """A PlotFigure of photographs, rendered as JPEG: a photo's grain costs PNG ten times the bytes
    (notebook 05 shows dozens of photos, and a notebook must stay small enough to read and diff)."""

    def _repr_png_(self) -> None:  # IPython then keeps only the JPEG
        return None

    def _repr_jpeg_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="jpeg", bbox_inches="tight", pil_kwargs={"quality": 88})
        return buf.getvalue()


def _styler_text(styler: Any, printer: Any, cycle: bool) -> None:
    """The table's formatted cells in aligned columns: labels to the left, values to the right."""
    rows = [line.split("\x1f") for line in styler.to_string(delimiter="\x1f").splitlines()]
    widths = [max(len(r[k]) for r in rows if k < len(r)) for k in range(max(map(len, rows)))]
    printer.text("\n".join(
        "  ".join(cell.ljust(widths[0]) if k == 0 else cell.rjust(widths[k]) for k, cell in enumerate(r))
        for r in rows))


def show_tables_as_text() -> None:
    """Give pandas' styled tables a plain-text form in IPython (their numbers, formatted).

    A `Styler` has only HTML; its plain form is "<Styler at 0x…>", which is what a
    terminal, a diff of the notebook or a text-only reader then sees.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["text/plain"].for_type_by_name(
            "pandas.io.formats.style", "Styler", _styler_text)


def _figure(
    nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], photo: bool = False, **kw: Any
) -> tuple[Figure, np.ndarray]:
    fig = (PhotoFigure if photo else PlotFigure)(figsize=figsize, dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def panels(
    nrows: int = 1, ncols: int = 2, *, figsize: tuple[float, float] = (9, 3.8), photo: bool = False
) -> tuple[Figure, np.ndarray]:
    """An empty figure with a grid of axes (always 2-D), for side-by-side panels.

    Pass the axes to the functions that take `ax`, e.g.
    `fig, axes = panels(1, 2); confusion_heatmap(cm_a, ax=axes[0, 0]); ...; fig`.
    `photo=True` gives a `PhotoFigure` (JPEG in notebooks), for panels of photographs.
    """
    return _figure(nrows, ncols, figsize=figsize, photo=photo)


def _panel(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.get_figure(), ax
    fig, axes = _figure(figsize=figsize)
    return fig, axes[0, 0]


def _vector(v: Any, n: int, name: str) -> np.ndarray:
    v = np.asarray(v)
    if v.shape != (n,):
        raise ValueError(f"{name}: expected {n} values, one per image, got shape {v.shape}")
    return v
