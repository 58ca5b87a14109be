"""Figures for the notebooks and the command line: `from helpers import plots`.

Every function returns a `matplotlib.figure.Figure` made without pyplot: nothing
is shown or kept in a global registry, so the package works the same headless, in
tests and in scripts (`fig.savefig(path)`). In a notebook a figure is displayed
(once) when it is the cell's last expression, or with `display(fig)`; a figure
made in a loop or mid-cell needs `display(fig)`.

Functions that draw a single panel take an optional `ax` to draw into a larger
figure (see `panels`); they then return that axes' figure. Sizes and resolution
are modest (`DPI`) so executed notebooks stay small.

Modules: `base` (figure class, `panels`), `images` (digit images),
`training` (training curves, comparisons), `evaluation` (mistakes and certainty).
"""

from helpers.plots.base import DPI, RIGHT, WRONG, PlotFigure, panels, show_tables_as_text
from helpers.plots.evaluation import (
    confidence_histogram,
    confusion_difference,
    confusion_heatmap,
    embedding_map,
    rejection_chart,
    reliability_diagram,
    robustness_chart,
)
from helpers.plots.images import (
    IMAGE_CMAP,
    augmentation_grid,
    class_means,
    drawing_readings,
    pixel_histogram,
    probability_bars,
    sample_grid,
    samples_per_class,
    signed_images,
)
from helpers.plots.training import comparison_bar, first_steps, history_panels, training_curves

show_tables_as_text()  # importing plots in a notebook is the notebooks' one shared setup

__all__ = [
    "DPI",
    "IMAGE_CMAP",
    "RIGHT",
    "WRONG",
    "show_tables_as_text",
    "PlotFigure",
    "augmentation_grid",
    "class_means",
    "comparison_bar",
    "drawing_readings",
    "confidence_histogram",
    "confusion_difference",
    "confusion_heatmap",
    "embedding_map",
    "first_steps",
    "history_panels",
    "panels",
    "pixel_histogram",
    "probability_bars",
    "rejection_chart",
    "reliability_diagram",
    "robustness_chart",
    "sample_grid",
    "samples_per_class",
    "signed_images",
    "training_curves",
]
