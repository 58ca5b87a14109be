"""Read a wide group as two digits when it is not one whole digit.

Two digits that touch or overlap make one blob. `segment` cuts such a group by its shape
alone only where the cut is clean (one short run of ink); overlapping digits cross each
other and keep them whole. Here models decide (segmentation by recognition). The digit
model cannot: MNIST models read half a 3 as a 3, and can read a touching pair as one digit,
as surely as a whole digit. So a second model, `helpers.photo.whole`, trained to tell one whole digit from two
digits side by side or a piece of one, looks at every group somewhat wider than a typical
digit of its photo (when that width is measured on at least three groups shaped like one
digit; otherwise, for a lone digit or a two-digit number, the earlier rule, `WIDE_GUESSED` and
`SURE`). A group it finds unlikely to be one whole digit is tried at about 16 evenly spaced
columns of its middle half; it is cut when the two pieces of one upright cut are read surely
(their top probabilities' product at least `PIECES_SURE_NOT_WHOLE` for a group the checker
found not whole, `PIECES_SURE` under the earlier rule) and each is at least `PIECE_HEIGHT` of
the group's height (a cut-off bar is not a digit). The cut made is then the one, upright or leaning
(`SLANTS`), whose pieces the digit model reads most surely: handwriting slants, and two slanted
digits that touch are parted along their slant, not by a column that gives one a bit of the other.

The settings come from the synthetic development set (MNIST training digits):
`PIECES_SURE`, `PIECE_HEIGHT`, `WIDE_GUESSED` and `SURE` were chosen on seed 0 for the earlier
version, which cut what the digit model was unsure of; `WIDE` was set once, `WHOLE` chosen
between 0.5 and 0.2, `PIECES_SURE_NOT_WHOLE` set to 0.9, and `SLANTS` set once, on seeds 0, 2 and 3.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from helpers.photo.mnist_form import digit_ink, to_mnist
from helpers.photo.segment import MEASURED, Box, digit_shaped, typical_width

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


#: The cuts lean by these many columns per row (handwriting slants; touching digits overlap).
SLANTS = (-0.3, -0.15, 0.0, 0.15, 0.3)


def _cuts(box: Box, own: np.ndarray) -> list[tuple[tuple[Box, Box], tuple[np.ndarray, np.ndarray], float]]:
    """Every cut of `box` at a column of its middle half, leaning by each of `SLANTS`: the two
    pieces' boxes (shrunk to their ink) and masks (`own`'s pixels on each side)."""
    x, y, w, h = box
    rows = np.arange(h)[:, None] - (h - 1) / 2
    cols = np.arange(w)[None, :]
    out = []
    for c in range(w // 4, 3 * w // 4 + 1, max(1, w // 30)):
        if c < 2 or w - c < 2:
            continue
        for slant in SLANTS:
            side = cols < c + slant * rows
            pair = (own & side, own & ~side)
            boxes = [_mask_box(m, x, y) for m in pair]
            if all(boxes) and min(b[3] for b in boxes) >= PIECE_HEIGHT * h:
                out.append((tuple(boxes), pair, slant))
    return out


def _mask_box(m: np.ndarray, x: int, y: int) -> Box | None:
    if not m.any():
        return None
    bx, by, bw, bh = cv2.boundingRect(m.astype(np.uint8))
    return x + bx, y + by, bw, bh


def _piece(ink: np.ndarray, box: Box, own: np.ndarray, piece: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One piece's MNIST form: the group's ink where the piece's mask is."""
    x, y, w, h = box
    lab = np.zeros(own.shape, np.int32)
    lab[piece] = 1
    return to_mnist(digit_ink(ink[y : y + h, x : x + w], lab, [1], _mask_box(piece, 0, 0)))


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
        ids = [k + 1 for k in members[i]]
        own = np.isin(labels[y : y + h, x : x + w], ids)
        for pair, masks, slant in _cuts(boxes[i], own):
            # Upright pieces are made as before the leaning cuts (the ink in each piece's box);
            # made from the pieces' masks they read one number fewer on the development photos.
            made = ([to_mnist(digit_ink(ink, labels, ids, b)) for b in pair] if slant == 0
                    else [_piece(ink, boxes[i], own, m) for m in masks])
            todo.append((i, pair, made, slant))
    if not todo:
        return {}
    made = [m for _, _, m, _ in todo]
    p = classify(np.stack([x28 for pair in made for x28, _ in pair])).reshape(len(todo), 2, 10)
    sure = p.max(axis=2).prod(axis=1)
    # Whether to cut is decided by the upright cuts; a leaning one may then place it better.
    upright = {t[0] for t, s in zip(todo, sure, strict=True) if t[3] == 0 and s >= needed}
    out: dict[int, tuple[tuple[Box, Box], np.ndarray, list[np.ndarray], np.ndarray]] = {}
    for k in np.argsort(-sure, kind="stable"):
        i, pair, _, _ = todo[k]
        if i not in out and i in upright:
            out[i] = (pair, np.stack([x28 for x28, _ in made[k]]), [c for _, c in made[k]], p[k])
    return out
