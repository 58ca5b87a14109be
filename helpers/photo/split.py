"""Read a wide group as two digits when it is not one whole digit.

Two digits that touch or overlap make one blob. `segment` cuts such a group by its shape
alone only where the cut is clean (one short run of ink); overlapping digits cross each
other and keep them whole. Here models decide (segmentation by recognition). The digit
model cannot: MNIST models read half a 3 as a 3, and can read a touching pair as one digit,
as surely as a whole digit. So a second model, `helpers.photo.whole`, trained to tell one whole digit from two
digits side by side or a piece of one, looks at every group somewhat wider than a typical
digit of its photo (when that width is measured on at least three groups shaped like one
digit; otherwise, for a lone digit or a two-digit number, the earlier rule, `WIDE_GUESSED` and
`SURE`). A group it finds unlikely to be one whole digit is cut at about 16 evenly spaced
columns of its middle half, and the cut whose two pieces the digit model reads most surely
replaces it when both pieces are read surely (less surely when the checker found the group
not whole) and each is nearly as tall as the group (a cut-off bar is not a digit).

The settings come from the synthetic development set (MNIST training digits):
`PIECES_SURE`, `PIECE_HEIGHT`, `WIDE_GUESSED` and `SURE` were chosen on seed 0 for the earlier
version, which cut what the digit model was unsure of; `WIDE` was set once, `WHOLE` chosen
between 0.5 and 0.2, and `PIECES_SURE_NOT_WHOLE` set to 0.9, on seeds 0, 2 and 3.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from helpers.photo.mnist_form import digit_ink, to_mnist
from helpers.photo.segment import MEASURED, Box, digit_shaped, piece_box, typical_width

#: A group at least this many typical digit widths wide may hold two digits ...
WIDE = 1.1
#: ... when the checker gives it less than this probability of being one whole digit ...
WHOLE = 0.2
#: ... and it is cut where the product of the two pieces' top probabilities is highest, if at least this ...
PIECES_SURE = 0.99
#: ... (or this, for a group the checker found unlikely to be whole) ...
PIECES_SURE_NOT_WHOLE = 0.9
#: ... and each piece is at least this share of the group's height.
PIECE_HEIGHT = 0.7
#: Without a measured typical width (fewer than `segment.MEASURED` groups shaped like one digit:
#: a lone digit, a two-digit number), only a group this many guessed widths wide may hold two
#: digits, when the digit model reads it with less than `SURE` certainty: the checker takes
#: some wide lone digits, such as a flat 2, for pairs.
WIDE_GUESSED, SURE = 1.4, 0.999


def _cuts(box: Box, own: np.ndarray) -> list[tuple[Box, Box]]:
    """Every cut of `box` at a column of its middle half, as two boxes shrunk to their ink rows."""
    w, h = box[2], box[3]
    out = []
    for c in range(w // 4, 3 * w // 4 + 1, max(1, w // 30)):
        left, right = piece_box(own, box, 0, c), piece_box(own, box, c, w)
        if c >= 2 and w - c >= 2 and left and right and min(left[3], right[3]) >= PIECE_HEIGHT * h:
            out.append((left, right))
    return out


def split_not_whole(
    ink: np.ndarray,
    labels: np.ndarray,
    boxes: list[Box],
    members: list[list[int]],
    inputs: np.ndarray,
    probs: np.ndarray,
    classify: Callable[[np.ndarray], np.ndarray],
    whole: Callable[[np.ndarray], np.ndarray],
) -> dict[int, tuple[tuple[Box, Box], np.ndarray, list[np.ndarray], np.ndarray]]:
    """The groups to read as two digits: index → (piece boxes, inputs (2, 28, 28), crops, probs (2, 10)).

    `inputs` are the groups as the digit model sees them and `probs` its probabilities for
    them; `classify` maps (N, 28, 28) inputs to the digit model's (N, 10) probabilities,
    `whole` to the checker's (N, 1) probability of one whole digit. Each is called at most once.
    """
    if not boxes:
        return {}
    typical = typical_width(boxes)  # measured, or guessed from the height when too few to measure
    if len(digit_shaped(boxes)) >= MEASURED:
        wide = [i for i, box in enumerate(boxes) if box[2] >= WIDE * typical]
        cut = [i for i, p in zip(wide, whole(inputs[wide])[:, 0] if wide else [], strict=True) if p < WHOLE]
        needed = PIECES_SURE_NOT_WHOLE
    else:
        cut = [i for i, box in enumerate(boxes) if box[2] >= WIDE_GUESSED * typical and probs[i].max() < SURE]
        needed = PIECES_SURE
    todo = []
    for i in cut:
        x, y, w, h = boxes[i]
        own = np.isin(labels[y : y + h, x : x + w], [k + 1 for k in members[i]])
        todo += [(i, pair) for pair in _cuts(boxes[i], own)]
    if not todo:
        return {}
    made = [[to_mnist(digit_ink(ink, labels, [k + 1 for k in members[i]], b)) for b in pair]
            for i, pair in todo]
    p = classify(np.stack([x28 for pair in made for x28, _ in pair])).reshape(len(todo), 2, 10)
    sure = p.max(axis=2).prod(axis=1)
    out: dict[int, tuple[tuple[Box, Box], np.ndarray, list[np.ndarray], np.ndarray]] = {}
    for k in np.argsort(-sure, kind="stable"):
        i, pair = todo[k]
        if i not in out and sure[k] >= needed:
            out[i] = (pair, np.stack([x28 for x28, _ in made[k]]), [c for _, c in made[k]], p[k])
    return out
