"""Digits drawn with a mouse, pen or finger: strokes → picture → what each model reads.

A drawing is a list of strokes, each a list of (x, y) points in canvas pixels, as the
drawing widget (`helpers.draw_widget`) records them. `render` paints them as dark ink on
white paper, and `read_drawing` reads that picture with the photo pipeline
(`helpers.photo`), so a drawing reaches the models exactly as a photo would: the ink found,
each digit cut out, brought to MNIST's 28×28 form, then classified by every model given.

`SHAPES` holds a few scripted digits (unit-square polylines) and `place`/`rotate` move them
onto a canvas: the notebook's drawings when no browser is there to draw in, and the tests'.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from helpers import data
from helpers.inference import Model
from helpers.photo import ImageResult, classify, find_digits, make_result
from helpers.photo.pipeline import DEFAULT_THRESHOLD

Point = tuple[float, float]
Stroke = Sequence[Point]

#: The canvas the widget opens with (pixels): room for a number of a few digits.
CANVAS = (448, 224)
#: The brush the widget opens with: a pen line about an eighth of a digit's height.
BRUSH = 14
#: Where the "keep this drawing" button saves (ignored by git; notebook 05 and `predict` read it);
#: $MNIST_KEEP_DIR, when set, moves it (the browser test keeps its drawings out of the way).
KEEP_DIR = Path(os.environ.get("MNIST_KEEP_DIR") or data.REPO_ROOT / "data" / "external")

#: Scripted digits as polylines in a unit square (x right, y down), drawn as a hand would.
SHAPES: dict[str, list[list[Point]]] = {
    "0": [[(0.5 + 0.3 * math.sin(t), 0.5 - 0.42 * math.cos(t)) for t in np.linspace(0, 2 * math.pi, 25)]],
    "1": [[(0.42, 0.2), (0.55, 0.08), (0.55, 0.92)]],
    "1 with a base": [[(0.38, 0.22), (0.55, 0.08), (0.55, 0.9)], [(0.33, 0.92), (0.77, 0.92)]],
    "2": [[(0.25, 0.3), (0.35, 0.13), (0.55, 0.08), (0.72, 0.17), (0.75, 0.35), (0.62, 0.55),
           (0.25, 0.9), (0.8, 0.9)]],
    "3": [[(0.25, 0.15), (0.5, 0.08), (0.72, 0.18), (0.7, 0.36), (0.45, 0.47), (0.72, 0.58),
           (0.76, 0.78), (0.55, 0.92), (0.25, 0.86)]],
    "4": [[(0.6, 0.92), (0.6, 0.08), (0.2, 0.65), (0.82, 0.65)]],
    "5": [[(0.75, 0.1), (0.32, 0.1), (0.28, 0.45), (0.55, 0.42), (0.74, 0.55), (0.74, 0.78),
           (0.55, 0.92), (0.27, 0.86)]],
    "6": [[(0.7, 0.1), (0.45, 0.25), (0.3, 0.55), (0.32, 0.8), (0.5, 0.92), (0.7, 0.82), (0.72, 0.62),
           (0.55, 0.5), (0.35, 0.58)]],
    "7": [[(0.2, 0.12), (0.8, 0.12), (0.42, 0.92)]],
    "7 with a crossbar": [[(0.2, 0.12), (0.8, 0.12), (0.42, 0.92)], [(0.38, 0.52), (0.78, 0.52)]],
    "8": [[(0.5 + 0.2 * math.sin(t), 0.29 - 0.21 * math.cos(t)) for t in np.linspace(0, 2 * math.pi, 19)],
          [(0.5 + 0.25 * math.sin(t), 0.71 + 0.21 * math.cos(t)) for t in np.linspace(0, 2 * math.pi, 19)]],
    "9": [[(0.7, 0.3), (0.5, 0.45), (0.3, 0.32), (0.4, 0.1), (0.65, 0.1), (0.7, 0.3), (0.62, 0.92)]],
}


def place(shape: str | Sequence[Stroke], x: float, y: float, size: float) -> list[list[Point]]:
    """A scripted shape (a `SHAPES` name or unit-square strokes) scaled to `size` pixels at (x, y)."""
    strokes = SHAPES[shape] if isinstance(shape, str) else shape
    return [[(x + px * size, y + py * size) for px, py in s] for s in strokes]


def write(number: str, x: float = 40, y: float = 40, size: float = 140,
          step: float = 120) -> list[list[Point]]:
    """A number in scripted digits, left to right: each `size` pixels tall, `step` pixels apart."""
    return [s for k, digit in enumerate(number) for s in place(digit, x + k * step, y, size)]


def rotate(strokes: Sequence[Stroke], degrees: float) -> list[list[Point]]:
    """The strokes turned clockwise by `degrees` about the centre of their points."""
    pts = np.array([p for s in strokes for p in s], np.float64)
    cx, cy = pts.mean(axis=0) if len(pts) else (0.0, 0.0)
    a = math.radians(degrees)
    c, s_ = math.cos(a), math.sin(a)
    return [[(cx + (px - cx) * c - (py - cy) * s_, cy + (px - cx) * s_ + (py - cy) * c) for px, py in s]
            for s in strokes]


def render(strokes: Sequence[Stroke], size: tuple[int, int] = CANVAS, brush: float = BRUSH) -> np.ndarray:
    """The drawing as a grayscale uint8 picture: dark ink (0) on white paper (255), round pen tips."""
    w, h = size
    img = np.full((h, w), 255, np.uint8)
    r = max(1, round(brush / 2))
    for s in strokes:
        pts = np.round(np.asarray(s, np.float64).reshape(-1, 2) * 4).astype(np.int32)  # 2 bits of sub-pixel
        if len(pts) == 0:
            continue
        if len(pts) > 1:
            cv2.polylines(img, [pts], False, 0, thickness=2 * r, lineType=cv2.LINE_AA, shift=2)
        for p in pts[[0, -1]]:  # round ends, and a dot for a single tap
            cv2.circle(img, tuple(int(v) for v in p), r * 4, 0, -1, lineType=cv2.LINE_AA, shift=2)
    return img


@dataclass
class ModelReading:
    """What one model reads in a drawing."""

    name: str
    result: ImageResult

    @property
    def state(self) -> str:
        """'read', or 'unsure' when a digit's top probability is below the threshold."""
        return "unsure" if any(d.low_confidence for d in self.result.digits) else "read"

    def to_dict(self) -> dict[str, Any]:
        """JSON for the widget: the text, and per digit its 28×28 input (0–255) and ten probabilities."""
        digits = [{"label": d.label, "probability": round(d.probability, 4),
                   "low_confidence": d.low_confidence,
                   "probs": [round(float(p), 4) for p in d.probs],
                   "input": np.round(d.input * 255).astype(int).ravel().tolist()}
                  for d in self.result.digits]
        return {"name": self.name, "text": self.result.text, "state": self.state, "digits": digits}


