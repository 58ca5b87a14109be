"""Gather the blobs of an ink mask into digits, and put the digits in reading order.

Each connected blob is a `Component`. `group_components` marks what is not part of
a digit (specks, ruled lines, page edges and shadows at the picture's edge), then
merges the rest into digits: the pieces of a broken digit, a loose bar, the bits of
a faint stroke, and returns them in reading order (`rows`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from helpers.photo.ink import stroke_width
from helpers.photo.rows import Box, overlap, reading_order, text_rows
from helpers.photo.shape import is_filled


@dataclass
class Component:
    """One connected blob of ink in the working image, and what became of it."""

    box: Box  # working-image pixels
    area: int
    dropped: str = ""  # why it is not (part of) a digit: "speck", "line", "edge", "faint" or "blob"


def _elongation(labels: np.ndarray, index: int, box: Box) -> float:
    """Length over width of a blob from its second moments (any orientation)."""
    x, y, w, h = box
    ys, xs = np.nonzero(labels[y : y + h, x : x + w] == index)
    if len(xs) < 3:
        return 1.0
    cov = np.cov(np.stack([xs, ys]).astype(np.float64))
    lo, hi = np.linalg.eigvalsh(cov)
    return float(np.sqrt(hi / max(lo, 1e-2)))


def _is_line(c: Component, W: int, H: int, ref: float, elongation: float) -> str:
    """"line" or "edge" when a blob is long, straight, thin and much longer than digits are tall."""
    x, y, w, h = c.box
    long_side = max(w, h)
    if ref <= 0 or long_side < 2.5 * ref or elongation < 12:
        return ""
    span = w / W if w >= h else h / H
    if span < 0.4:
        return ""
    return "edge" if _touches_edge(c.box, W, H) else "line"


def _gap(a: Box, b: Box) -> float:
    """Distance between two boxes (0 when they touch or overlap)."""
    dx = max(0, -overlap(a[0], a[0] + a[2], b[0], b[0] + b[2]))
    dy = max(0, -overlap(a[1], a[1] + a[3], b[1], b[1] + b[3]))
    return math.hypot(dx, dy)


def _union(a: Box, b: Box) -> Box:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return x0, y0, x1 - x0, y1 - y0


def _same_digit(a: Box, b: Box, height: float) -> bool:
    """Pieces of one broken digit: overlapping strongly in x, close in y, together no taller
    than a digit (`height`: typical digit height), so two rows of digits stay apart."""
    ov = overlap(a[0], a[0] + a[2], b[0], b[0] + b[2])
    if ov < 0.6 * min(a[2], b[2]):
        return False
    gap = -overlap(a[1], a[1] + a[3], b[1], b[1] + b[3])  # < 0 when they overlap in y
    if gap <= 0.08 * max(a[3], b[3]):
        return True  # all but touching: a skip of the pen, not the space between two rows
    return gap <= 0.25 * max(a[3], b[3]) and _union(a, b)[3] <= 1.3 * height


def _merge_groups(boxes: list[Box], members: list[list[int]], rule: Callable[[Box, Box], bool]):
    """Merge groups pairwise while `rule` says two boxes belong together."""
    boxes, members = list(boxes), [list(m) for m in members]
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                if rule(boxes[i], boxes[j]):
                    boxes[i] = _union(boxes[i], boxes[j])
                    members[i] += members[j]
                    del boxes[j], members[j]
                    merged = True
                    break
            if merged:
                break
    return boxes, members


def _touches_edge(box: Box, W: int, H: int) -> bool:
    x, y, w, h = box
    return x <= 1 or y <= 1 or x + w >= W - 1 or y + h >= H - 1


def _border_contact(labels: np.ndarray, index: int) -> float:
    """The largest share of one side of the picture that a blob covers."""
    sides = (labels[0], labels[-1], labels[:, 0], labels[:, -1])
    return max(float((side == index).mean()) for side in sides)


def _blob_stroke(labels: np.ndarray, index: int, box: Box) -> float:
    x, y, w, h = box
    return stroke_width(labels[y : y + h, x : x + w] == index)


def _is_piece(c: Component, main: Component, labels: np.ndarray, index: int) -> bool:
    """Whether a blob near the digit is a piece of it: big, or a small but stroke-like bit.

    Round dots (pen specks, dust) are left out: a far-out dot would stretch the box
    that is scaled to 20 px.
    """
    if c.area >= 0.1 * main.area:
        return True
    return c.area >= 0.01 * main.area and _elongation(labels, index, c.box) >= 2.5


def _live(comps: list[Component]) -> list[int]:
    """Indices of the components not dropped (yet)."""
    return [i for i, c in enumerate(comps) if not c.dropped]


def _drop_specks_and_lines(comps: list[Component], labels: np.ndarray) -> list[int]:
    """Mark blobs too small to matter as specks and long straight thin ones as lines; the rest."""
    H, W = labels.shape
    min_area = max(6, 2e-5 * H * W)
    for c in comps:
        if c.area < min_area:
            c.dropped = "speck"
    live = _live(comps)
    # Only long blobs can be lines; measure how straight and thin those are.
    elong = {i: _elongation(labels, i + 1, comps[i].box) if max(comps[i].box[2:]) > 0.4 * min(H, W)
             else 1.0 for i in live}
    ref = max((comps[i].box[3] for i in live if not _is_line(comps[i], W, H, 1e-9, elong[i])),
              default=0)
    if ref == 0 and sum(bool(_is_line(comps[i], W, H, 1e-9, elong[i])) for i in live) >= 3:
        ref = 1e-9  # nothing but long lines (blank squared paper): a lone 1 is one blob, not three
    for i in live:
        comps[i].dropped = _is_line(comps[i], W, H, ref, elong[i])
    return _live(comps)


def _drop_edge_blobs(
    comps: list[Component], labels: np.ndarray, live: list[int]
) -> tuple[list[int], set[int]]:
    """Mark shadows, table corners and page margins at the picture's edge; the rest, and the edge blobs.

    They show up as wide blobs at the picture's edge: far thicker than the pen strokes
    found away from the edge. A blob lying along a side of the picture (a page edge, a
    strip of table) is also dropped; both only when something else is left to be the
    digit. "Something else" must be big enough to be a digit itself (a tenth of the
    picture's height or width), so a speck inside a tight crop never displaces the digit.
    """
    H, W = labels.shape
    edge = {i for i in live if _touches_edge(comps[i].box, W, H)}
    inner = [i for i in live if i not in edge]
    biggest = max((comps[i].area for i in inner), default=0)
    strokes = [_blob_stroke(labels, i + 1, comps[i].box) for i in inner
               if comps[i].area >= 0.05 * biggest and max(comps[i].box[2:]) >= 0.1 * min(H, W)]
    if strokes:
        pen = float(np.median(strokes))
        for i in edge:
            if (_blob_stroke(labels, i + 1, comps[i].box) >= 2 * pen
                    or _border_contact(labels, i + 1) >= 0.2):
                comps[i].dropped = "edge"
    return _live(comps), edge


def _single_digit(
    comps: list[Component], labels: np.ndarray, live: list[int], edge: set[int]
) -> tuple[Box, list[int]]:
    """The one digit of the picture: the biggest blob and every piece near it; the rest are specks.

    Blobs clear of the picture's edge are preferred (page edges, shadows and table
    corners touch it; a tight crop has nothing else).
    """

    def weight(i: int) -> float:
        return comps[i].area * (0.3 if i in edge else 1.0)

    main = max(live, key=weight)
    box, members = comps[main].box, [main]
    changed = True
    while changed:
        changed = False
        pad = 0.25 * max(box[2], box[3])
        for i in live:
            if i in members or not _is_piece(comps[i], comps[main], labels, i + 1):
                continue
            x, y, w, h = comps[i].box
            if (overlap(box[0] - pad, box[0] + box[2] + pad, x, x + w) > 0
                    and overlap(box[1] - pad, box[1] + box[3] + pad, y, y + h) > 0):
                box, members, changed = _union(box, comps[i].box), members + [i], True
    for i in live:
        if i not in members:
            comps[i].dropped = "speck"
    return box, members


def _multi_digit(comps: list[Component], live: list[int]) -> tuple[list[Box], list[list[int]]]:
    """Merge the pieces of broken digits, then join each small fragment to a digit within reach:
    one it lies above or below if any, else the nearest."""
    # Typical digit height: the tall end of the substantial blobs (pieces of broken
    # digits are shorter, so the 75th percentile rather than the median).
    big = max(comps[i].area for i in live)
    height = float(np.percentile([comps[i].box[3] for i in live if comps[i].area >= 0.1 * big], 75))
    boxes, members = _merge_groups([comps[i].box for i in live], [[i] for i in live],
                                   lambda a, b: _same_digit(a, b, height))
    # Small fragments (a 5's loose bar, bits of a faint stroke) join a digit near them: the one
    # they lie above or below, if any (a 5's bar reaching over to the next digit stays a 5's).
    frag = [k for k, b in enumerate(boxes) if b[3] < 0.5 * height and b[2] < 0.8 * height]
    whole = [k for k in range(len(boxes)) if k not in frag]
    for k in frag:
        x, _, w, _ = boxes[k]
        # Sharing columns with a digit outranks being nearest to it (False sorts first).
        near = [(overlap(x, x + w, boxes[j][0], boxes[j][0] + boxes[j][2]) <= 0, _gap(boxes[k], boxes[j]), j)
                for j in whole if _gap(boxes[k], boxes[j]) <= 0.3 * height]
        if near:
            j = min(near)[2]
            boxes[j] = _union(boxes[j], boxes[k])
            members[j] += members[k]
            members[k] = []
    boxes = [b for b, m in zip(boxes, members, strict=True) if m]
    return boxes, [m for m in members if m]


def _drop_small_groups(
    comps: list[Component], boxes: list[Box], members: list[list[int]]
) -> tuple[list[Box], list[list[int]]]:
    """Drop groups much smaller than the tallest digit in both directions: specks or stray marks."""
    tallest = max(b[3] for b in boxes)
    return _drop_groups(comps, boxes, members, "speck",
                        lambda b, m: max(b[2], b[3]) < 0.3 * tallest or max(b[2], b[3]) < 8)


def _drop_groups(comps: list[Component], boxes: list[Box], members: list[list[int]], reason: str,
                 drop: Callable[[Box, list[int]], bool]) -> tuple[list[Box], list[list[int]]]:
    """Mark the components of every group `drop` says is no digit with `reason`; the other groups."""
    keep = []
    for k, (b, m) in enumerate(zip(boxes, members, strict=True)):
        if drop(b, m):
            for i in m:
                comps[i].dropped = reason
        else:
            keep.append(k)
    return [boxes[k] for k in keep], [members[k] for k in keep]


def _drop_blobs(
    comps: list[Component], boxes: list[Box], members: list[list[int]], labels: np.ndarray
) -> tuple[list[Box], list[list[int]]]:
    """Drop filled shapes (a smudge, a shadow's tip, a blot): see `shape.is_filled`."""
    def filled(b: Box, m: list[int]) -> bool:
        x, y, w, h = b
        return is_filled(np.isin(labels[y : y + h, x : x + w], [i + 1 for i in m]))

    return _drop_groups(comps, boxes, members, "blob", filled)


#: In a number, a flat mark lower than this share of the groups' median height, alone in its
#: row, is no digit.
STRAY_LOW = 0.3


def _drop_stray_marks(
    comps: list[Component], boxes: list[Box], members: list[list[int]]
) -> tuple[list[Box], list[list[int]]]:
    """Drop a low flat mark in a row of its own (a page's edge against the desk, a loose bit):
    the digits of a number share a row and are about as tall as each other."""
    if len(digit_shaped(boxes)) < MEASURED:
        return boxes, members
    low = STRAY_LOW * float(np.median([b[3] for b in boxes]))
    alone = {boxes[row[0]] for row in text_rows(boxes) if len(row) == 1}
    return _drop_groups(comps, boxes, members, "speck",
                        lambda b, m: b in alone and b[3] < low and b[2] >= b[3])


#: Widths of at least this many groups shaped like one digit give a measured typical width.
MEASURED = 3


def digit_shaped(boxes: Sequence[Box]) -> list[int]:
    """Widths of the boxes shaped like one digit (between 0.35 and 1 times as wide as tall)."""
    return [b[2] for b in boxes if 0.35 * b[3] <= b[2] <= b[3]]


def typical_width(boxes: Sequence[Box]) -> float:
    """The width of a typical digit among `boxes`: the median of those shaped like one digit.

    With fewer than `MEASURED` such, 0.7 of the median height (MNIST digits' usual aspect).
    """
    singles = digit_shaped(boxes)
    if len(singles) >= MEASURED:
        return float(np.median(singles))
    return 0.7 * float(np.median([b[3] for b in boxes]))


def piece_box(own: np.ndarray, box: Box, a: int, b: int) -> Box | None:
    """Columns a..b of `box` (its ink mask `own`), shrunk to their ink rows; None when empty."""
    rows = np.nonzero(own[:, a:b].any(axis=1))[0]
    if not len(rows):
        return None
    return box[0] + a, box[1] + int(rows[0]), b - a, int(rows[-1] - rows[0] + 1)


def _split_wide(
    boxes: list[Box], members: list[list[int]], labels: np.ndarray
) -> tuple[list[Box], list[list[int]]]:
    """Cut groups wider than a digit (touching or nearly touching digits) into digits.

    Only in a number (three groups or more): a digit is rarely wider than it is tall, so a
    group as high as the digits, at least 1.3 times as wide as tall and as the typical
    digit, holds several. They are cut into as
    many pieces as typical digit widths fit, each cut at the column with the least ink
    near its even spacing (the projection profile), and each piece's box shrunk to its ink.
    """
    if not boxes:
        return boxes, members
    height = float(np.median([b[3] for b in boxes]))
    typical = typical_width(boxes)
    out_b: list[Box] = []
    out_m: list[list[int]] = []
    for (x, y, w, h), m in zip(boxes, members, strict=True):
        pieces = int(round(w / max(typical, 0.5 * h)))
        digit_high = 0.75 * height <= h <= 1.5 * height
        if len(boxes) < 3 or not digit_high or w < 1.3 * h or w < 1.3 * typical or pieces < 2:
            out_b.append((x, y, w, h))
            out_m.append(m)
            continue
        ink = np.isin(labels[y : y + h, x : x + w], [i + 1 for i in m])
        profile = ink.sum(axis=0)
        pen = stroke_width(ink)
        cuts = [0]
        for j in range(1, pieces):
            centre, reach = j * w / pieces, 0.3 * w / pieces
            lo, hi = int(centre - reach), int(centre + reach) + 1
            cuts.append(lo + int(np.argmin(profile[lo:hi])))
        # Where two digits touch, the cut crosses one short run of ink; a wide digit's middle
        # (a 2's arc, diagonal and base) crosses several strokes: then it is one digit.
        if any(profile[c] > 1.5 * pen or np.count_nonzero(np.diff(ink[:, c].astype(np.int8)) == 1) > 1
               for c in cuts[1:]):
            out_b.append((x, y, w, h))
            out_m.append(m)
            continue
        cuts.append(w)
        pieces_b = []
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            piece = piece_box(ink, (x, y, w, h), a, b)
            if b - a >= 3 and piece:
                pieces_b.append(piece)
        # Every digit of a number is about as tall as the others: a piece under half the group's
        # height is the long bar of a 7 or a 5 cut off its digit, not a digit.
        if any(pb[3] < 0.5 * h for pb in pieces_b):
            pieces_b = [(x, y, w, h)]
        out_b += pieces_b
        out_m += [m] * len(pieces_b)
    return out_b, out_m


def group_components(
    comps: list[Component], labels: np.ndarray, single: bool = False
) -> tuple[list[Box], list[list[int]]]:
    """Drop specks, lines and page edges (marking `comps`), then gather the rest into digits.

    Returns digit boxes in reading order and, per digit, the indices of its components.
    With `single=True` (the caller knows the image holds one digit) the largest
    blob and every piece near it become that digit; far-off specks are ignored.
    """
    live = _drop_specks_and_lines(comps, labels)
    live, edge = _drop_edge_blobs(comps, labels, live)
    if not live:
        return [], []
    if single:
        box, members = _single_digit(comps, labels, live, edge)
        return [box], [members]
    boxes, members = _drop_small_groups(comps, *_multi_digit(comps, live))
    boxes, members = _drop_blobs(comps, boxes, members, labels)

    def flat(b: Box, m: list[int]) -> bool:
        x, y, w, h = b
        own = np.isin(labels[y : y + h, x : x + w], [i + 1 for i in m])
        return w > 2.5 * h and h < 2.5 * stroke_width(own)

    boxes, members = _drop_groups(comps, boxes, members, "line", flat)
    boxes, members = _drop_stray_marks(comps, *_split_wide(boxes, members, labels))
    order = reading_order(boxes)
    return [boxes[k] for k in order], [members[k] for k in order]
