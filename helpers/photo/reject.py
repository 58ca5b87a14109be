"""One last check on each digit candidate: is it a shadow?

After grouping (`helpers.photo.segment`), a photo of a blank page can still hold a
candidate that is no pen stroke but the rim of a soft shadow (a hand's, an arm's), and an
MNIST model reads it as a digit, often at 100 %. A shadow's edge is a penumbra: the ink map
rises over many pixels, while at a pen stroke's edge it rises within a pixel or two of the
picture as it came. `edge_sharpness` measures that rise on the candidate's rim.

The threshold was chosen on the synthetic development photos (seeds 0, 2 and 3 of
`helpers.photo.synthetic`; never seed 1, the held-back set): the candidates of number photos
read exactly against every candidate on the digit-free photos. See `benchmarks/photo_dev.py`.
"""

from __future__ import annotations

import cv2
import numpy as np

from helpers.photo.segment import Box, Component

#: Below this rise of the ink map per pixel of the original picture (as a share of the
#: candidate's mean ink) the candidate's edge is a shadow's penumbra. Development photos:
#: shadows 0.02-0.06, the least sharp digit 0.17.
MIN_SHARPNESS = 0.1


def edge_sharpness(ink: np.ndarray, own: np.ndarray, box: Box, upscale: float = 1.0) -> float:
    """Mean slope of the ink map on the rim of `own` (the candidate's mask inside `box`).

    In units of the candidate's mean ink per pixel of the original picture: `upscale` is how
    many working pixels one original pixel became (1 or less for a picture that was not enlarged).
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


def drop_shadows(
    comps: list[Component], boxes: list[Box], members: list[list[int]],
    labels: np.ndarray, ink: np.ndarray, upscale: float,
) -> tuple[list[Box], list[list[int]]]:
    """Mark the components of every candidate with a shadow's soft edge ("shadow"); the others."""
    keep_b: list[Box] = []
    keep_m: list[list[int]] = []
    for box, m in zip(boxes, members, strict=True):
        x, y, w, h = box
        own = np.isin(labels[y : y + h, x : x + w], [i + 1 for i in m])
        if edge_sharpness(ink, own, box, upscale) < MIN_SHARPNESS:
            for i in m:
                comps[i].dropped = "shadow"
        else:
            keep_b.append(box)
            keep_m.append(m)
    return keep_b, keep_m
