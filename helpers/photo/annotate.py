"""Draw what was read onto the image: each digit's box and label, red when unsure."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from helpers import data
from helpers.photo.pipeline import ImageResult


def annotate(result: ImageResult) -> np.ndarray:
    """A copy of the image with each digit's box and label (red when low confidence)."""
    if result.stages is None:
        raise ValueError("annotate needs the stages kept by read_digits")
    st = result.stages
    img = st.original.copy()
    # The image may have been decoded at reduced size: map full-image boxes onto it.
    f = img.shape[1] / st.size[0]
    thick = max(1, round(max(img.shape[:2]) / 400))
    for d in result.digits:
        x, y, w, h = (round(v * f) for v in d.bbox)
        colour = (0, 0, 255) if d.low_confidence else (0, 170, 0)
        cv2.rectangle(img, (x, y), (x + w, y + h), colour, thick)
        text = f"{d.label} {d.probability:.0%}"
        # Text about as wide as the box (but legible), above it or, at the top edge, below.
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 1.0, thick)
        size = float(np.clip(1.2 * w / tw, 0.35, max(0.35, max(img.shape[:2]) / 500)))
        ty = y - 4 if y - 4 >= th * size else min(img.shape[0] - 2, y + h + int(th * size) + 4)
        cv2.putText(img, text, (x, ty), cv2.FONT_HERSHEY_SIMPLEX, size, colour, thick, cv2.LINE_AA)
    return img


def write_annotated(
    result: ImageResult, out_dir: str | os.PathLike, avoid: set[Path] | None = None
) -> Path:
    """Write `annotate(result)` as `out_dir/<name>.annotated.png` (temp file, then rename).

    Names in `avoid` (written earlier in the same run) get a numbered suffix instead.
    """
    folder = Path(out_dir)
    stem = Path(result.path).stem if result.path else "image"
    target = folder / f"{stem}.annotated.png"
    k = 2
    while avoid and target in avoid:
        target = folder / f"{stem}.{k}.annotated.png"
        k += 1
    ok, buf = cv2.imencode(".png", annotate(result))
    if not ok:
        raise OSError(f"{target}: PNG encoding failed")
    data.atomic_write(target, buf.tobytes())
    return target
