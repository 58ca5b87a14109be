"""Two last checks on each digit candidate: is it a shadow, or the page's edge at the picture's border?

After grouping (`helpers.photo.segment`), a photo of a blank page can still hold candidates
that are not pen strokes, and an MNIST model reads them as digits, often at 100 %:

- **a soft shadow** (a hand's, an arm's): its edge is a penumbra, the ink map rises over
  many pixels, while a pen stroke's edge rises within a pixel or two of the picture as it
  came. `edge_sharpness` measures this rise at the candidate's rim.
- **a sliver along the picture's border**: the page's edge, the desk beyond it or a shadow's
  rim, long and thin against its length. A digit that touches the border (a tight crop) is
  either far thicker for its size or fills the picture.

The thresholds were chosen on the synthetic development photos (seeds 0, 2 and 3 of
`helpers.photo.synthetic`; never seed 1, the held-back set): digit candidates of photos
read exactly against every candidate on the digit-free photos. See `benchmarks/photo_dev.py`.
"""

from __future__ import annotations

import cv2
import numpy as np

from helpers.photo.ink import stroke_width
from helpers.photo.segment import Box, Component

#: Below this rise of the ink map per pixel of the original picture (as a share of the
#: candidate's mean ink) the candidate's edge is a shadow's penumbra. Development photos:
#: shadows 0.02-0.06, the least sharp digit 0.17.
MIN_SHARPNESS = 0.1
#: A candidate within this share of the picture's longer side from its border touches it.
BORDER = 0.004
#: A border candidate whose strokes are thinner than this share of its size is a sliver.
SLIVER_STROKE = 0.05


def edge_sharpness(ink: np.ndarray, own: np.ndarray, box: Box, upscale: float = 1.0) -> float:
    """Mean slope of the ink map on the rim of `own` (the candidate's mask inside `box`).

    In units of the candidate's mean ink per pixel of the original picture: `upscale` is how
    many working pixels one original pixel became (1 for a picture that was not enlarged).
    """
    x, y, w, h = box
    H, W = ink.shape
    x0, y0, x1, y1 = max(0, x - 1), max(0, y - 1), min(W, x + w + 1), min(H, y + h + 1)
    patch = ink[y0:y1, x0:x1]
    mask = np.zeros(patch.shape, np.uint8)
    mask[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = own
    rim = (mask > 0) & (cv2.erode(mask, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE) == 0)
    level = float(patch[mask > 0].mean()) if mask.any() else 0.0
    if not rim.any() or level <= 0:
        return float("inf")
    # A 3x3 Sobel sums eight times the one-pixel difference.
    gx, gy = cv2.Sobel(patch, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(patch, cv2.CV_32F, 0, 1, ksize=3)
    slope = np.hypot(gx, gy) / 8
    return float(slope[rim].mean()) / level * max(1.0, upscale)


def border_sliver(own: np.ndarray, box: Box, shape: tuple[int, int]) -> bool:
    """Whether a candidate is a long thin mark at the picture's border (and does not fill it)."""
    x, y, w, h = box
    H, W = shape
    if min(x, y, W - x - w, H - y - h) > BORDER * max(W, H):
        return False
    if w >= 0.9 * W and h >= 0.9 * H:
        return False  # the digit of a tight crop
    return stroke_width(own) < SLIVER_STROKE * max(w, h)


def drop_shadows_and_slivers(
    comps: list[Component], boxes: list[Box], members: list[list[int]],
    labels: np.ndarray, ink: np.ndarray, upscale: float,
) -> tuple[list[Box], list[list[int]]]:
    """Mark the components of shadow and sliver candidates ("shadow", "sliver"); the other candidates."""
    keep_b: list[Box] = []
    keep_m: list[list[int]] = []
    for box, m in zip(boxes, members, strict=True):
        x, y, w, h = box
        own = np.isin(labels[y : y + h, x : x + w], [i + 1 for i in m])
        reason = ""
        if border_sliver(own, box, labels.shape):
            reason = "sliver"
        elif edge_sharpness(ink, own, box, upscale) < MIN_SHARPNESS:
            reason = "shadow"
        if reason:
            for i in m:
                comps[i].dropped = reason
        else:
            keep_b.append(box)
            keep_m.append(m)
    return keep_b, keep_m
