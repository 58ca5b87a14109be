"""The whole pipeline: find the digits of an image, classify them, package the answer.

`find_digits(image)` runs the image part only (no model) and keeps every stage in a
`Stages`; `read_digits(image, model)` adds the model and returns an `ImageResult`;
`read_batch(images, model)` reads many images with a single model call (`find_batch`, then
`classify_batch`, once per model when several read the same images). A caller that
wants to load its model only once an image has digits (the command line) runs
`find_digits`, then `classify` (the model, and a second look at wide groups that may not be
one whole digit), then `make_result`.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from helpers.inference import Model, predict_proba
from helpers.photo.border import drop_border_blobs
from helpers.photo.image import ImageReadError, load_image, to_bgr
from helpers.photo.ink import MAX_SIDE, detect_dark_ink, ink_ratio, working_image
from helpers.photo.lines import line_free_mask
from helpers.photo.mnist_form import digit_ink, to_mnist
from helpers.photo.page import find_page, is_drawing, on_page, paper_background, pen_width
from helpers.photo.rows import Box, text_rows
from helpers.photo.segment import Component, group_components
from helpers.photo.split import split_not_whole
from helpers.photo.whole import checker

#: A digit whose top probability is below this is flagged `low_confidence`.
DEFAULT_THRESHOLD = 0.6
#: A blob whose pixels are on average less than this much darker than the paper is not ink.
MIN_INK = 0.2
#: ... nor less than this many times as dark as the ruled or squared lines erased from the page.
LINE_MARGIN = 1.5


@dataclass
class Digit:
    """One digit read from an image."""

    label: int
    probability: float
    top3: list[tuple[int, float]]
    bbox: Box  # x, y, w, h in the original image's pixels (after EXIF rotation)
    input: np.ndarray = field(repr=False)  # the 28×28 float32 image the model saw
    low_confidence: bool = False
    row: int = 0  # which row of text, counted from the top
    probs: np.ndarray | None = field(default=None, repr=False)  # all ten probabilities

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (without the 28×28 input)."""
        return {
            "label": self.label,
            "probability": round(self.probability, 4),
            "top3": [[d, round(p, 4)] for d, p in self.top3],
            "bbox": list(self.bbox),
            "low_confidence": self.low_confidence,
            "row": self.row,
        }


@dataclass
class Stages:
    """Every intermediate picture of the pipeline, for teaching and debugging."""

    original: np.ndarray  # BGR uint8, EXIF orientation applied, alpha flattened onto paper
    size: tuple[int, int]  # (width, height) of the full image (`original` may be a reduced decode)
    scale: float  # working pixels per full-image pixel
    gray: np.ndarray  # working-size uint8 grayscale
    dark_ink: bool  # True: dark ink on light paper; False: light ink on dark (MNIST-like)
    ink: np.ndarray  # working-size float32 0..1: how much darker (or lighter) than the local paper
    mask: np.ndarray  # working-size uint8 0/255: pixels taken as ink
    components: list[Component]  # every blob of the mask, with the reason if dropped
    boxes: list[Box]  # one per digit, reading order, working pixels
    rows: list[int]  # per digit: its row of text, 0 = top
    crops: list[np.ndarray]  # per digit: ink crop after stroke-width matching (float 0..1)
    inputs: np.ndarray  # (N, 28, 28) float32: what the model sees
    labels: np.ndarray = field(repr=False)  # working-size int32: each pixel's component (1-based, 0 = none)
    members: list[list[int]] = field(repr=False)  # per digit: indices of its components
    single: bool = False  # the caller said the image holds one digit

    def bbox_original(self, box: Box) -> Box:
        """A working-image box in original-image pixels."""
        x, y, w, h = box
        W, H = self.size
        s = self.scale
        x0, y0 = max(0, int(math.floor(x / s))), max(0, int(math.floor(y / s)))
        x1, y1 = min(W, int(math.ceil((x + w) / s))), min(H, int(math.ceil((y + h) / s)))
        return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


@dataclass
class ImageResult:
    """What `read_digits` found in one image."""

    path: str | None
    digits: list[Digit]
    message: str
    stages: Stages | None = field(default=None, repr=False)

    @property
    def rows(self) -> list[str]:
        """Each row of digits as a string, top to bottom ([] when none)."""
        out: dict[int, str] = {}
        for d in self.digits:
            out[d.row] = out.get(d.row, "") + str(d.label)
        return [out[r] for r in sorted(out)]

    @property
    def text(self) -> str:
        """Everything read: the rows joined by newlines ("" when nothing was read)."""
        return "\n".join(self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "image": self.path,
            "digits": [d.to_dict() for d in self.digits],
            "rows": self.rows,
            "text": self.text,
            "message": self.message,
        }


