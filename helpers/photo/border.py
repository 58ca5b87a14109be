"""Blobs at the edge: the page's rim, the desk and shadows coming in from outside the picture.

Nobody writes across the edge of the page, so ink touching it is dropped. A digit cropped
tightly may touch the picture's border, so a blob touching only that is kept when it could be
such a digit (`could_be_tight_crop`).
"""

from __future__ import annotations

import cv2
import numpy as np

from helpers.photo.segment import Box, Component

#: A blob touching the picture's border is kept as a tightly cropped digit, when nothing else is
#: left, only if it spans at least this share of the picture's width or height,
TIGHT_CROP = 0.5
#: runs along less than this share of the picture's border,
MAX_CONTACT = 0.25
#: and lies along no side (on it for half its length) while reaching less than this far in,
SLIVER_DEPTH = 0.25
#: nor hugs the border: half its pixels within this share of the picture's shorter side from it.
HUG_DEPTH = 0.04


def border_depth(labels: np.ndarray, index: int, box: Box) -> float:
    """The median distance of a blob's pixels from the picture's border, in shorter sides."""
    x, y, w, h = box
    H, W = labels.shape
    ys, xs = np.nonzero(labels[y : y + h, x : x + w] == index)
    xs, ys = xs + x, ys + y
    return float(np.median(np.minimum(np.minimum(xs, W - 1 - xs), np.minimum(ys, H - 1 - ys)))) / min(H, W)


def could_be_tight_crop(box: Box, contact: int, sides: tuple[int, int, int, int],
                        shape: tuple[int, int], depth: float) -> bool:
    """Whether a blob touching the picture's border could be a digit cropped tightly.

    Such a digit spans much of its crop and meets the border only where its strokes end or
    along one bar; a sliver of desk or shadow lies flat along a side, or runs around several
    (an L along two sides: the page's corner), close to the border all the way.
    `contact`: the blob's pixels on the picture's outermost ring; `sides`: on its top, bottom,
    left and right rows or columns; `depth`: its `border_depth`.
    """
    x, y, w, h = box
    H, W = shape
    if (max(w / W, h / H) < TIGHT_CROP or contact >= MAX_CONTACT * (2 * (H + W) - 4)
            or depth < HUG_DEPTH):
        return False
    top, bottom, left, right = sides
    along = [(top, w, y + h, H), (bottom, w, H - y, H), (left, h, x + w, W), (right, h, W - x, W)]
    return not any(on >= 0.5 * length and reach < SLIVER_DEPTH * size for on, length, reach, size in along)


def drop_border_blobs(
    comps: list[Component], labels: np.ndarray, mask: np.ndarray, page: np.ndarray
) -> None:
    """Mark blobs touching the page's edge, or the picture's border, as "edge".

    Nobody writes across the edge of the page: what touches it is the page's rim, the desk
    or a shadow. A tight crop of one digit may touch the picture's border, so a blob touching
    only that is kept when nothing else is left and it could be one (`could_be_tight_crop`).
    """
    live = [i for i, c in enumerate(comps) if not c.dropped]
    if not page.all():
        rim = cv2.dilate(1 - page, np.ones((3, 3), np.uint8))
        for i in set(np.unique(labels[(rim > 0) & (mask > 0)]).tolist()) - {0}:
            comps[i - 1].dropped = comps[i - 1].dropped or "edge"
        live = [i for i in live if not comps[i].dropped]
    n = len(comps) + 1
    sides = [np.bincount(line, minlength=n) for line in (labels[0], labels[-1], labels[:, 0], labels[:, -1])]
    corners = np.bincount(labels[[0, 0, -1, -1], [0, -1, 0, -1]], minlength=n)
    contact = sum(sides) - corners  # the outermost ring, each corner once
    all_touch = all(contact[i + 1] for i in live)
    for i in live:
        j = i + 1
        if contact[j] and (not all_touch or not could_be_tight_crop(
                comps[i].box, int(contact[j]), tuple(int(s[j]) for s in sides), mask.shape,
                border_depth(labels, j, comps[i].box))):
            comps[i].dropped = "edge"