@dataclass
class Reading:
    """What the models read in one drawing, and the verdict shown to the learner.

    `state` is 'empty' (nothing drawn), 'not a digit' (ink, but the pipeline found no digit in
    it), 'unsure' (a model is unsure, or the models disagree) or 'read' (all agree, all sure).
    """

    state: str
    message: str
    models: list[ModelReading] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def text(self) -> str:
        """What the models agree on ('' when they do not, or read nothing)."""
        texts = {m.result.text for m in self.models}
        return texts.pop() if len(texts) == 1 else ""

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "message": self.message, "text": self.text,
                "ms": round(1000 * self.seconds), "models": [m.to_dict() for m in self.models]}


def _dropped(components: Sequence[Any]) -> str:
    """What the pipeline set aside, in words ('2 specks, 1 filled blob')."""
    words = {"speck": "speck", "line": "long line", "edge": "mark at the edge", "faint": "faint mark",
             "blob": "filled blob"}
    counts = Counter(c.dropped for c in components if c.dropped)
    return ", ".join(f"{n} {words.get(k, k)}{'s' if n > 1 else ''}" for k, n in counts.items())


def read_drawing(
    strokes: Sequence[Stroke],
    models: Mapping[str, Model],
    *,
    size: tuple[int, int] = CANVAS,
    brush: float = BRUSH,
    threshold: float = DEFAULT_THRESHOLD,
) -> Reading:
    """Read a drawing with every model: the picture goes through the photo pipeline once."""
    if not any(len(s) for s in strokes):
        return Reading("empty", "Nothing drawn yet: draw a digit, or several in a row.")
    return read_picture(render(strokes, size, brush), models, threshold=threshold)