def find_digits(image: str | os.PathLike | np.ndarray, single: bool = False) -> Stages:
    """Run the image part of the pipeline (no model); every stage is kept.

    `image` is a file path or an array (grayscale, BGR or BGRA as OpenCV uses).
    """
    if isinstance(image, np.ndarray):
        img = to_bgr(image)
        full = (img.shape[1], img.shape[0])
    else:
        img, full = load_image(image, max_side=MAX_SIDE)
    work, s = working_image(img)
    scale = s * img.shape[1] / full[0]  # working pixels per original pixel
    gray = cv2.cvtColor(work, cv2.COLOR_BGR2GRAY)
    empty = np.zeros(gray.shape, np.uint8)
    if min(img.shape[:2]) < 4 or int(gray.max()) - int(gray.min()) < 8:
        # A dot, or one flat colour (all white, all black): nothing to find.
        return Stages(img, full, scale, gray, True, empty.astype(np.float32), empty, [], [], [], [],
                      np.zeros((0, 28, 28), np.float32), empty.astype(np.int32), [], single)
    page = find_page(work)
    if is_drawing(gray):
        page[:] = 1  # a canvas: no desk, and its ground may be black
    # A page found apart from a darker surround is paper, written on in dark ink: on a blank
    # page the votes only split the grain. Otherwise the polarity is judged on the page, so a
    # dark desk around it does not outvote it.
    dark = not page.all() or detect_dark_ink(on_page(gray, page))
    if not dark:
        page[:] = 1  # light ink on a dark ground (chalk, a drawing on black): no paper to find
    ink_bright = 255 - work if dark else work
    # A stroke is at least one pixel of the picture as it came: an enlarged small picture's
    # strokes are that many working pixels wide, whatever its blurred edges suggest.
    stroke = max(pen_width(work, dark, page), s)
    bg = paper_background(work, dark, stroke)
    ink = ink_ratio(ink_bright, bg) * page
    mask, line_ink = line_free_mask(ink)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    comps = [Component(tuple(int(v) for v in stats[i, :4]), int(stats[i, 4])) for i in range(1, n)]
    # Pen and pencil are well darker than the paper; grain, a fold or the desk's texture is
    # not. And a pen is darker than the printed lines: what is not is left of those lines.
    strength = np.bincount(labels.ravel(), weights=ink.ravel(), minlength=n) / np.maximum(stats[:, 4], 1)
    floor = max(MIN_INK, LINE_MARGIN * line_ink)
    for c, mean_ink in zip(comps, strength[1:], strict=True):
        if mean_ink < floor:
            c.dropped = "faint"
    drop_border_blobs(comps, labels, mask, page)
    boxes, members = group_components(comps, labels, single=single)
    crops, inputs = [], []
    for box, m in zip(boxes, members, strict=True):
        x28, crop = to_mnist(digit_ink(ink, labels, [i + 1 for i in m], box))
        crops.append(crop)
        inputs.append(x28)
    arr = np.stack(inputs) if inputs else np.zeros((0, 28, 28), np.float32)
    rows = [0] * len(boxes)
    for r, row in enumerate(text_rows(boxes)):
        for i in row:
            rows[i] = r
    return Stages(img, full, scale, gray, dark, ink, mask, comps, boxes, rows, crops, arr,
                  labels, members, single)


def read_digits(
    image: str | os.PathLike | np.ndarray,
    model: Model,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    single: bool = False,
) -> ImageResult:
    """Find and classify every digit in an image (reading order); see `find_digits`.

    Raises `ImageReadError` for a file that cannot be read. A blank image gives
    an `ImageResult` with no digits and a message saying so.
    """
    path = None if isinstance(image, np.ndarray) else str(image)
    stages, probs = classify(find_digits(image, single=single), model)
    return make_result(path, stages, probs, threshold)


def classify(
    stages: Stages, model: Model, probs: np.ndarray | None = None, whole: Model | None = None
) -> tuple[Stages, np.ndarray]:
    """The model's probabilities (N, 10) for the digits found, and the stages they belong to.

    A wide group that the checker `whole` (default: `helpers.photo.whole.checker()`) finds
    unlikely to be one whole digit (where a typical digit width is measured; otherwise the
    earlier rule, `split.WIDE_GUESSED` and `split.SURE`) is read again as two digits when the
    model reads the two pieces of a cut surely (`helpers.photo.split`); the stages returned
    then have those pieces in its place. `probs`, when given, are the model's answers for `stages.inputs`.
    """
    if probs is None:
        probs = predict_proba(model, stages.inputs) if len(stages.inputs) else np.zeros((0, 10))
    if stages.single or not stages.boxes:
        return stages, probs
    found = split_not_whole(stages.ink, stages.labels, stages.boxes, stages.members, stages.inputs,
                            probs, lambda x: predict_proba(model, x),
                            lambda x: predict_proba(whole or checker(), x))
    if not found:
        return stages, probs
    boxes, rows, crops, inputs, members, out = [], [], [], [], [], []
    for i, box in enumerate(stages.boxes):
        pieces = found.get(i)
        n = 2 if pieces else 1
        boxes += list(pieces[0]) if pieces else [box]
        crops += pieces[2] if pieces else [stages.crops[i]]
        inputs.append(pieces[1] if pieces else stages.inputs[i : i + 1])
        out.append(pieces[3] if pieces else probs[i : i + 1])
        rows += [stages.rows[i]] * n
        members += [stages.members[i]] * n
    split = replace(stages, boxes=boxes, rows=rows, crops=crops, inputs=np.concatenate(inputs),
                    members=members)
    return split, np.concatenate(out)


