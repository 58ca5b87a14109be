"""Erase ruled lines and margin lines from an ink mask, also where they cross digits.

Lined paper and page margins give long straight bands of ink that would join the
digits they touch into one blob. `remove_long_lines` finds them (a probabilistic
Hough transform, so tilted photos work), erases those that are lines rather than
strokes, and closes the cuts where a stroke crossed a removed line.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def _line_bands(mask: np.ndarray, vertical: bool) -> list[tuple[np.ndarray, float]]:
    """Thin straight lines in the mask, nearly horizontal (or vertical): (band mask, thickness).

    Found with a probabilistic Hough transform, so lines in tilted photos count.
    """
    H, W = mask.shape
    if vertical:
        return [(band.T.copy(), t) for band, t in _line_bands(np.ascontiguousarray(mask.T), False)]
    min_len = max(25, W // 4)
    segs = cv2.HoughLinesP(mask, 1, np.pi / 180, threshold=min_len // 2,
                           minLineLength=min_len, maxLineGap=max(3, W // 100))
    if segs is None:
        return []
    max_thick = max(3.0, 0.02 * max(H, W))
    bands: list[tuple[np.ndarray, float]] = []
    tried: list[tuple[float, float]] = []
    for x1, y1, x2, y2 in segs.reshape(-1, 4).astype(int):
        if x2 < x1:
            x1, y1, x2, y2 = x2, y2, x1, y1
        if abs(y2 - y1) > 0.35 * (x2 - x1):  # steeper than ~20°
            continue
        slope = (y2 - y1) / max(x2 - x1, 1)
        icpt = y1 - slope * x1
        if any(abs(t - slope) < 0.02 and abs(c - icpt) < max_thick for t, c in tried):
            continue  # the same line found twice
        tried.append((slope, icpt))
        # Thickness: the median run of ink across the line at points along the segment.
        runs = []
        for x in np.linspace(x1, x2, 25).round().astype(int):
            yc = int(round(icpt + slope * x))
            col = mask[max(0, yc - int(max_thick) - 2) : yc + int(max_thick) + 3, x] > 0
            runs.append(int(col.sum()))
        thick = float(np.median(runs))
        if thick == 0 or thick > max_thick:
            continue  # a bold stroke's body, not a printed line
        band = np.zeros((H, W), np.uint8)
        half = int(math.ceil(thick)) + 1  # the Hough line may run along one side of a thick line
        cv2.line(band, (0, int(round(icpt))), (W - 1, int(round(icpt + slope * (W - 1)))), 255,
                 2 * half + 1)
        bands.append((band, thick))
    return bands


def remove_long_lines(mask: np.ndarray) -> np.ndarray:
    """Erase ruled lines and margin lines, also where they run through digits.

    A horizontal line is a ruled line when the strokes it touches cover less of
    its length than they leave bare: a line across the page passes far beyond the
    digits it crosses, whereas the bar of a 5 or a 7 lies mostly above the rest of
    its digit. A vertical line is a margin (or page edge) when it is longer than
    half the picture and 2.5 times the tallest other blob, so the stem of a 1 or a
    9 stays. Where a stroke crossed a removed line, the gap is closed again.
    """
    H, W = mask.shape
    horizontal, vertical = _line_bands(mask, False), _line_bands(mask, True)
    if not horizontal and not vertical:
        return mask
    min_area = max(6, 2e-5 * H * W)
    # Judge every candidate against the strokes left when *all* candidates are gone:
    # ruled lines joined by a margin line would otherwise cover each other.
    every = np.bitwise_or.reduce([b for b, _ in horizontal + vertical])
    rest = mask & ~cv2.dilate(every, np.ones((3, 3), np.uint8))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(rest, connectivity=8)
    big = stats[1:][stats[1:, cv2.CC_STAT_AREA] >= min_area]
    tallest = int(big[:, cv2.CC_STAT_HEIGHT].max()) if len(big) else 0
    out = mask.copy()
    removed_h, removed_v = np.zeros_like(mask), np.zeros_like(mask)
    for band, thick in horizontal:
        line = mask & band
        lx = np.nonzero(line.any(axis=0))[0]
        if len(lx) == 0:
            continue
        near = cv2.dilate(band, np.ones((7, 7), np.uint8))
        touching = set(np.unique(labels[(near > 0) & (rest > 0)])) - {0}
        covered = np.zeros(W, bool)
        for j in touching:
            # Slivers of the line itself left beside the band are not strokes.
            if stats[j, cv2.CC_STAT_AREA] >= min_area and stats[j, cv2.CC_STAT_HEIGHT] > 2 * thick:
                px, pw = stats[j, cv2.CC_STAT_LEFT], stats[j, cv2.CC_STAT_WIDTH]
                covered[px : px + pw] = True
        length = lx[-1] - lx[0] + 1
        along = int(covered[lx[0] : lx[-1] + 1].sum())
        if length - along >= max(along, W // 4):
            out[line > 0] = 0
            removed_h |= band
    for band, _ in vertical:
        line = mask & band
        ly = np.nonzero(line.any(axis=1))[0]
        if len(ly) and tallest and ly[-1] - ly[0] + 1 >= max(0.5 * H, 2.5 * tallest):
            out[line > 0] = 0
            removed_v |= band
    # Close the cuts where strokes crossed a removed line: ink on both sides of it.
    for removed, bands, across in ((removed_h, horizontal, 90), (removed_v, vertical, 0)):
        if removed.any():
            reach = max(2 * (int(math.ceil(t)) + 1) + 1 for _, t in bands) + 4
            _heal(out, mask & removed, reach, across)
    return out


def _heal(out: np.ndarray, cut: np.ndarray, reach: int, across: float) -> None:
    """Restore the `cut` pixels that bridge strokes on both sides of a cut, in place.

    A closing with a short line kernel fills gaps along its direction; kernels
    tilted up to 45° either side of `across` (degrees) catch slanted strokes too.
    """
    ys, xs = np.nonzero(cut)
    y0, y1 = max(0, ys.min() - reach), min(out.shape[0], ys.max() + reach + 1)
    x0, x1 = max(0, xs.min() - reach), min(out.shape[1], xs.max() + reach + 1)
    sub = out[y0:y1, x0:x1]
    fill = np.zeros_like(sub)
    c = reach // 2
    for tilt in (-45, -30, -15, 0, 15, 30, 45):
        a = math.radians(across + tilt)
        dx, dy = round(c * math.cos(a)), round(c * math.sin(a))
        kernel = np.zeros((2 * c + 1, 2 * c + 1), np.uint8)
        cv2.line(kernel, (c - dx, c - dy), (c + dx, c + dy), 1, 1)
        fill |= cv2.morphologyEx(sub, cv2.MORPH_CLOSE, kernel)
    sub |= fill & cut[y0:y1, x0:x1]
