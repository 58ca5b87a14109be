"""Erase ruled lines and margin lines from an ink mask, also where they cross digits.

Lined and squared paper and page margins give long straight bands of ink that would
join the digits they touch into one blob. `remove_long_lines` finds them (long runs of
ink fitted with straight lines, so tilted photos work), erases those that run on
beyond the digits they touch (a digit's own bar does not), and closes the cuts where
a stroke crossed a removed line. In a tight crop the digit is nearly as tall as the
picture, so a line across it is short against the digit, and a thick pen joins the two
into one tall run; a line across the whole picture, at most half as thick as the pen and
with ink on both sides of it, is printed all the same (`EDGE_TO_EDGE`, `THIN_LINE`; chosen on
the synthetic development photos, seeds 0, 2 and 3).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from helpers.photo.ink import ink_mask, ink_thresholds, stroke_width

#: A line across at least this share of the picture ...
EDGE_TO_EDGE = 0.9
#: ... and at most this share of the pen's width is printed, however tall the digits it crosses.
THIN_LINE = 0.5


def line_free_mask(ink: np.ndarray) -> tuple[np.ndarray, float]:
    """The ink mask of an ink map with ruled, squared and margin lines erased, and the lines' ink.

    Printed lines are fainter than ink and come out broken in the mask, so they are looked
    for among the pixels above the low threshold, where they are whole (`remove_long_lines`).
    The second value is the lower quartile of the ink on the erased lines (0 when none): how
    dark the printed lines are, so that what is no darker than them can be told from strokes.
    """
    faint = (ink >= ink_thresholds(ink)[1]).astype(np.uint8) * 255
    out, bands = _erase_lines(ink_mask(ink), faint)
    # The lines' own pixels: on their bands, above the low threshold, not a stroke kept; the
    # lower quartile, as a coloured margin line is darker than the ruled lines.
    on_lines = ink[(bands > 0) & (faint > 0) & (out == 0)]
    return out, float(np.percentile(on_lines, 25)) if on_lines.size else 0.0


def _line_bands(mask: np.ndarray, vertical: bool, thin: float = 0.0) -> list[tuple[np.ndarray, float]]:
    """Thin straight lines in the mask, nearly horizontal (or vertical): (band mask, thickness).

    Horizontal runs of ink are kept first (an opening with a short horizontal kernel), so
    crossing vertical lines and digits' curves drop out; the runs are joined over small
    gaps, and every run longer than a quarter of the picture is fitted with straight
    lines, tilted as the photo is (up to ~20°). In a run far thicker across than a line, only
    lines along at least 80 % of it count, and only when there are at least two (thick digits
    joining the lines of a grid): a single one is most likely the straight edge of a filled
    shape (the desk beyond the page, a shadow), unless it crosses a thick digit in a tight crop
    (`_through_a_digit`); shorter ones are strokes, such as a 0's sides.
    """
    H, W = mask.shape
    if vertical:
        return [(band.T.copy(), t) for band, t in _line_bands(np.ascontiguousarray(mask.T), False, thin)]
    min_len = max(25, W // 4)
    max_thick = max(3.0, 0.02 * max(H, W))
    runs = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((1, max(9, W // 120)), np.uint8))
    runs = cv2.morphologyEx(runs, cv2.MORPH_CLOSE, np.ones((1, max(3, W // 100)), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
    bands: list[tuple[np.ndarray, float]] = []
    for j in range(1, n):
        x, y, w, h = (int(v) for v in stats[j, :4])
        if w < min_len:
            continue
        fits = _fit_lines(labels[y : y + h, x : x + w] == j, x, y, max_thick, min_len)
        tall = h > 0.35 * w + max_thick
        if tall:
            fits = [f for f in fits if f[2] >= 0.8 * w]
        for slope, icpt, _ in fits:
            # Thickness: the run of ink across the line at points along it. Where digits cross
            # the line the run is a stroke's length, so take the thin end of the runs.
            samples = []
            for px in np.linspace(x, x + w - 1, 25).round().astype(int):
                yc = int(round(icpt + slope * px))
                col = mask[max(0, yc - int(max_thick) - 2) : max(0, yc + int(max_thick) + 3), px] > 0
                samples.append(int(col.sum()))
            nonzero = [r for r in samples if r]
            thick = float(np.percentile(nonzero, 25)) if nonzero else 0.0
            if thick == 0 or thick > max_thick:
                continue  # a bold stroke's body, not a printed line
            if tall and len(fits) < 2 and not _through_a_digit(thick, thin, icpt + slope * (x + w / 2), y, h):
                continue  # most likely the straight edge of a filled shape
            band = np.zeros((H, W), np.uint8)
            half = int(math.ceil(thick)) + 1  # the fitted line may run along one side of a thick line
            cv2.line(band, (0, int(round(icpt))), (W - 1, int(round(icpt + slope * (W - 1)))), 255,
                     2 * half + 1)
            bands.append((band, thick))
    return bands


def _through_a_digit(thick: float, thin: float, middle: float, top: int, height: int) -> bool:
    """Whether a lone line in a run far taller than a line is printed, crossing a thick digit in a
    tight crop: at most `thin` thick, with the run's ink on both sides of it (its `middle` row
    within the run's middle 60 %). A filled shape's straight edge has the shape on one side only."""
    return thick <= thin and top + 0.2 * height <= middle <= top + 0.8 * height


#: Slopes tried when looking for straight lines in a run of ink: up to about 20° either way.
_SLOPES = np.linspace(-0.36, 0.36, 73)


def _fit_lines(own: np.ndarray, x0: int, y0: int, max_thick: float,
               min_len: int) -> list[tuple[float, float, int]]:
    """Straight lines (slope, intercept, length) through the thin parts of one run of ink, most covered first.

    The line is fitted through the columns' runs no thicker than a printed line: where digits
    touch it their strokes would pull the fit off it. Digits between two lines of squared
    paper can join them into one run, so each line is found in turn (the slope and offset most
    thin runs agree on, as a Hough transform does) and its runs set aside before the next.
    """
    edges = np.diff(np.pad(own.T.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    cols, tops = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)  # same order: column by column, top to bottom
    thin = ends - tops <= max_thick
    xs = (cols[thin] + x0).astype(np.float64)
    ys = (tops[thin] + ends[thin] - 1) / 2.0 + y0
    found: list[tuple[float, float, int]] = []
    while len(xs) >= 0.5 * min_len and len(found) < 16:
        best = (0, 0.0, 0.0)
        for slope in _SLOPES:
            offset = ys - slope * xs
            low = offset.min()
            hist = np.bincount(((offset - low) / 3.0).astype(int))
            pairs = hist[:-1] + hist[1:] if len(hist) > 1 else hist
            k = int(np.argmax(pairs))
            if pairs[k] > best[0]:
                best = (int(pairs[k]), float(slope), low + 3.0 * (k + 1))
        count, slope, icpt = best
        if count < 0.5 * min_len:
            break
        near = np.abs(ys - slope * xs - icpt) <= 3.0
        slope, icpt = (float(v) for v in np.polyfit(xs[near], ys[near], 1))
        near = np.abs(ys - slope * xs - icpt) <= 3.0
        span = xs[near].max() - xs[near].min() + 1 if near.any() else 0
        # A printed line is whole along most of its length; thin runs that merely line up (the
        # grain of a desk, the ends of its stripes) are scattered along it.
        if near.sum() < 0.5 * min_len or near.sum() < 0.5 * span:
            break
        found.append((slope, icpt, int(span)))
        xs, ys = xs[~near], ys[~near]
    return found


def remove_long_lines(mask: np.ndarray, faint: np.ndarray | None = None) -> np.ndarray:
    """Erase ruled lines and margin lines, also where they run through digits.

    A horizontal line is a ruled line when the strokes it touches cover less of
    its length than they leave bare: a line across the page passes far beyond the
    digits it crosses, whereas the bar of a 5 or a 7 lies mostly above the rest of
    its digit. A vertical line is a margin (or page edge) when it is longer than
    half the picture and 2.5 times the tallest other blob, so the stem of a 1 or a
    9 stays, or, with no other blob, when it runs from edge to edge. Where a stroke
    crossed a removed line, the gap is closed again.
    """
    return _erase_lines(mask, faint)[0]


def _erase_lines(mask: np.ndarray, faint: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """`remove_long_lines`, also returning the bands of the lines erased (uint8 0/255)."""
    H, W = mask.shape
    # Printed lines are fainter than ink and come out broken in the mask: look for them in
    # `faint`, the pixels above the low threshold, where they are whole.
    support = mask if faint is None else faint
    # In a tight crop the digit is nearly as tall as the picture, and a thick pen joins a line
    # to it: a line across the whole picture, at most half as thick as the pen, is printed all the same.
    thin = THIN_LINE * stroke_width(mask)
    horizontal = [(_clip_band(b, support, 0), t) for b, t in _line_bands(support, False, thin)]
    vertical = [(_clip_band(b, support, 1), t) for b, t in _line_bands(support, True, thin)]
    if not horizontal and not vertical:
        return mask, np.zeros_like(mask)
    min_area = max(6, 2e-5 * H * W)
    # Judge every candidate against the strokes left when *all* candidates are gone:
    # ruled lines joined by a margin line would otherwise cover each other.
    every = np.bitwise_or.reduce([b for b, _ in horizontal + vertical])
    rest = mask & ~cv2.dilate(every, np.ones((3, 3), np.uint8))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(rest, connectivity=8)
    big = stats[1:][stats[1:, cv2.CC_STAT_AREA] >= min_area]
    # A digit's height: the tall end of the substantial blobs left (slivers of lines beside
    # their bands are many and thin, a stray long one must not set the scale).
    if len(big):
        big = big[big[:, cv2.CC_STAT_AREA] >= 0.05 * big[:, cv2.CC_STAT_AREA].max()]
    tallest = int(np.percentile(big[:, cv2.CC_STAT_HEIGHT], 75)) if len(big) else 0
    out = mask.copy()
    removed_h, removed_v = np.zeros_like(mask), np.zeros_like(mask)
    for band, thick in horizontal:
        line = support & band
        lx = _longest_run(line, axis=0)
        # Longer than one and a half digits: a stroke on its own (a bar, a dash) never is.
        span = lx[-1] - lx[0] + 1 if len(lx) else 0
        if (span and (span >= 1.5 * tallest or (span >= EDGE_TO_EDGE * W and thick <= thin))
                and _extends_beyond(line, band, labels, stats, rest, min_area, thick, tallest, axis=0)):
            out[(mask & band) > 0] = 0
            removed_h |= band
    for band, thick in vertical:
        line = support & band
        ly = _longest_run(line, axis=1)
        length = ly[-1] - ly[0] + 1 if len(ly) else 0
        # A margin: over half the picture and 2.5 digits long; on a page with nothing else on
        # it, a thin line from edge to edge (a digit's stem filling a tight crop is thick).
        margin = length >= 0.9 * H if not tallest else length >= max(0.5 * H, 2.5 * tallest)
        margin = margin or (length >= EDGE_TO_EDGE * H and thick <= thin)
        # Squared paper: a line over two digits long that runs on past the digits it crosses.
        # (Lines touching no digit are left to the segmentation, which drops long thin blobs:
        # the lone stem of a 1 in a tight crop must stay.)
        squared = tallest and length >= max(2 * tallest, 0.4 * H) and _extends_beyond(
            line, band, labels, stats, rest, min_area, thick, tallest, axis=1, alone=False)
        if margin or squared:
            out[(mask & band) > 0] = 0
            removed_v |= band
    # Close the cuts where strokes crossed a removed line: ink on both sides of it.
    for removed, bands, across in ((removed_h, horizontal, 90), (removed_v, vertical, 0)):
        if removed.any():
            reach = max(2 * (int(math.ceil(t)) + 1) + 1 for _, t in bands) + 4
            _heal(out, mask & removed, reach, across)
    return out, removed_h | removed_v


def _longest_run(line: np.ndarray, axis: int) -> np.ndarray:
    """Positions along a band covered by its longest stretch of ink (gaps of 2 % of the picture bridged).

    A band is drawn right across the picture, so it may also pass over strokes that are not
    on the line: the 1s of two rows, one above the other. Only the longest stretch counts.
    """
    covered = line.any(axis=axis)
    gap = max(3, covered.size // 50)
    idx = np.nonzero(covered)[0]
    if len(idx) == 0:
        return idx
    breaks = np.nonzero(np.diff(idx) > gap)[0]
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(idx) - 1]])
    k = int(np.argmax(idx[ends] - idx[starts]))
    return idx[starts[k] : ends[k] + 1]


def _clip_band(band: np.ndarray, support: np.ndarray, axis: int) -> np.ndarray:
    """The band cut to its longest stretch of ink (see `_longest_run`), a little beyond each end."""
    run = _longest_run(support & band, axis)
    out = np.zeros_like(band)
    if len(run):
        lo, hi = max(0, run[0] - 3), run[-1] + 4
        if axis == 0:
            out[:, lo:hi] = band[:, lo:hi]
        else:
            out[lo:hi] = band[lo:hi]
    return out


def _extends_beyond(line: np.ndarray, band: np.ndarray, labels: np.ndarray, stats: np.ndarray,
                    rest: np.ndarray, min_area: float, thick: float, tallest: int, axis: int,
                    alone: bool = True) -> bool:
    """Whether a straight band of ink runs on beyond the strokes it touches: a ruled line.

    `axis` 0 for a horizontal band, 1 for a vertical one. The bar of a 4, 5 or 7 lies over the
    rest of its digit, so it reaches at most a little past it; a ruled line crosses the page,
    past the digits it touches by more than half a digit's height (`tallest`) or a tenth of
    the picture, whichever is more. With `alone=False` a band touching no stroke is no line.
    """
    extent = _longest_run(line, axis)
    if len(extent) == 0:
        return False
    near = cv2.dilate(band, np.ones((7, 7), np.uint8))
    touching = set(np.unique(labels[(near > 0) & (rest > 0)])) - {0}
    lo, hi = extent[-1] + 1, extent[0]
    across = cv2.CC_STAT_HEIGHT if axis == 0 else cv2.CC_STAT_WIDTH
    start = cv2.CC_STAT_LEFT if axis == 0 else cv2.CC_STAT_TOP
    size = cv2.CC_STAT_WIDTH if axis == 0 else cv2.CC_STAT_HEIGHT
    strokes = 0
    for j in touching:
        # Slivers of the line itself left beside the band are not strokes.
        if stats[j, cv2.CC_STAT_AREA] >= min_area and stats[j, across] > 2 * thick:
            lo, hi = min(lo, stats[j, start]), max(hi, stats[j, start] + stats[j, size])
            strokes += 1
    if not strokes and not alone:
        return False
    if strokes >= 3 and hi - lo >= 2 * tallest:
        return True  # it runs through several digits: a bar belongs to one digit only
    first, last = extent[0], extent[-1] + 1
    beyond = (last - first) if hi <= lo else max(0, lo - first) + max(0, last - hi)
    return beyond >= max(0.5 * tallest, 0.1 * line.shape[1 - axis])


def _heal(out: np.ndarray, cut: np.ndarray, reach: int, across: float) -> None:
    """Restore the `cut` pixels that bridge strokes on both sides of a cut, in place.

    A closing with a short line kernel fills gaps along its direction; kernels
    tilted up to 45° either side of `across` (degrees) catch slanted strokes too.
    """
    ys, xs = np.nonzero(cut)
    if len(ys) == 0:
        return  # the removed lines crossed no ink of the mask itself
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
