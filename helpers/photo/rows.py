"""Digit boxes in rows of text, and in reading order: rows top to bottom, left to right.

`Box` is the pipeline's box, (x, y, w, h) in pixels of the picture.
"""

from __future__ import annotations

from collections.abc import Sequence

Box = tuple[int, int, int, int]  # x, y, w, h


def overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    """How far the intervals [a0, a1) and [b0, b1) overlap; negative: the gap between them."""
    return min(a1, b1) - max(a0, b0)


def text_rows(boxes: Sequence[Box]) -> list[list[int]]:
    """Indices of `boxes` grouped into rows of text: rows top to bottom, left to right in each.

    A box joins a row when it overlaps the row's vertical band by at least half
    of the smaller height, so slightly uneven handwriting stays on one row.
    """
    order = sorted(range(len(boxes)), key=lambda i: boxes[i][1] + boxes[i][3] / 2)
    rows: list[list[int]] = []
    bands: list[tuple[int, int]] = []
    for i in order:
        x, y, w, h = boxes[i]
        for r, (top, bottom) in enumerate(bands):
            if overlap(top, bottom, y, y + h) >= 0.5 * min(h, bottom - top):
                rows[r].append(i)
                bands[r] = (min(top, y), max(bottom, y + h))
                break
        else:
            rows.append([i])
            bands.append((y, y + h))
    rows_sorted = sorted(range(len(rows)), key=lambda r: sum(bands[r]) / 2)
    return [sorted(rows[r], key=lambda i: boxes[i][0]) for r in rows_sorted]


def reading_order(boxes: Sequence[Box]) -> list[int]:
    """Indices of `boxes` in reading order: rows top to bottom, left to right within a row."""
    return [i for row in text_rows(boxes) for i in row]
