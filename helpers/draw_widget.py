"""A canvas to draw digits on in JupyterLab (or VS Code), read live by the models.

    from helpers.draw_widget import DrawWidget
    DrawWidget.for_models(["mlp", "mlp-aug", "cnn-aug"])

The widget is an `anywidget`: its JavaScript (`draw_widget.js`, beside this file) ships with
the package, so nothing is fetched at run time. The browser records the strokes and sends
them, at most a few times a second while drawing and once when the pen lifts; the kernel
reads them (`helpers.drawing.read_drawing`: the photo pipeline, then every model) and sends
back what each model saw and read. Strokes can also be set from Python, which is how the
notebook shows drawings when no browser is attached (nbval, CI, `jupyter nbconvert`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from helpers import drawing
from helpers.inference import Model, load_model

HERE = Path(__file__).parent

#: The widget's "sure" bar: every model must give its answer at least this probability (and
#: all must agree). Chosen on development drawings, not on any test set: see notebook 07.
SURE = 0.95


class DrawWidget(anywidget.AnyWidget):
    """Draw digits; see what each model's input looks like and what it reads."""

    _esm = HERE / "draw_widget.js"
    _css = HERE / "draw_widget.css"

    strokes = traitlets.List(help="[[[x, y], ...], ...] in canvas pixels").tag(sync=True)
    brush = traitlets.Int(drawing.BRUSH, help="pen width in canvas pixels").tag(sync=True)
    width = traitlets.Int(drawing.CANVAS[0]).tag(sync=True)
    height = traitlets.Int(drawing.CANVAS[1]).tag(sync=True)
    reading = traitlets.Dict(help="what the models read (helpers.drawing.Reading.to_dict)").tag(sync=True)
    version = traitlets.Int(0, help="counts the drawings sent; each reading carries the one it read").tag(
        sync=True)
    status = traitlets.Unicode("", help="the last 'keep' outcome, in words").tag(sync=True)

    def __init__(self, models: Mapping[str, Model], *, threshold: float = SURE,
                 keep_dir: str | Path = drawing.KEEP_DIR, **kwargs: Any) -> None:
        self._models = dict(models)
        self._threshold = threshold
        self._keep_dir = Path(keep_dir)
        self._last_read: tuple | None = None
        super().__init__(**kwargs)
        self.on_msg(self._on_message)
        self._read()

    @classmethod
    def for_models(cls, names: Sequence[str], **kwargs: Any) -> DrawWidget:
        """A widget reading with the named cached models (LiteRT: a reading takes milliseconds)."""
        return cls({n: load_model(n, runtime="litert") for n in names}, **kwargs)

    def __repr__(self) -> str:  # the default shows a memory address, which differs on every run
        return f"DrawWidget({', '.join(self._models)}): draw on it in JupyterLab or VS Code"

    @property
    def models(self) -> dict[str, Model]:
        """The models the widget reads with, by name."""
        return dict(self._models)

    # The browser numbers every drawing it sends, and waits for the reading with that number.
    # When the pen lifts where a throttled send already took it, the strokes come again unchanged
    # with a new number: only `version` changes, and that drawing needs its reading too.
    @traitlets.observe("strokes", "brush", "width", "height", "version")
    def _changed(self, _change: dict) -> None:
        self._read()

    def _read(self) -> None:
        # One message from the browser changes several traits and notifies once per trait;
        # they all see the final state, so read it once.
        key = (self.version, json.dumps(self.strokes), self.brush, self.width, self.height)
        if key == self._last_read:
            return
        self._last_read = key
        try:
            result = drawing.read_drawing(self.strokes, self._models, size=(self.width, self.height),
                                          brush=self.brush, threshold=self._threshold)
            self.reading = {**result.to_dict(), "version": self.version}
        except (ValueError, TypeError) as exc:  # malformed strokes sent from Python
            self.reading = {"state": "error", "message": f"strokes not readable: {exc}", "models": [],
                            "version": self.version}

    def draw(self, strokes: Sequence[drawing.Stroke]) -> dict[str, Any]:
        """Replace the drawing with `strokes` (as a browser would) and return the reading."""
        self.strokes = [[[float(x), float(y)] for x, y in s] for s in strokes]
        return self.reading

    def image(self):
        """The drawing as the models' pipeline gets it (uint8, dark ink on white)."""
        return drawing.render(self.strokes, (self.width, self.height), self.brush)

    def keep(self, label: str) -> Path | None:
        """Save the drawing as a labelled PNG in `data/external/` (see `drawing.keep`)."""
        try:
            path = drawing.keep(self.strokes, label, size=(self.width, self.height), brush=self.brush,
                                folder=self._keep_dir)
        except (ValueError, OSError) as exc:
            self.status = f"Not saved: {exc}"
            return None
        root = drawing.data.REPO_ROOT
        shown = path.relative_to(root) if path.is_relative_to(root) else path
        self.status = f"Saved {shown}"
        return path

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("event") == "keep":
            self.keep(str(content.get("label", "")))
