"""Read a wide group as two digits when the model is unsure of it as one.

Two digits that touch or overlap make one blob. `segment` cuts such a group by its shape
alone only where the cut is clean (one short run of ink); overlapping digits cross each
other and keep them whole. Here the model decides (segmentation by recognition): a group
well wider than a typical digit of its photo, that the model reads with less than `SURE`
certainty, is cut at each column of its middle half, and the cut whose two pieces the model
reads most surely replaces it when both pieces are read surely and each is nearly as tall
as the group (a cut-off bar is not a digit). A digit read surely is never cut: MNIST models
read half a 3 as a 3 just as surely as the whole.

The four settings were chosen on the synthetic development set (seed 0, MNIST training
digits), where neighbouring values give the same result within a number or two.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from helpers.photo.mnist_form import digit_ink, to_mnist
from helpers.photo.segment import Box, piece_box, typical_width

#: A group at least this many typical digit widths wide may hold two digits ...
WIDE = 1.4
#: ... when the model's top probability for it as one digit is below this ...
SURE = 0.999
#: ... and it is cut where the product of the two pieces' top probabilities is highest, if at least this ...
PIECES_SURE = 0.99
#: ... and each piece is at least this share of the group's height.
PIECE_HEIGHT = 0.7


def _cuts(box: Box, own: np.ndarray) -> list[tuple[Box, Box]]:
    """Every cut of `box` at a column of its middle half, as two boxes shrunk to their ink rows."""
    w, h = box[2], box[3]
    out = []
    for c in range(w // 4, 3 * w // 4 + 1, max(1, w // 30)):
        left, right = piece_box(own, box, 0, c), piece_box(own, box, c, w)
        if c >= 2 and w - c >= 2 and left and right and min(left[3], right[3]) >= PIECE_HEIGHT * h:
            out.append((left, right))
    return out


def split_unsure(
    ink: np.ndarray,
    labels: np.ndarray,
    boxes: list[Box],
    members: list[list[int]],
    probs: np.ndarray,
    classify: Callable[[np.ndarray], np.ndarray],
) -> dict[int, tuple[tuple[Box, Box], np.ndarray, list[np.ndarray], np.ndarray]]:
    """The groups to read as two digits: index → (piece boxes, inputs (2, 28, 28), crops, probs (2, 10)).

    `probs` are the model's probabilities for `boxes` as they are; `classify` maps
    (N, 28, 28) inputs to (N, 10) probabilities (it is called once, on every candidate cut).
    """
    if not boxes:
        return {}
    typical = typical_width(boxes)
    todo = []
    for i, (box, m) in enumerate(zip(boxes, members, strict=True)):
        x, y, w, h = box
        if w >= WIDE * typical and probs[i].max() < SURE:
            own = np.isin(labels[y : y + h, x : x + w], [k + 1 for k in m])
            todo += [(i, pair) for pair in _cuts(box, own)]
    if not todo:
        return {}
    made = [[to_mnist(digit_ink(ink, labels, [k + 1 for k in members[i]], b)) for b in pair]
            for i, pair in todo]
    p = classify(np.stack([x28 for pair in made for x28, _ in pair])).reshape(len(todo), 2, 10)
    sure = p.max(axis=2).prod(axis=1)
    out: dict[int, tuple[tuple[Box, Box], np.ndarray, list[np.ndarray], np.ndarray]] = {}
    for k in np.argsort(-sure, kind="stable"):
        i, pair = todo[k]
        if i not in out and sure[k] >= PIECES_SURE:
            out[i] = (pair, np.stack([x28 for x28, _ in made[k]]), [c for _, c in made[k]], p[k])
    return out
