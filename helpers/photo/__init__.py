"""Read handwritten digits from photos and scans: bring each digit to MNIST's form, then classify.

An MNIST model has only ever seen 28×28 white-on-black digits, scaled so the
longer side of the digit fits a 20×20 box and centred by centre of mass. A
photo of pen on paper is none of that, so the pipeline rebuilds that form:

    read → gray → page (desk, frame edges left out) → polarity judged on the page
         → paper estimated a few pen strokes wide (shadows kept, ink removed) → ink map
         → ink mask → ruled and squared lines erased where they run past the digits
         → components (specks, lines, faint grain, page-edge and filled blobs dropped;
           broken digits merged; touching digits cut) → rows and reading order
         → per digit: stroke width matched to MNIST → 20×20 fit → 28×28 by centre of mass → model

One module per stage, in this order (a module imports only those before it):

- `image`: decode a file or array to BGR uint8, upright (EXIF), alpha flattened;
  refuse missing, empty, truncated and oversized files with `ImageReadError`.
- `ink`: the working-size copy, the ink's polarity, the ink map, thresholds and ink mask.
- `lines`: erase ruled lines, squared paper and margins from the mask, rejoining strokes they crossed.
- `page`: where the paper is, the pen's width, and the paper under shadows (`paper_background`).
- `segment`: connected blobs → digits (non-digits dropped, touching digits cut), in reading order.
- `rows`: digit boxes (`Box`) in rows of text and in reading order.
- `mnist_form`: one digit's ink → the 28×28 MNIST-form image (`to_mnist`).
- `whole`: a small CNN that tells one whole digit from a touching pair or a piece of a digit,
  trained from MNIST training digits on first use (TensorFlow loads only then).
- `split`: a wide group the checker finds not whole, read again as two digits where the model
  reads both pieces surely.
- `pipeline`: `find_digits` (all of the above, every stage kept), `classify`, `read_digits`,
  `read_batch` and `make_result` (the model's probabilities → `ImageResult`, with rows and text).
- `annotate`: draw the boxes and labels read onto the image, and save it.
- `synthetic`: the development set: photos of numbers and of blank pages made from MNIST
  *training* digits (imported on its own: `from helpers.photo import synthetic`).

`read_digits(path, model)` runs all of it; `find_digits(image)` runs the image
part only and keeps every intermediate stage for the notebook. The model is any
callable mapping (N, 28, 28) → (N, 10) probabilities, or a Keras or LiteRT model
(see `helpers.inference.predict_proba`); nothing here imports TensorFlow or pandas, except
`whole` when its checker must be trained.
Nothing here was tuned on the external photos or on the MNIST test set: the
settings come from MNIST *training* statistics and from the synthetic photos
(`benchmarks/photo_dev.py` measures them).
"""

from helpers.photo.annotate import annotate, write_annotated
from helpers.photo.image import IMAGE_SUFFIXES, MAX_PIXELS, ImageReadError, load_image, read_image
from helpers.photo.ink import detect_dark_ink, ink_map, ink_mask, polarity_votes, stroke_width
from helpers.photo.mnist_form import to_mnist
from helpers.photo.page import find_page, paper_background
from helpers.photo.pipeline import (
    DEFAULT_THRESHOLD,
    Digit,
    ImageResult,
    Stages,
    classify,
    classify_batch,
    find_batch,
    find_digits,
    make_result,
    read_batch,
    read_digits,
)
from helpers.photo.rows import Box, reading_order, text_rows
from helpers.photo.segment import Component, group_components

__all__ = [
    "DEFAULT_THRESHOLD",
    "IMAGE_SUFFIXES",
    "MAX_PIXELS",
    "Box",
    "Component",
    "Digit",
    "ImageReadError",
    "ImageResult",
    "Stages",
    "annotate",
    "classify_batch",
    "detect_dark_ink",
    "find_batch",
    "find_digits",
    "find_page",
    "group_components",
    "ink_map",
    "ink_mask",
    "load_image",
    "classify",
    "make_result",
    "paper_background",
    "polarity_votes",
    "read_batch",
    "read_digits",
    "read_image",
    "reading_order",
    "stroke_width",
    "text_rows",
    "to_mnist",
    "write_annotated",
]