def make_result(
    path: str | None, stages: Stages, probs: np.ndarray, threshold: float = DEFAULT_THRESHOLD
) -> ImageResult:
    """Package the model's probabilities `probs` (N, 10) for the N digits `find_digits` found.

    Each digit gets its label, probability, top 3 and box in original-image pixels;
    the message says how many were read and how many are below `threshold`.
    """
    if not stages.boxes:
        dropped = sum(1 for c in stages.components if c.dropped)
        why = f" ({dropped} specks or lines ignored)" if dropped else ""
        return ImageResult(path, [], f"no digits found: the image looks blank{why}", stages)
    digits = []
    for box, row, x28, p in zip(stages.boxes, stages.rows, stages.inputs, probs, strict=True):
        top = np.argsort(p)[::-1][:3]
        digits.append(Digit(
            label=int(top[0]),
            probability=float(p[top[0]]),
            top3=[(int(d), float(p[d])) for d in top],
            bbox=stages.bbox_original(box),
            input=x28,
            low_confidence=bool(p[top[0]] < threshold),
            row=row,
            probs=np.asarray(p, np.float32),
        ))
    unsure = sum(d.low_confidence for d in digits)
    msg = f"{len(digits)} digit{'s' if len(digits) != 1 else ''} read"
    if unsure:
        msg += f", {unsure} with low confidence (< {threshold:.0%})"
    return ImageResult(path, digits, msg, stages)


#: `find_batch` starts a worker process (about a second) only for at least this many images.
MIN_PER_WORKER = 16


def usable_cores() -> int:
    """How many CPU cores this process may run on (its affinity, where the system tells it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def find_batch(
    images: Sequence[str | os.PathLike | np.ndarray], *, single: bool = True, workers: int | None = None
) -> list[Stages | ImageReadError]:
    """`find_digits` over many images (no model); an unreadable file gives its `ImageReadError`.

    The result can be classified by several models in turn (`classify_batch`): the image part
    of the pipeline, by far the slower one, then runs once. It runs in `workers` processes
    (by default one per CPU core this process may use, when there are `MIN_PER_WORKER` images
    for each); every image is read by itself, so the result is the same as in one process.
    Workers run the library as saved: a setting changed in this process (a module constant set
    in a notebook) does not reach them, so pass `workers=1` to try one.
    """
    if workers is None:
        workers = min(usable_cores(), len(images) // MIN_PER_WORKER)
    if workers <= 1:
        return [_find_or_error(image, single) for image in images]
    # "spawn": forking a process that runs TensorFlow's threads (a notebook's kernel) can hang.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        return list(pool.map(_find_or_error, images, itertools.repeat(single), chunksize=4))


def _find_or_error(image: str | os.PathLike | np.ndarray, single: bool) -> Stages | ImageReadError:
    try:
        return find_digits(image, single=single)
    except ImageReadError as exc:
        return exc


def classify_batch(
    images: Sequence[str | os.PathLike | np.ndarray],
    found: Sequence[Stages | ImageReadError],
    model: Model,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[ImageResult | ImageReadError]:
    """The results of `find_batch(images)`, every digit classified by `model` in one call."""
    inputs = [st.inputs for st in found if isinstance(st, Stages) and len(st.inputs)]
    probs = predict_proba(model, np.concatenate(inputs)) if inputs else np.zeros((0, 10))
    out: list[ImageResult | ImageReadError] = []
    k = 0
    for image, st in zip(images, found, strict=True):
        if isinstance(st, ImageReadError):
            out.append(st)
            continue
        n = len(st.inputs)
        name = None if isinstance(image, np.ndarray) else str(image)
        out.append(make_result(name, *classify(st, model, probs[k : k + n]), threshold))
        k += n
    return out


def read_batch(
    images: Sequence[str | os.PathLike | np.ndarray],
    model: Model,
    *,
    single: bool = True,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[ImageResult | ImageReadError]:
    """`read_digits` over many images, all their digits classified together (much faster than
    one model call per image). An unreadable file gives its `ImageReadError` in its place."""
    return classify_batch(images, find_batch(images, single=single), model, threshold)
