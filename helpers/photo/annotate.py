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


def place_labels(
    boxes: list[tuple[int, int, int, int]], label_sizes: list[tuple[int, int]], height: int
) -> tuple[list[tuple[int, int, int, int]], bool]:
    """A rectangle (x0, y0, x1, y1) for each box (x, y, w, h)'s label of size (w, h), and whether
    every label found a free place.

    The first of: above the box, one label higher, below the box, two or three labels higher,
    that stays in the image and covers no earlier label and no other box (close digits of a
    number would otherwise print their labels over each other); else the first that stays in
    the image.
    """
    rects = [(x, y, x + w, y + h) for x, y, w, h in boxes]
    placed: list[tuple[int, int, int, int]] = []
    all_free = True
    for i, ((x, y, _, h), (tw, th)) in enumerate(zip(boxes, label_sizes, strict=True)):
        up = [(x, y - 4 - k * (th + 4) - th, x + tw, y - 4 - k * (th + 4)) for k in range(4)]
        tries = [up[0], up[1], (x, y + h + 4, x + tw, y + h + 4 + th), up[2], up[3]]
        inside = [r for r in tries if r[1] >= 0 and r[3] <= height] or tries[:1]
        others = placed + rects[:i] + rects[i + 1:]
        free = [r for r in inside if not any(_overlaps(r, o) for o in others)]
        all_free &= bool(free)
        placed.append(free[0] if free else inside[0])
    return placed, all_free


def annotate(result: ImageResult) -> np.ndarray:
    """A copy of the image with each digit's box and label (red when low confidence).

    One text size for the whole image, legible when the picture is shown a few inches wide
    (at least 3% of its longer side, or a third of a typical digit's height), made smaller, to
    no less than a third of that, while labels would otherwise cover each other; labels are
    placed by `place_labels`, on a white outline.
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
    boxes = [tuple(round(v * f) for v in d.bbox) for d in result.digits]
    texts = [f"{d.label} {d.probability:.0%}" for d in result.digits]
    for scale in (1.0, 0.8, 0.64, 0.5, 0.4, 0.33):
        sizes = [cv2.getTextSize(t, _FONT, size * scale, thick) for t in texts]
        rects, all_free = place_labels(boxes, [(tw, th + base) for (tw, th), base in sizes], img.shape[0])
        if all_free:
            break
    for d, (x, y, w, h), text, rect, (_, base) in zip(result.digits, boxes, texts, rects, sizes, strict=True):
        colour = (0, 0, 255) if d.low_confidence else (0, 170, 0)
        cv2.rectangle(img, (x, y), (x + w, y + h), colour, thick)
        origin = (rect[0], rect[3] - base)
        cv2.putText(img, text, origin, _FONT, size * scale, (255, 255, 255), thick * 3, cv2.LINE_AA)
        cv2.putText(img, text, origin, _FONT, size * scale, colour, thick, cv2.LINE_AA)
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
