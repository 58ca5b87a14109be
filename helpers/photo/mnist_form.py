"""Bring one digit's ink to MNIST's form: the 28×28 image an MNIST model expects.

MNIST's form, measured on MNIST training images (never the test set): the digit's
longer side is 20 px, its centre of mass sits at (row 14.0, col 14.0), and its stroke,
thresholded at 0.5 and measured by `stroke_width`, is 2.4 px wide (median of the 55,000
training digits; 10–90 % range 1.7–3.4 px; notebook 05 prints these). The constants
below (2.3, 1.7–3.2) come from an earlier estimate that used another width measure; the
pipeline's other settings were chosen with them, so they are kept until those are chosen again.
`to_mnist` rebuilds that form from any crop of ink: stroke width matched, longer side
fitted to 20 px (anti-aliased), placed in 28×28 by centre of mass.
"""

from __future__ import annotations

import cv2
import numpy as np

from helpers.photo.ink import stroke_width
from helpers.photo.segment import Box

__all__ = ["BOX", "CENTER", "MNIST_STROKE", "THIN_STROKE", "THICK_STROKE", "stroke_width",
           "match_stroke", "to_mnist", "digit_ink"]

BOX = 20
CENTER = 14.0
MNIST_STROKE = 2.3
THIN_STROKE = 1.7  # thinner than about MNIST's 10th percentile → thicken to MNIST_STROKE
THICK_STROKE = 3.2  # thicker than about MNIST's 90th percentile → thin to MNIST_STROKE


def _tight(img: np.ndarray, level: float = 0.0) -> np.ndarray:
    ys, xs = np.nonzero(img > level)
    if len(ys) == 0:
        return img[:0, :0]
    return img[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def match_stroke(ink: np.ndarray) -> np.ndarray:
    """Thicken (or thin) strokes so that, once fitted to 20 px, they are as wide as MNIST's.

    A ballpoint line on a large photo becomes a hairline when the digit shrinks to
    20 px; MNIST strokes are 1.7–3.2 px there (10th–90th percentile). Outside that
    range, a grey dilation (or erosion) by the missing width brings the stroke to
    MNIST's median, 2.3 px. Solving for the width gain Δ accounts for the box
    growing by Δ too: (w + Δ)·20 / (L + Δ) = 2.3.
    """
    L = max(ink.shape)
    w = stroke_width(ink >= 0.5)
    if L == 0 or w == 0:
        return ink
    now = w * BOX / L
    if THIN_STROKE <= now <= THICK_STROKE:
        return ink
    delta = (MNIST_STROKE * L / BOX - w) / (1 - MNIST_STROKE / BOX)
    k = 2 * int(round(abs(delta) / 2)) + 1
    if k < 3:
        return ink
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    if delta > 0:
        pad = k
        padded = cv2.copyMakeBorder(ink, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
        return _tight(cv2.dilate(padded, kernel))
    thinner = cv2.erode(ink, kernel)
    # Never erode a digit away: thick marker on a small crop can have hairline joins.
    return _tight(thinner) if (thinner >= 0.5).sum() >= 0.3 * (ink >= 0.5).sum() else ink


def _centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    """(row, column) of a grey image's centre of mass, from its image moments."""
    if img.shape[1] == 2:
        # cv2.moments reads an N×2 float array as the N points of a contour, not as an
        # image: an empty third column (no mass) makes it an image again.
        img = np.pad(img, ((0, 0), (0, 1)))
    m = cv2.moments(img)  # m00 = Σ ink, m10 = Σ x·ink, m01 = Σ y·ink
    return m["m01"] / m["m00"], m["m10"] / m["m00"]


def to_mnist(ink: np.ndarray, match_strokes: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """One digit's ink (float, 0 = paper, 1 = full ink) → (28×28 MNIST-form image, matched crop).

    As MNIST was made: the digit's longer side is scaled to 20 px keeping the
    aspect ratio, anti-aliased, then the 20×20 box is placed in 28×28 so that its
    centre of mass lands on the centre, (14, 14).
    """
    out = np.zeros((28, 28), np.float32)
    crop = _tight(np.asarray(ink, np.float32), 0.02)
    if crop.size == 0:
        return out, crop
    L = max(crop.shape)
    if L < 64:  # room for stroke matching on tiny inputs (USPS is 16×16)
        f = 64 / L
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * f)), max(1, round(crop.shape[0] * f))),
                          interpolation=cv2.INTER_LINEAR)
    elif L > 256:  # the digit ends up 20 px tall: more detail than this only costs time
        f = 256 / L
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * f)), max(1, round(crop.shape[0] * f))),
                          interpolation=cv2.INTER_AREA)
    if match_strokes:
        crop = match_stroke(crop)
    h, w = crop.shape
    s = BOX / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA).clip(0, 1)
    if small.max() <= 0:
        return out, crop
    small /= small.max()  # MNIST's strokes reach full white
    cy, cx = _centre_of_mass(small)
    top = int(np.clip(round(CENTER - cy), 0, 28 - small.shape[0]))
    left = int(np.clip(round(CENTER - cx), 0, 28 - small.shape[1]))
    out[top : top + small.shape[0], left : left + small.shape[1]] = small
    return out, crop


def digit_ink(ink: np.ndarray, labels: np.ndarray, ids: list[int], box: Box) -> np.ndarray:
    """The digit's own ink in its box: other blobs blanked, the core scaled to 1."""
    x, y, w, h = box
    pad = 2
    H, W = ink.shape
    x0, y0, x1, y1 = max(0, x - pad), max(0, y - pad), min(W, x + w + pad), min(H, y + h + pad)
    lab = labels[y0:y1, x0:x1]
    own = np.isin(lab, ids).astype(np.uint8)
    # Keep the soft anti-aliased rim just outside the mask, as MNIST's grey edges.
    own = cv2.dilate(own, np.ones((3, 3), np.uint8))
    crop = ink[y0:y1, x0:x1] * own
    core = crop[np.isin(lab, ids)]
    level = float(np.percentile(core, 75)) if core.size else 1.0
    return np.clip(crop / max(level, 1e-3), 0.0, 1.0)
