"""Draw what was read onto the image: each digit's box and label, red when unsure."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from helpers import data
from helpers.photo.pipeline import ImageResult

_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def annotate(result: ImageResult) -> np.ndarray:
    """A copy of the image with each digit's box and label (red when low confidence).

    One text size for the whole image, legible when the picture is shown a few inches wide
    (at least 3% of its longer side, or a third of a typical digit's height); each label sits
    above its box, or below it when that would cover an earlier label, on a white outline.
    """
    if result.stages is None:
        raise ValueError("annotate needs the stages kept by read_digits")
    st = result.stages
    img = st.original.copy()
    # The image may have been decoded at reduced size: map full-image boxes onto it.
    f = img.shape[1] / st.size[0]
    longer = max(img.shape[:2])
    thick = max(1, round(longer / 400))
    heights = [d.bbox[3] * f for d in result.digits]
    (_, unit), _ = cv2.getTextSize("0", _FONT, 1.0, thick)  # text height at scale 1
    size = max(0.4, 0.03 * longer / unit, (0.33 * float(np.median(heights)) / unit) if heights else 0.0)
    placed: list[tuple[int, int, int, int]] = []
    for d in result.digits:
        x, y, w, h = (round(v * f) for v in d.bbox)
        colour = (0, 0, 255) if d.low_confidence else (0, 170, 0)
        cv2.rectangle(img, (x, y), (x + w, y + h), colour, thick)
        text = f"{d.label} {d.probability:.0%}"
        (tw, th), base = cv2.getTextSize(text, _FONT, size, thick)
        # Above the box, or below it when above would leave the image or cover an earlier
        # label (a label far from its box would be worse than two labels touching).
        above = (x, y - 4 - th, x + tw, y - 4 + base)
        below = (x, y + h + 4, x + tw, y + h + 4 + th + base)
        rect = above if above[1] >= 0 and not any(_overlaps(above, p) for p in placed) else below
        placed.append(rect)
        origin = (x, min(img.shape[0] - 2 - base, rect[1] + th))
        cv2.putText(img, text, origin, _FONT, size, (255, 255, 255), thick * 3, cv2.LINE_AA)
        cv2.putText(img, text, origin, _FONT, size, colour, thick, cv2.LINE_AA)
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
