"""Shape measures of a blob's mask that tell a filled shape from pen strokes.

A pen stroke is narrow against the digit it draws (MNIST: 2.3 px in 20 px; even a marker's
stays under a third); a filled disc is half as wide as it is across. A lens smudge or a
blot, blurred and ragged at its edge, measures less, but fills nearly all of its convex hull
and is round; a thick 1 is as filled, but long.
"""

from __future__ import annotations

import cv2
import numpy as np

from helpers.photo.ink import stroke_width

#: A blob whose strokes are wider than this share of its size is a filled shape, not a digit;
BLOB_STROKE = 0.35
#: so is one with strokes over this share that fills this much of its convex hull and is less
#: than this many times as long as wide (a blot).
BLOT_STROKE, BLOT_SOLID, BLOT_LONG = 0.2, 0.95, 2.5


def _outline(own: np.ndarray) -> np.ndarray:
    contours, _ = cv2.findContours(own.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return np.concatenate(contours) if contours else np.zeros((1, 1, 2), np.int32)


def solidity(own: np.ndarray) -> float:
    """The share of its convex hull that a mask fills (a blot nearly 1, a digit's strokes far less)."""
    return float(np.count_nonzero(own)) / max(cv2.contourArea(cv2.convexHull(_outline(own))), 1.0)


def elongation(own: np.ndarray) -> float:
    """How many times as long as wide a mask's smallest enclosing rectangle is (at any angle)."""
    w, h = cv2.minAreaRect(_outline(own))[1]
    return max(w, h) / max(min(w, h), 1.0)


def is_filled(own: np.ndarray) -> bool:
    """Whether a blob's mask (bool, cropped to its box) is a filled shape rather than strokes."""
    if not own.any():
        return False
    ratio = stroke_width(own) / max(own.shape)
    if ratio > BLOB_STROKE:
        return True
    return ratio > BLOT_STROKE and solidity(own) > BLOT_SOLID and elongation(own) < BLOT_LONG
