"""Find the paper, and the paper's own brightness under shadows, so ink is looked for only on it.

A phone photo of a page holds more than paper: the desk beyond its edge, a hand's
shadow, fingers. Two steps keep them from becoming "ink":

1. `paper_background`: the paper as it would look without ink, shadows and uneven light
   included. A grey closing (on the ink-bright image, an opening) with a kernel a few
   pen strokes wide removes every stroke and keeps everything wider: shadows, light
   gradients, the desk. A shadow's edge is monotone, and a closing keeps monotone edges
   exactly, so a hard shadow gives no band of false ink, as a blur-based estimate would.
2. `find_page`: where the paper is: bright enough (down to a deep shadow) and of the
   paper's colour, the largest such region and its holes (the ink on it). The desk, a
   dark frame edge or skin, of another colour or far darker, is not page.
"""

from __future__ import annotations

import cv2
import numpy as np

from helpers.photo.ink import ink_map, ink_ratio
from helpers.photo.lines import line_free_mask

#: Paper in shadow keeps at least this share of the page's light (deeper is taken as not paper).
SHADOW_FLOOR = 0.3
#: How far the paper's chromaticity (r and g of r+g+b) may vary over the page.
CHROMA_TOLERANCE = 0.045


def _odd(n: float) -> int:
    return max(3, int(n) // 2 * 2 + 1)


def typical_stroke(mask: np.ndarray) -> float:
    """The pen's width in a binary mask (0 when it has no strokes).

    Each blob's mean width is 2·area/perimeter. Only stroke-like blobs count: not
    specks (under 0.01 % of the picture) and not filled shapes (a shadow, the desk),
    whose width is over a quarter of their size. The median blob decides, so one
    big shadow does not outweigh the digits.
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    H, W = mask.shape
    widths = []
    for j in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[j])
        if area < max(20, 1e-4 * H * W):
            continue
        contours, _ = cv2.findContours((labels[y : y + h, x : x + w] == j).astype(np.uint8),
                                       cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
        perimeter = sum(cv2.arcLength(c, True) for c in contours)
        width = 2.0 * area / max(perimeter, 1.0)
        if width <= 0.25 * max(w, h):
            widths.append(width)
    return float(np.median(widths)) if widths else 0.0


def inner_blobs(mask: np.ndarray) -> np.ndarray:
    """The blobs of a binary mask that do not touch the picture's border (uint8 0/255)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    x, y, w, h = (stats[:, i] for i in range(4))
    keep = (x > 0) & (y > 0) & (x + w < mask.shape[1]) & (y + h < mask.shape[0])
    keep[0] = False
    return (keep[labels] * 255).astype(np.uint8)


def pen_width(work: np.ndarray, dark_ink: bool, page: np.ndarray) -> float:
    """The pen's width in working pixels, from a first ink map of the page (at most 800 px wide).

    The first map takes the paper as what is wider than 4 % of the picture, so a stroke
    wider than that (a brush, a big digit in a tight crop) is mostly taken for paper and
    measured far too thin. A second map takes the paper as what is wider than a fifth of
    the picture. The width measured on its blobs clear of the picture's border (ink, not a
    shadow or the desk coming in from outside) replaces the first when over twice as wide.
    Strokes nearly as wide as the first kernel are measured on all of the second map's blobs.
    """
    f = min(1.0, 800 / max(work.shape[:2]))
    if f < 1.0:
        size = (max(1, round(work.shape[1] * f)), max(1, round(work.shape[0] * f)))
        work = cv2.resize(work, size, interpolation=cv2.INTER_AREA)
        page = cv2.resize(page, size, interpolation=cv2.INTER_NEAREST)
    first = 0.04 * max(work.shape[:2])
    ink_bright = 255 - work if dark_ink else work
    bg = paper_background(work, dark_ink, first / 3)
    stroke = typical_stroke(line_free_mask(ink_ratio(ink_bright, bg) * page)[0])
    coarse = line_free_mask(ink_map(work, dark_ink) * page)[0]
    inner = typical_stroke(inner_blobs(coarse))
    if inner > 2 * stroke:
        return inner / f
    if 3 * stroke > 0.6 * first:
        stroke = max(stroke, typical_stroke(coarse))
    return stroke / f


def paper_background(work: np.ndarray, dark_ink: bool, stroke: float) -> np.ndarray:
    """The paper without its ink, in the ink-bright domain (255 - image for dark ink), float32.

    `stroke`: the pen's width in working pixels; the kernel is three strokes wide
    (at least 2 % and at most 20 % of the picture), so every stroke is removed.
    """
    ink_bright = 255 - work if dark_ink else work
    h, w = ink_bright.shape[:2]
    f = min(1.0, 800 / max(h, w))
    small = cv2.resize(ink_bright, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    side = max(small.shape[:2])
    k = _odd(np.clip(3 * stroke * f + 3, 0.02 * side, 0.2 * side))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    bg = cv2.morphologyEx(small, cv2.MORPH_OPEN, kernel)
    bg = cv2.GaussianBlur(bg.astype(np.float32), (0, 0), max(1.0, k / 8))
    return cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR)


def find_page(work: np.ndarray) -> np.ndarray:
    """uint8 0/1 mask of the paper (working size): the largest bright region of the paper's colour.

    Strokes are first blurred away (a median a twentieth of the picture wide). The paper
    is what is at least `SHADOW_FLOOR` as bright as the brightest tenth and of its colour;
    the largest such region and its holes are the page. The whole picture is the page when
    no region covers a third of it (a dark board, a drawing on black), or when what is not
    page covers less than a fifth of the picture's border: a big digit in a tight crop,
    not a desk, which lies beyond the page along a side of the picture.
    """
    h, w = work.shape[:2]
    f = min(1.0, 200 / max(h, w))
    size = (max(1, round(w * f)), max(1, round(h * f)))
    small = cv2.resize(work, size, interpolation=cv2.INTER_AREA)
    paper = cv2.medianBlur(small, _odd(max(size) / 20)).astype(np.float32)
    light = paper.mean(axis=2) if paper.ndim == 3 else paper
    level = float(np.percentile(light, 90))
    page = light >= SHADOW_FLOOR * level
    if paper.ndim == 3:
        chroma = paper[..., 1:] / np.maximum(paper.sum(axis=2, keepdims=True), 1.0)  # g and r shares
        ref = np.median(chroma[light >= 0.8 * level], axis=0)
        page &= np.abs(chroma - ref).max(axis=2) <= CHROMA_TOLERANCE
    n, labels, stats, _ = cv2.connectedComponentsWithStats(page.astype(np.uint8), connectivity=4)
    area = stats[1:, cv2.CC_STAT_AREA]
    if n <= 1 or area.max() < light.size / 3:
        return np.ones((h, w), np.uint8)
    keep = np.zeros(n, bool)
    keep[1:] = area >= 0.25 * area.max()
    page = keep[labels].astype(np.uint8)
    # Holes in the page (ink, a smudge) are page too: fill what the outside cannot reach.
    outside = np.pad(1 - page, 1, constant_values=1)
    cv2.floodFill(outside, None, (0, 0), 2)
    page = (outside[1:-1, 1:-1] != 2).astype(np.uint8)
    rim = np.concatenate([page[0], page[-1], page[:, 0], page[:, -1]])
    if (rim == 0).mean() < 0.2:
        return np.ones((h, w), np.uint8)
    # Keep off the page's edge (its shading and the strip of desk the blur mixes in), by 2.5 %
    # of the picture; where the page runs out of the picture there is no edge to avoid.
    k = _odd(0.05 * max(size))
    page = cv2.erode(page, np.ones((k, k), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=1)
    return cv2.resize(page, (w, h), interpolation=cv2.INTER_NEAREST)


def is_drawing(gray: np.ndarray) -> bool:
    """A picture framed by one flat colour (a paint program's canvas), not a photo of paper."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]]).astype(np.float32)
    return float(border.std()) < 2.0


def on_page(gray: np.ndarray, page: np.ndarray) -> np.ndarray:
    """The page's bounding box of `gray`, with what is not page filled with the page's median."""
    ys, xs = np.nonzero(page)
    if len(ys) == 0:
        return gray
    crop = gray[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].copy()
    inside = page[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] > 0
    crop[~inside] = np.uint8(np.median(crop[inside]))
    return crop