def read_picture(picture: np.ndarray, models: Mapping[str, Model], *,
                 threshold: float = DEFAULT_THRESHOLD) -> Reading:
    """`read_drawing` for a picture already painted (uint8, dark ink on white)."""
    start = time.perf_counter()
    stages = find_digits(picture)
    if not stages.boxes:
        why = _dropped(stages.components)
        return Reading("not a digit", f"Not a digit: the pipeline set aside {why or 'what was drawn'}.",
                       seconds=time.perf_counter() - start)
    readings = [ModelReading(name, make_result(None, *classify(stages, m), threshold))
                for name, m in models.items()]
    state, message = verdict(readings, threshold)
    return Reading(state, message, readings, time.perf_counter() - start)


def verdict(readings: Sequence[ModelReading], threshold: float) -> tuple[str, str]:
    """('read' or 'unsure', why): 'read' when all models read the same, each at least `threshold` sure."""
    texts = {r.result.text for r in readings}
    if len(texts) > 1:
        return "unsure", "Unsure: the models disagree."
    if any(d.probability < threshold for r in readings for d in r.result.digits):
        return "unsure", f"Unsure: a model's top probability is below {threshold:.0%}."
    return "read", f"All {len(readings)} models read {texts.pop()}."


def scribble(rng: np.random.Generator, size: tuple[int, int] = CANVAS) -> list[list[Point]]:
    """A random pen scribble (one stroke, a random walk of 8–40 steps): development non-digits."""
    n = int(rng.integers(8, 41))
    pts = np.cumsum(rng.normal(0, rng.uniform(10, 40), (n, 2)), axis=0)
    w, h = size
    pts = pts - pts.mean(axis=0) + [rng.uniform(0.27, 0.73) * w, rng.uniform(0.3, 0.7) * h]
    pts = np.clip(pts, 8, [w - 8, h - 8])
    return [[(float(x), float(y)) for x, y in pts]]


def mnist_on_canvas(digit: np.ndarray, size: tuple[int, int] = CANVAS, height: int = 160) -> np.ndarray:
    """An MNIST digit (28×28, light ink 0–1) as a drawing: `height` pixels tall, dark on white, centred."""
    big = cv2.resize(np.asarray(digit, np.float32), (height, height), interpolation=cv2.INTER_LINEAR)
    w, h = size
    canvas = np.full((h, w), 255, np.uint8)
    y0, x0 = (h - height) // 2, (w - height) // 2
    canvas[y0 : y0 + height, x0 : x0 + height] = np.round(255 * (1 - np.clip(big, 0, 1))).astype(np.uint8)
    return canvas


LABEL = re.compile(r"\d{1,12}")


def keep(strokes: Sequence[Stroke], label: str, *, size: tuple[int, int] = CANVAS, brush: float = BRUSH,
         folder: str | Path = KEEP_DIR) -> Path:
    """Save the drawing as `drawn-LABEL-TIME.png` in `folder` (written whole or not at all).

    `label` is what was meant: the digits written, one or several ('7', '407').
    """
    label = str(label).strip()
    if not LABEL.fullmatch(label):
        raise ValueError(f"label {label!r}: expected the digits drawn, such as 7 or 407")
    if not any(len(s) for s in strokes):
        raise ValueError("nothing drawn: there is no drawing to keep")
    ok, png = cv2.imencode(".png", render(strokes, size, brush))
    if not ok:
        raise ValueError("the drawing could not be encoded as PNG")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    path = Path(folder) / f"drawn-{label}-{stamp}.png"
    data.atomic_write(path, png.tobytes())
    return path


def drawn_label(path: str | Path) -> str | None:
    """The label in a kept drawing's file name (`drawn-407-….png` → '407'), else None."""
    m = re.fullmatch(r"drawn-(\d{1,12})-.*", Path(path).stem)
    return m.group(1) if m else None
