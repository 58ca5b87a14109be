"""Read handwritten digits from photos and scans: bring each digit to MNIST's form, then classify.

An MNIST model has only ever seen 28×28 white-on-black digits, scaled so the
longer side of the digit fits a 20×20 box and centred by centre of mass. A
photo of pen on paper is none of that, so the pipeline rebuilds that form:

    read → gray → ink map (lighting flattened, polarity found) → ink mask
         → components (specks, ruled lines, page edges dropped; broken digits merged)
         → one crop per digit (reading order) → stroke width matched to MNIST
         → 20×20 fit, anti-aliased → 28×28 by centre of mass → model

`read_digits(path, model)` runs all of it; `find_digits(image)` runs the
image part only and keeps every intermediate stage for the notebook.
Nothing here was tuned on the external photos or on the MNIST test set: the
settings come from MNIST *training* statistics and from synthetic photos.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from helpers import UserError, data

if TYPE_CHECKING:  # pandas is imported lazily: the CLI's `predict` must start fast
    import pandas as pd

#: File types `read_image` accepts (it decodes by content, so this is for folder scans).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
#: Photos are shrunk so their longest side is at most this before any work (speed).
MAX_SIDE = 1600
#: Tiny images (e.g. 28×28 drawings) are enlarged to this so every step works at one scale.
MIN_SIDE = 256
#: A digit whose top probability is below this is flagged `low_confidence`.
DEFAULT_THRESHOLD = 0.6
#: Decoded images above this many pixels are refused (decompression bombs).
MAX_PIXELS = 120_000_000

# MNIST's form, measured on 5,000 MNIST training images (never the test set): the digit's
# longer side is 20 px, its centre of mass sits at (row 14.0, col 14.0), and its
# stroke is 2.3 px wide (median; 10–90 % range 1.7–3.2 px) when thresholded at 0.5.
BOX = 20
CENTER = 14.0
MNIST_STROKE = 2.3
THIN_STROKE = 1.7  # thinner than MNIST's 10th percentile → thicken to MNIST_STROKE
THICK_STROKE = 3.2  # thicker than MNIST's 90th percentile → thin to MNIST_STROKE

EXTERNAL_ENV = "EXTERNAL_DIGITS_DIR"
DEFAULT_EXTERNAL = data.REPO_ROOT.parent / "shared" / "external-digits"

Box = tuple[int, int, int, int]  # x, y, w, h


class ImageReadError(UserError, ValueError):
    """An image file is missing, empty, truncated or not an image; the message names it."""


class ExternalSetError(UserError, FileNotFoundError):
    """The external-digits folder or one of its files is missing; the message says which."""


# ---------------------------------------------------------------- results


@dataclass
class Digit:
    """One digit read from an image."""

    label: int
    probability: float
    top3: list[tuple[int, float]]
    bbox: Box  # x, y, w, h in the original image's pixels (after EXIF rotation)
    input: np.ndarray = field(repr=False)  # the 28×28 float32 image the model saw
    low_confidence: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (without the 28×28 input)."""
        return {
            "label": self.label,
            "probability": round(self.probability, 4),
            "top3": [[d, round(p, 4)] for d, p in self.top3],
            "bbox": list(self.bbox),
            "low_confidence": self.low_confidence,
        }


@dataclass
class Component:
    """One connected blob of ink in the working image, and what became of it."""

    box: Box  # working-image pixels
    area: int
    dropped: str = ""  # "", "speck", "line" or "edge"


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
    crops: list[np.ndarray]  # per digit: ink crop after stroke-width matching (float 0..1)
    inputs: np.ndarray  # (N, 28, 28) float32: what the model sees

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
    def text(self) -> str:
        """The digits read, in reading order, as a string ("" when none)."""
        return "".join(str(d.label) for d in self.digits)

    def to_dict(self) -> dict[str, Any]:
        return {
            "image": self.path,
            "digits": [d.to_dict() for d in self.digits],
            "message": self.message,
        }


# ---------------------------------------------------------------- reading


def _check_complete(raw: bytes, name: str) -> None:
    """Refuse PNG and JPEG files that end early: decoders would half-fill them silently."""
    if raw[:8] == b"\x89PNG\r\n\x1a\n":
        if b"IEND" not in raw[-64:]:
            raise ImageReadError(f"{name}: truncated PNG (no IEND end marker)")
    # Some cameras append data after the end-of-image marker, so look near the end.
    elif raw[:3] == b"\xff\xd8\xff" and b"\xff\xd9" not in raw[-4096:]:
            raise ImageReadError(f"{name}: truncated JPEG (no end-of-image marker)")


def _header_info(path: Path) -> tuple[tuple[int, int] | None, int]:
    """(width, height) and EXIF orientation (1 = upright) from the header only, if Pillow can."""
    try:
        from PIL import Image  # imported here: Pillow is needed only for this peek

        with Image.open(path) as im:
            orientation = int(im.getexif().get(0x0112, 1) or 1)
            return im.size, orientation if 1 <= orientation <= 8 else 1
    except Exception:  # noqa: BLE001 - no header info is fine; OpenCV decides below
        return None, 1


def _apply_orientation(img: np.ndarray, orientation: int) -> np.ndarray:
    """Turn pixels as EXIF orientation says (the same result cv2.imread(IMREAD_COLOR) gives)."""
    if orientation == 2:
        return cv2.flip(img, 1)
    if orientation == 3:
        return cv2.rotate(img, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(img, 0)
    if orientation == 5:
        return cv2.transpose(img)
    if orientation == 6:
        return cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:  # transverse: mirrored across the anti-diagonal
        return cv2.flip(cv2.transpose(img), -1)
    if orientation == 8:
        return cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return img


def _to_uint8(img: np.ndarray) -> np.ndarray:
    """Any depth → uint8 (16-bit scans keep their full range; floats are stretched)."""
    if img.dtype == np.uint8:
        return img
    if img.dtype == np.uint16:
        return (img.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    f = img.astype(np.float32)
    f = np.nan_to_num(f, nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = float(f.min()), float(f.max())
    if lo >= 0.0 and hi <= 1.0:
        return (f * 255.0 + 0.5).astype(np.uint8)
    return ((f - lo) * (255.0 / max(hi - lo, 1e-6)) + 0.5).astype(np.uint8)


def _flatten_alpha(img: np.ndarray) -> np.ndarray:
    """BGRA → BGR with transparent pixels painted as paper.

    When little is opaque, the opaque pixels are the ink: the paper is whichever of
    white or black contrasts with them (white strokes on transparency get black
    paper). When most is opaque, the opaque part is the paper and its median colour
    fills the transparent rest.
    """
    bgr = img[..., :3].astype(np.float32)
    alpha = img[..., 3].astype(np.float32) / 255.0
    if alpha.min() >= 0.99:
        return img[..., :3].copy()
    opaque = alpha > 0.5
    if opaque.mean() >= 0.5:
        paper = np.median(bgr[opaque], axis=0)
    else:
        lum = (bgr @ np.array([0.114, 0.587, 0.299], np.float32)) * alpha
        ink_lum = lum.sum() / max(alpha.sum(), 1e-6)
        paper = np.full(3, 0.0 if ink_lum > 127 else 255.0, np.float32)
    out = bgr * alpha[..., None] + paper * (1.0 - alpha[..., None])
    return (out + 0.5).astype(np.uint8)


def load_image(
    path: str | os.PathLike, max_side: int | None = None
) -> tuple[np.ndarray, tuple[int, int]]:
    """Read an image file as BGR uint8, upright (EXIF), alpha flattened onto paper.

    Returns the image and the full (width, height) after rotation. With `max_side`,
    a large JPEG may be decoded at 1/2, 1/4 or 1/8 size (never below `max_side`),
    several times faster than decoding 12 MP only to shrink them. Raises
    `ImageReadError` with a one-line message naming the file.
    """
    p = Path(path)
    name = str(path)
    if not p.exists():
        raise ImageReadError(f"{name}: no such file")
    if p.is_dir():
        raise ImageReadError(f"{name}: is a folder, not an image")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ImageReadError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if not raw:
        raise ImageReadError(f"{name}: empty file (0 bytes)")
    _check_complete(raw, name)
    size, orientation = _header_info(p)
    if size and size[0] * size[1] > MAX_PIXELS:
        raise ImageReadError(f"{name}: image too large ({size[0]}×{size[1]} pixels)")
    buf = np.frombuffer(raw, np.uint8)
    img = None
    if max_side and size and raw[:3] == b"\xff\xd8\xff":
        factor = 1
        while factor < 8 and max(size) // (factor * 2) >= max_side:
            factor *= 2
        if factor > 1:
            flag = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
                    8: cv2.IMREAD_REDUCED_COLOR_8}[factor]
            img = cv2.imdecode(buf, flag | cv2.IMREAD_IGNORE_ORIENTATION)
    if img is None:
        try:
            img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        except cv2.error:
            img = None
    if img is None or img.size == 0:
        raise ImageReadError(
            f"{name}: not a readable image (PNG, JPEG, BMP, TIFF or WebP expected; "
            f"{len(raw):,} bytes starting {raw[:4]!r})"
        )
    full = size or (img.shape[1], img.shape[0])
    img = _to_uint8(img)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    elif img.shape[2] == 2:  # gray + alpha
        img = np.dstack([img[..., 0]] * 3 + [img[..., 1]])
    if img.shape[2] == 4:
        img = _flatten_alpha(img)
    img = np.ascontiguousarray(_apply_orientation(img, orientation))
    if orientation in (5, 6, 7, 8):
        full = (full[1], full[0])
    return img, (int(full[0]), int(full[1]))


def read_image(path: str | os.PathLike) -> np.ndarray:
    """The whole image at full size (BGR uint8, upright, alpha flattened); see `load_image`."""
    return load_image(path)[0]


# ---------------------------------------------------------------- working image


def _shrink(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Anti-aliased downsizing; halving first keeps INTER_AREA fast on 12 MP photos."""
    while img.shape[1] >= 2 * size[0] and img.shape[0] >= 2 * size[1]:
        img = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def _working(img: np.ndarray) -> tuple[np.ndarray, float]:
    """Resize so the longer side is in [MIN_SIDE, MAX_SIDE]; returns image and scale."""
    h, w = img.shape[:2]
    side = max(h, w)
    if side > MAX_SIDE:
        s = MAX_SIDE / side
        size = (max(1, round(w * s)), max(1, round(h * s)))
        return _shrink(img, size), size[0] / w
    if side < MIN_SIDE:
        s = MIN_SIDE / side
        size = (max(1, round(w * s)), max(1, round(h * s)))
        # Bilinear, not cubic: cubic overshoot would draw light halos around dark strokes.
        return cv2.resize(img, size, interpolation=cv2.INTER_LINEAR), size[0] / w
    return img, 1.0


def _odd(n: float) -> int:
    return max(3, int(n) // 2 * 2 + 1)


def _otsu_majority(img: np.ndarray) -> float:
    """+1 when every pixel is on the light side of an Otsu split, -1 when all are dark."""
    if img.max() == img.min():
        return 0.0
    t, _ = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return 2 * float((img > t).mean()) - 1


def detect_dark_ink(gray: np.ndarray) -> bool:
    """True for dark ink on light paper, False for light ink on dark (MNIST's polarity).

    The paper is the majority of the picture, and ink is what deviates from it.
    Shadows and thick strokes each fool one test, so three vote (on a 200 px copy):
    the majority side of Otsu after removing lighting by (1) a wide median, which
    keeps shadow edges sharp, and (2) a wide Gaussian; (3) whether the strong
    deviations from the median background are darker or lighter.
    """
    h, w = gray.shape
    f = 200 / max(h, w)
    small = cv2.resize(gray, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    median_bg = cv2.medianBlur(small, _odd(0.4 * max(small.shape))).astype(np.float32)
    d = small.astype(np.float32) - median_bg
    flat_median = np.clip(d + 128, 0, 255).astype(np.uint8)
    blur = cv2.GaussianBlur(small.astype(np.float32), (0, 0), 0.1 * max(small.shape))
    flat_gauss = np.clip(small - blur + 128, 0, 255).astype(np.uint8)
    sigma = 1.4826 * float(np.median(np.abs(d - np.median(d)))) + 1.0
    dark = float(np.clip(-d - 3 * sigma, 0, None).sum())
    light = float(np.clip(d - 3 * sigma, 0, None).sum())
    deviation = (dark - light) / (dark + light) if dark + light > 0 else 0.0
    return _otsu_majority(flat_median) + _otsu_majority(flat_gauss) + deviation >= 0


def ink_map(work: np.ndarray, dark_ink: bool) -> np.ndarray:
    """Ink strength 0..1 per pixel: the share by which a pixel is darker than its local paper.

    Lighting is removed by dividing by an estimate of the paper (for light-on-dark,
    the share of the way from the local background to white). The paper is
    estimated on a ~200 px copy by a grey opening with a kernel a fifth of the image:
    anything narrower than that — every pen stroke — is removed, smooth lighting
    and shadows stay. Per colour channel, then the strongest channel is kept, so a
    blue ballpoint on white is as clear as black ink (and black ink on yellow
    paper is not lost, as taking the minimum channel would).
    """
    ink_bright = work if not dark_ink else 255 - work
    h, w = ink_bright.shape[:2]
    f = min(1.0, 200 / max(h, w))
    small = cv2.resize(ink_bright, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (3, 3), 0)
    k = _odd(0.2 * max(small.shape[:2]))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    bg_small = cv2.morphologyEx(small, cv2.MORPH_OPEN, kernel)
    # Only a light blur: a wide one would smear shadow edges into bands of false ink.
    bg_small = cv2.GaussianBlur(bg_small, (0, 0), 1.5)
    bg = cv2.resize(bg_small, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    if bg.ndim == 2:
        bg = bg[..., None]
    x = ink_bright.astype(np.float32).reshape(h, w, -1)
    # Paper darker than ~1/8 of white (a table, a black canvas) gives no ratio worth trusting.
    ratio = (x - bg) / np.maximum(255.0 - bg, 32.0)
    return np.clip(ratio.max(axis=2), 0.0, 1.0)


def ink_mask(ink: np.ndarray) -> np.ndarray:
    """Binary ink mask (uint8 0/255) by Otsu with a noise floor, grown by hysteresis.

    The threshold is Otsu's, but never below 6 noise-sigmas of the paper or 0.1
    (10 % darker than the paper): on blank paper Otsu would split the noise.
    Pixels above half the threshold are kept when they touch a pixel above it,
    so faint pen strokes stay in one piece.
    """
    u8 = (ink * 255.0 + 0.5).astype(np.uint8)
    otsu, _ = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # Noise is measured on the paper side of Otsu: thick strokes can cover most of a crop.
    paper = ink[u8 <= otsu]
    med = float(np.median(paper)) if paper.size else 0.0
    sigma = 1.4826 * float(np.median(np.abs(paper - med))) if paper.size else 0.0
    t = max(otsu / 255.0, med + 6 * sigma, 0.1)
    high = ink >= t
    if not high.any():
        return np.zeros(ink.shape, np.uint8)
    low = (ink >= max(t / 2, med + 3 * sigma, 0.05)).astype(np.uint8)
    n, labels = cv2.connectedComponents(low, connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[high])] = True
    keep[0] = False
    return (keep[labels] * 255).astype(np.uint8)


# ---------------------------------------------------------------- components


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


def _remove_long_lines(mask: np.ndarray) -> np.ndarray:
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


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return min(a1, b1) - max(a0, b0)


def _gap(a: Box, b: Box) -> float:
    """Distance between two boxes (0 when they touch or overlap)."""
    dx = max(0, -_overlap(a[0], a[0] + a[2], b[0], b[0] + b[2]))
    dy = max(0, -_overlap(a[1], a[1] + a[3], b[1], b[1] + b[3]))
    return math.hypot(dx, dy)


def _union(a: Box, b: Box) -> Box:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return x0, y0, x1 - x0, y1 - y0


def _same_digit(a: Box, b: Box, height: float) -> bool:
    """Pieces of one broken digit: overlapping strongly in x, close in y, together no taller
    than a digit (`height`: typical digit height), so two rows of digits stay apart."""
    ov = _overlap(a[0], a[0] + a[2], b[0], b[0] + b[2])
    if ov < 0.6 * min(a[2], b[2]):
        return False
    gap = -_overlap(a[1], a[1] + a[3], b[1], b[1] + b[3])  # < 0 when they overlap in y
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


def reading_order(boxes: Sequence[Box]) -> list[int]:
    """Indices of `boxes` in reading order: rows top to bottom, left to right within a row.

    A box joins a row when it overlaps the row's vertical band by at least half
    of the smaller height, so slightly uneven handwriting stays on one row.
    """
    order = sorted(range(len(boxes)), key=lambda i: boxes[i][1] + boxes[i][3] / 2)
    rows: list[list[int]] = []
    bands: list[tuple[int, int]] = []
    for i in order:
        x, y, w, h = boxes[i]
        for r, (top, bottom) in enumerate(bands):
            if _overlap(top, bottom, y, y + h) >= 0.5 * min(h, bottom - top):
                rows[r].append(i)
                bands[r] = (min(top, y), max(bottom, y + h))
                break
        else:
            rows.append([i])
            bands.append((y, y + h))
    rows_sorted = sorted(range(len(rows)), key=lambda r: sum(bands[r]) / 2)
    return [i for r in rows_sorted for i in sorted(rows[r], key=lambda i: boxes[i][0])]


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


def group_components(
    comps: list[Component], labels: np.ndarray, single: bool = False
) -> tuple[list[Box], list[list[int]]]:
    """Drop specks, lines and page edges (marking `comps`), then gather the rest into digits.

    Returns digit boxes in reading order and, per digit, the indices of its components.
    With `single=True` (the caller knows the image holds one digit) the largest
    blob and every piece near it become that digit; far-off specks are ignored.
    """
    H, W = labels.shape
    min_area = max(6, 2e-5 * H * W)
    for c in comps:
        if c.area < min_area:
            c.dropped = "speck"
    live = [i for i, c in enumerate(comps) if not c.dropped]
    # Only long blobs can be lines; measure how straight and thin those are.
    elong = {i: _elongation(labels, i + 1, comps[i].box) if max(comps[i].box[2:]) > 0.4 * min(H, W)
             else 1.0 for i in live}
    ref = max((comps[i].box[3] for i in live if not _is_line(comps[i], W, H, 1e-9, elong[i])),
              default=0)
    for i in live:
        comps[i].dropped = _is_line(comps[i], W, H, ref, elong[i])
    live = [i for i, c in enumerate(comps) if not c.dropped]
    # Shadows, table corners and page margins show up as wide blobs at the picture's
    # edge: far thicker than the pen strokes found away from the edge.
    # A blob lying along a side of the picture (a page edge, a strip of table) is also
    # dropped; both only when something else is left to be the digit.
    # "Something else" must be big enough to be a digit itself (a tenth of the picture's
    # height or width), so a speck inside a tight crop never displaces the digit.
    edge = {i for i in live if _touches_edge(comps[i].box, W, H)}
    inner = [i for i in live if i not in edge]
    biggest = max((comps[i].area for i in inner), default=0)
    inner = [_blob_stroke(labels, i + 1, comps[i].box) for i in inner if comps[i].area >= 0.05 * biggest
             and max(comps[i].box[2:]) >= 0.1 * min(H, W)]
    if inner:
        pen = float(np.median(inner))
        for i in edge:
            if (_blob_stroke(labels, i + 1, comps[i].box) >= 2 * pen
                    or _border_contact(labels, i + 1) >= 0.2):
                comps[i].dropped = "edge"
        live = [i for i, c in enumerate(comps) if not c.dropped]
    if not live:
        return [], []
    if single:
        # The digit is the biggest blob, preferring blobs clear of the picture's edge
        # (page edges, shadows and table corners touch it; a tight crop has nothing else).
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
                if (_overlap(box[0] - pad, box[0] + box[2] + pad, x, x + w) > 0
                        and _overlap(box[1] - pad, box[1] + box[3] + pad, y, y + h) > 0):
                    box, members, changed = _union(box, comps[i].box), members + [i], True
        for i in live:
            if i not in members:
                comps[i].dropped = "speck"
        return [box], [members]
    # Typical digit height: the tall end of the substantial blobs (pieces of broken
    # digits are shorter, so the 75th percentile rather than the median).
    big = max(comps[i].area for i in live)
    height = float(np.percentile([comps[i].box[3] for i in live if comps[i].area >= 0.1 * big], 75))
    boxes, members = _merge_groups([comps[i].box for i in live], [[i] for i in live],
                                   lambda a, b: _same_digit(a, b, height))
    # Small fragments (a 5's loose bar, bits of a faint stroke) join the nearest digit.
    frag = [k for k, b in enumerate(boxes) if b[3] < 0.5 * height and b[2] < 0.8 * height]
    whole = [k for k in range(len(boxes)) if k not in frag]
    for k in frag:
        near = [(_gap(boxes[k], boxes[j]), j) for j in whole]
        if near and min(near)[0] <= 0.3 * height:
            j = min(near)[1]
            boxes[j] = _union(boxes[j], boxes[k])
            members[j] += members[k]
            members[k] = []
    boxes = [b for b, m in zip(boxes, members, strict=True) if m]
    members = [m for m in members if m]
    tallest = max(b[3] for b in boxes)
    keep = []
    for k, (b, m) in enumerate(zip(boxes, members, strict=True)):
        # Much smaller than the tallest digit in both directions: a speck or a stray mark.
        if max(b[2], b[3]) < 0.3 * tallest or max(b[2], b[3]) < 8:
            for i in m:
                comps[i].dropped = "speck"
        else:
            keep.append(k)
    boxes, members = [boxes[k] for k in keep], [members[k] for k in keep]
    order = reading_order(boxes)
    return [boxes[k] for k in order], [members[k] for k in order]


# ---------------------------------------------------------------- MNIST form


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width of a binary mask: 2·area / perimeter (exact for long strokes)."""
    m = (mask > 0).astype(np.uint8)
    area = int(m.sum())
    if area == 0:
        return 0.0
    contours, _ = cv2.findContours(m, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return 2.0 * area / perimeter if perimeter > 0 else 1.0


def _tight(img: np.ndarray, level: float = 0.0) -> np.ndarray:
    ys, xs = np.nonzero(img > level)
    if len(ys) == 0:
        return img[:0, :0]
    return img[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def match_stroke(ink: np.ndarray) -> np.ndarray:
    """Thicken (or thin) strokes so that, once fitted to 20 px, they are as wide as MNIST's.

    A ballpoint line on a large photo becomes a hairline when the digit shrinks to
    20 px; MNIST strokes are 1.7–3.2 px there (10th–90th percentile). Outside that
    range, a grey dilation (or erosion) by the missing width brings the stroke to
    MNIST's median, 2.3 px. Solving for the width gain Δ accounts for the box
    growing by Δ too: (w + Δ)·20 / (L + Δ) = 2.3.
    """
    L = max(ink.shape)
    w = stroke_width(ink >= 0.5)
    if L == 0 or w == 0:
        return ink
    now = w * BOX / L
    if THIN_STROKE <= now <= THICK_STROKE:
        return ink
    delta = (MNIST_STROKE * L / BOX - w) / (1 - MNIST_STROKE / BOX)
    k = 2 * int(round(abs(delta) / 2)) + 1
    if k < 3:
        return ink
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    if delta > 0:
        pad = k
        padded = cv2.copyMakeBorder(ink, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
        return _tight(cv2.dilate(padded, kernel))
    thinner = cv2.erode(ink, kernel)
    # Never erode a digit away: thick marker on a small crop can have hairline joins.
    return _tight(thinner) if (thinner >= 0.5).sum() >= 0.3 * (ink >= 0.5).sum() else ink


def to_mnist(ink: np.ndarray, match_strokes: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """One digit's ink (float, 0 = paper, 1 = full ink) → (28×28 MNIST-form image, matched crop).

    As MNIST was made: the digit's longer side is scaled to 20 px keeping the
    aspect ratio, anti-aliased, then the 20×20 box is placed in 28×28 so that its
    centre of mass lands on the centre, (14, 14).
    """
    out = np.zeros((28, 28), np.float32)
    crop = _tight(np.asarray(ink, np.float32), 0.02)
    if crop.size == 0:
        return out, crop
    L = max(crop.shape)
    if L < 64:  # room for stroke matching on tiny inputs (USPS is 16×16)
        f = 64 / L
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * f)), max(1, round(crop.shape[0] * f))),
                          interpolation=cv2.INTER_LINEAR)
    if match_strokes:
        crop = match_stroke(crop)
    h, w = crop.shape
    s = BOX / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA).clip(0, 1)
    if small.max() <= 0:
        return out, crop
    small /= small.max()  # MNIST's strokes reach full white
    ys, xs = np.mgrid[0 : small.shape[0], 0 : small.shape[1]]
    mass = small.sum()
    cy, cx = (ys * small).sum() / mass, (xs * small).sum() / mass
    top = int(np.clip(round(CENTER - cy), 0, 28 - small.shape[0]))
    left = int(np.clip(round(CENTER - cx), 0, 28 - small.shape[1]))
    out[top : top + small.shape[0], left : left + small.shape[1]] = small
    return out, crop


def _digit_ink(ink: np.ndarray, labels: np.ndarray, ids: list[int], box: Box) -> np.ndarray:
    """The digit's own ink in its box: other blobs blanked, the core scaled to 1."""
    x, y, w, h = box
    pad = 2
    H, W = ink.shape
    x0, y0, x1, y1 = max(0, x - pad), max(0, y - pad), min(W, x + w + pad), min(H, y + h + pad)
    lab = labels[y0:y1, x0:x1]
    own = np.isin(lab, ids).astype(np.uint8)
    # Keep the soft anti-aliased rim just outside the mask, as MNIST's grey edges.
    own = cv2.dilate(own, np.ones((3, 3), np.uint8))
    crop = ink[y0:y1, x0:x1] * own
    core = crop[np.isin(lab, ids)]
    level = float(np.percentile(core, 75)) if core.size else 1.0
    return np.clip(crop / max(level, 1e-3), 0.0, 1.0)


# ---------------------------------------------------------------- the pipeline


def find_digits(image: str | os.PathLike | np.ndarray, single: bool = False) -> Stages:
    """Run the image part of the pipeline (no model); every stage is kept.

    `image` is a file path or an array (grayscale, BGR or BGRA as OpenCV uses).
    """
    if isinstance(image, np.ndarray):
        img = _to_uint8(image)
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        elif img.shape[2] == 4:
            img = _flatten_alpha(img)
        full = (img.shape[1], img.shape[0])
    else:
        img, full = load_image(image, max_side=MAX_SIDE)
    work, s = _working(img)
    scale = s * img.shape[1] / full[0]  # working pixels per original pixel
    gray = cv2.cvtColor(work, cv2.COLOR_BGR2GRAY)
    empty = np.zeros(gray.shape, np.uint8)
    if min(img.shape[:2]) < 4 or int(gray.max()) - int(gray.min()) < 8:
        # A dot, or one flat colour (all white, all black): nothing to find.
        return Stages(img, full, scale, gray, True, empty.astype(np.float32), empty, [], [], [],
                      np.zeros((0, 28, 28), np.float32))
    dark = detect_dark_ink(gray)
    ink = ink_map(work, dark)
    mask = _remove_long_lines(ink_mask(ink))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    comps = [Component(tuple(int(v) for v in stats[i, :4]), int(stats[i, 4])) for i in range(1, n)]
    boxes, members = group_components(comps, labels, single=single)
    crops, inputs = [], []
    for box, m in zip(boxes, members, strict=True):
        x28, crop = to_mnist(_digit_ink(ink, labels, [i + 1 for i in m], box))
        crops.append(crop)
        inputs.append(x28)
    arr = np.stack(inputs) if inputs else np.zeros((0, 28, 28), np.float32)
    return Stages(img, full, scale, gray, dark, ink, mask, comps, boxes, crops, arr)


Model = Any  # a Keras model, or any callable mapping (N, 28, 28) → (N, 10) probabilities


def predict_proba(model: Model, x: np.ndarray) -> np.ndarray:
    """Class probabilities for MNIST-form images, from a Keras model or a plain callable."""
    x = np.asarray(x, np.float32)
    if len(x) == 0:
        return np.zeros((0, 10), np.float32)
    if hasattr(model, "predict") and hasattr(model, "layers"):
        from helpers import training  # TensorFlow loads only when a Keras model is used

        return np.asarray(training.predict_proba(model, x))
    return np.asarray(model(x))


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
    stages = find_digits(image, single=single)
    return _result(path, stages, predict_proba(model, stages.inputs), threshold)


def _result(
    path: str | None, stages: Stages, probs: np.ndarray, threshold: float = DEFAULT_THRESHOLD
) -> ImageResult:
    """Package the model's probabilities for the digits `find_digits` found."""
    if not stages.boxes:
        dropped = sum(1 for c in stages.components if c.dropped)
        why = f" ({dropped} specks or lines ignored)" if dropped else ""
        return ImageResult(path, [], f"no digits found: the image looks blank{why}", stages)
    digits = []
    for box, x28, p in zip(stages.boxes, stages.inputs, probs, strict=True):
        top = np.argsort(p)[::-1][:3]
        digits.append(Digit(
            label=int(top[0]),
            probability=float(p[top[0]]),
            top3=[(int(d), float(p[d])) for d in top],
            bbox=stages.bbox_original(box),
            input=x28,
            low_confidence=bool(p[top[0]] < threshold),
        ))
    unsure = sum(d.low_confidence for d in digits)
    msg = f"{len(digits)} digit{'s' if len(digits) != 1 else ''} read"
    if unsure:
        msg += f", {unsure} with low confidence (< {threshold:.0%})"
    return ImageResult(path, digits, msg, stages)


def annotate(result: ImageResult) -> np.ndarray:
    """A copy of the image with each digit's box and label (red when low confidence)."""
    if result.stages is None:
        raise ValueError("annotate needs the stages kept by read_digits")
    st = result.stages
    img = st.original.copy()
    # The image may have been decoded at reduced size: map full-image boxes onto it.
    f = img.shape[1] / st.size[0]
    thick = max(1, round(max(img.shape[:2]) / 400))
    for d in result.digits:
        x, y, w, h = (round(v * f) for v in d.bbox)
        colour = (0, 0, 255) if d.low_confidence else (0, 170, 0)
        cv2.rectangle(img, (x, y), (x + w, y + h), colour, thick)
        text = f"{d.label} {d.probability:.0%}"
        # Text about as wide as the box (but legible), above it or, at the top edge, below.
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 1.0, thick)
        size = float(np.clip(1.2 * w / tw, 0.35, max(0.35, max(img.shape[:2]) / 500)))
        ty = y - 4 if y - 4 >= th * size else min(img.shape[0] - 2, y + h + int(th * size) + 4)
        cv2.putText(img, text, (x, ty), cv2.FONT_HERSHEY_SIMPLEX, size, colour, thick, cv2.LINE_AA)
    return img


def write_annotated(
    result: ImageResult, out_dir: str | os.PathLike, avoid: set[Path] | None = None
) -> Path:
    """Write `annotate(result)` as `out_dir/<name>.annotated.png` (temp file, then rename).

    Names in `avoid` (written earlier in the same run) get a numbered suffix instead.
    """
    folder = Path(out_dir)
    stem = Path(result.path).stem if result.path else "image"
    target = folder / f"{stem}.annotated.png"
    k = 2
    while avoid and target in avoid:
        target = folder / f"{stem}.{k}.annotated.png"
        k += 1
    ok, buf = cv2.imencode(".png", annotate(result))
    if not ok:
        raise OSError(f"{target}: PNG encoding failed")
    data.atomic_write(target, buf.tobytes())
    return target


# ---------------------------------------------------------------- fast start for the CLI


class UnsupportedModel(Exception):
    """A .keras file `NumpyModel` cannot run (an unknown layer or a branching graph)."""


def _act(x: np.ndarray, name: str) -> np.ndarray:
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise UnsupportedModel(f"activation {name!r}")


def _conv2d(x: np.ndarray, k: np.ndarray, padding: str) -> np.ndarray:
    """Stride-1 2-D convolution (channels last) by sliding windows and one matrix product."""
    kh, kw = k.shape[:2]
    if padding == "same":
        x = np.pad(x, ((0, 0), ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))  # N,H,W,C,kh,kw
    return np.einsum("nhwcij,ijcd->nhwd", win, k, optimize=True)


class NumpyModel:
    """Inference-only NumPy forward pass of this project's Keras models (a .keras file).

    `python -m helpers predict` must answer in seconds from a cold start, and
    importing TensorFlow alone takes longer than that on a busy 2-core machine.
    The networks here are small chains of standard layers, so reading the saved
    weights with h5py and running them in NumPy gives the same probabilities
    (to ~1e-6; tests/test_external.py checks it) without loading TensorFlow.
    Anything else raises `UnsupportedModel`, and the caller falls back to Keras.
    """

    IDENTITY = {"InputLayer", "Dropout", "SpatialDropout2D", "GaussianNoise", "RandomRotation",
                "RandomTranslation", "RandomZoom", "RandomFlip", "RandomContrast"}

    def __init__(self, steps: list[tuple[str, dict, list[np.ndarray]]], name: str = "model") -> None:
        self.steps = steps
        self.name = name

    @classmethod
    def load(cls, path: str | os.PathLike) -> NumpyModel:
        import io
        import json
        import zipfile

        import h5py

        with zipfile.ZipFile(path) as z:
            config = json.loads(z.read("config.json"))
            weights = io.BytesIO(z.read("model.weights.h5"))
        if config.get("class_name") not in ("Functional", "Sequential"):
            raise UnsupportedModel(f"model class {config.get('class_name')}")
        by_name: dict[str, list[np.ndarray]] = {}
        with h5py.File(weights, "r") as h5:
            for group in h5["layers"].values():
                vars_ = group.get("vars")
                if vars_ is not None and "name" in vars_.attrs:
                    n = len(vars_)
                    by_name[str(vars_.attrs["name"])] = [np.asarray(vars_[str(i)]) for i in range(n)]
        steps, previous = [], None
        for layer in config["config"]["layers"]:
            kind, cfg = layer["class_name"], layer["config"]
            inbound = [a["config"]["keras_history"][0] for node in layer.get("inbound_nodes", [])
                       for a in node.get("args", []) if isinstance(a, dict) and "config" in a]
            if previous is not None and inbound != [previous]:
                raise UnsupportedModel(f"layer {layer['name']} is not a simple chain")
            if kind not in cls.IDENTITY | {"Flatten", "Dense", "BatchNormalization", "Activation",
                                           "Reshape", "Conv2D", "MaxPooling2D", "GlobalAveragePooling2D"}:
                raise UnsupportedModel(f"layer type {kind}")
            if kind == "Conv2D" and (tuple(cfg.get("strides", (1, 1))) != (1, 1)
                                     or tuple(cfg.get("dilation_rate", (1, 1))) != (1, 1)
                                     or cfg.get("groups", 1) != 1):
                raise UnsupportedModel("strided, dilated or grouped convolution")
            if cfg.get("data_format", "channels_last") != "channels_last":
                raise UnsupportedModel("channels_first")
            steps.append((kind, cfg, by_name.get(layer["name"], [])))
            previous = layer["name"]
        return cls(steps, name=config["config"].get("name", "model"))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        for kind, cfg, w in self.steps:
            if kind in self.IDENTITY:
                continue
            if kind == "Flatten":
                x = x.reshape(len(x), -1)
            elif kind == "Reshape":
                x = x.reshape(len(x), *cfg["target_shape"])
            elif kind == "Dense":
                x = x @ w[0] + (w[1] if cfg.get("use_bias", True) else 0)
                x = _act(x, cfg.get("activation", "linear"))
            elif kind == "Conv2D":
                x = _conv2d(x, w[0], cfg.get("padding", "valid"))
                x = x + (w[1] if cfg.get("use_bias", True) else 0)
                x = _act(x, cfg.get("activation", "linear"))
            elif kind == "BatchNormalization":
                if cfg.get("axis", -1) not in (-1, [-1], x.ndim - 1):
                    raise UnsupportedModel("batch norm over a non-last axis")
                it = iter(w)
                gamma = next(it) if cfg.get("scale", True) else 1.0
                beta = next(it) if cfg.get("center", True) else 0.0
                mean, var = next(it), next(it)
                x = (x - mean) / np.sqrt(var + cfg.get("epsilon", 1e-3)) * gamma + beta
            elif kind == "Activation":
                x = _act(x, cfg["activation"])
            elif kind == "MaxPooling2D":
                ph, pw = cfg.get("pool_size", (2, 2))
                if tuple(cfg.get("strides") or (ph, pw)) != (ph, pw) or cfg.get("padding") != "valid":
                    raise UnsupportedModel("overlapping or padded pooling")
                n, h, wd, c = x.shape
                x = x[:, : h - h % ph, : wd - wd % pw]
                x = x.reshape(n, h // ph, ph, wd // pw, pw, c).max(axis=(2, 4))
            elif kind == "GlobalAveragePooling2D":
                x = x.mean(axis=(1, 2))
        return x.astype(np.float32)


def _models_dir() -> Path:
    # Mirrors training.models_dir() without importing TensorFlow (checked by a test).
    return Path(os.environ.get("MNIST_MODELS_DIR") or data.REPO_ROOT / "data" / "models")


_CHOICE_CACHE = ".predict-choice.json"


def _fingerprint() -> dict[str, list[int]]:
    """Size and mtime of every model file and of the code that decides which model is current."""
    files = sorted(_models_dir().glob("*.keras")) + sorted(_models_dir().glob("*.json"))
    code = [data.REPO_ROOT / "helpers" / f for f in ("training.py", "models.py", "augment.py")]
    out = {}
    for f in files + code:
        if f.is_file() and f.name != _CHOICE_CACHE:
            st = f.stat()
            out[str(f)] = [st.st_size, st.st_mtime_ns]
    return out


def _remember_choice(names: dict[str, str]) -> None:
    """Record which model names were current (and which was best) for the next cold start."""
    import json

    try:
        record = {"fingerprint": _fingerprint(), "names": names}
        data.atomic_write(_models_dir() / _CHOICE_CACHE, json.dumps(record).encode())
    except OSError:
        pass  # a read-only cache only costs speed


def _fast_model(name_or_path: str | None) -> Model | None:
    """The model without TensorFlow when that gives exactly what `load_model` would, else None.

    A path to a .keras file is loaded directly. A name, or the default, is resolved
    through the record `load_model` left last time, valid only while no model file
    and no training code has changed since (so a stale model is never used).
    """
    import json

    try:
        if name_or_path and name_or_path.endswith(".keras") and Path(name_or_path).is_file():
            return NumpyModel.load(name_or_path)
        record = json.loads((_models_dir() / _CHOICE_CACHE).read_text())
        if record.get("fingerprint") != _fingerprint():
            return None
        path = record["names"].get(name_or_path or "<default>")
        return NumpyModel.load(path) if path else None
    except (OSError, ValueError, KeyError, UnsupportedModel, ImportError):
        return None


# ---------------------------------------------------------------- command line


def load_model(name_or_path: str | None = None, fast: bool = False) -> Model:
    """A trained model for reading photos: by name or path, default the best on validation.

    Missing recipe models are trained on first use (`training.get_model`). With
    `fast`, the same model may come back as a `NumpyModel` (no TensorFlow import).
    """
    if fast and (model := _fast_model(name_or_path)) is not None:
        return model
    from helpers import training  # TensorFlow loads here, only when a model is needed

    name = name_or_path or training.best_model_name()
    model = training.get_model(name)
    if fast:
        current = {n: str(training.model_path(n)) for n in training.RECIPES if training.is_current(n)}
        if training.best_model_name() in current:
            current["<default>"] = current[training.best_model_name()]
        _remember_choice(current)
    return model


def predict_files(
    images: Sequence[str | os.PathLike],
    model_name: str | None = None,
    *,
    as_json: bool = False,
    annotate_dir: str | os.PathLike | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    single: bool = False,
    out: Any = None,
    err: Any = None,
) -> int:
    """`python -m helpers predict`: read each image, print what was read; 1 if any file failed.

    A bad file gives one line on stderr naming it and the others are still read.
    The model is loaded only once an image has digits to classify.
    """
    import json
    import sys

    out, err = out or sys.stdout, err or sys.stderr
    model = None
    failed = False
    records: list[dict[str, Any]] = []
    written: set[Path] = set()
    for image in images:
        try:
            stages = find_digits(image, single=single)
        except ImageReadError as exc:
            print(f"error: {exc}", file=err, flush=True)
            records.append({"image": str(image), "error": str(exc)})
            failed = True
            continue
        if stages.boxes and model is None:
            model = load_model(model_name, fast=True)
        probs = predict_proba(model, stages.inputs) if stages.boxes else np.zeros((0, 10))
        result = _result(str(image), stages, probs, threshold)
        record = result.to_dict()
        if annotate_dir is not None:
            target = write_annotated(result, annotate_dir, avoid=written)
            written.add(target)
            record["annotated"] = str(target)
        records.append(record)
        if not as_json:
            print(_describe(result, record.get("annotated")), file=out, flush=True)
    if as_json:
        print(json.dumps(records, indent=1), file=out)
    return 1 if failed else 0


def _describe(result: ImageResult, annotated: str | None = None) -> str:
    """Text report of one image: the digits read, then one line per digit."""
    head = f"{result.path}: {result.text or '-'}  ({result.message})"
    lines = [head]
    for d in result.digits:
        top3 = ", ".join(f"{k} {p:.1%}" for k, p in d.top3)
        flag = "  LOW CONFIDENCE" if d.low_confidence else ""
        x, y, w, h = d.bbox
        lines.append(f"  {d.label}  {d.probability:6.1%}   top-3: {top3}   box x={x} y={y} w={w} h={h}{flag}")
    if annotated:
        lines.append(f"  annotated copy: {annotated}")
    return "\n".join(lines)


# ---------------------------------------------------------------- the external test set


def external_root(root: str | os.PathLike | None = None) -> Path:
    """The external-digits folder: the argument, else $EXTERNAL_DIGITS_DIR, else ../shared/external-digits."""
    if root is not None:
        return Path(root)
    return Path(os.environ.get(EXTERNAL_ENV) or DEFAULT_EXTERNAL)


def load_external_set(root: str | os.PathLike | None = None) -> pd.DataFrame:
    """The index of real handwritten digits (labels.csv), with a `file` column of full paths.

    Columns: path, label, source_repo, source_path, kind, notes, file. Labels come
    from the `label` column, never from file names.
    """
    import pandas as pd

    folder = external_root(root)
    csv = folder / "labels.csv"
    if not csv.is_file():
        raise ExternalSetError(f"{csv}: no such file (set ${EXTERNAL_ENV} to the external-digits folder)")
    df = pd.read_csv(csv)
    missing = {"path", "label", "kind"} - set(df.columns)
    if missing:
        raise ValueError(f"{csv}: missing columns {', '.join(sorted(missing))}")
    df["label"] = df["label"].astype(int)
    df["file"] = [str(folder / p) for p in df["path"]]
    return df


def read_batch(
    images: Sequence[str | os.PathLike | np.ndarray],
    model: Model,
    *,
    single: bool = True,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[ImageResult | ImageReadError]:
    """`read_digits` over many images with one model call (much faster than one call each)."""
    found: list[Stages | ImageReadError] = []
    for image in images:
        try:
            found.append(find_digits(image, single=single))
        except ImageReadError as exc:
            found.append(exc)
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
        out.append(_result(name, st, probs[k : k + n], threshold))
        k += n
    return out


def evaluate_external(
    model: Model, root: str | os.PathLike | None = None, threshold: float = DEFAULT_THRESHOLD
) -> pd.DataFrame:
    """Read every labelled image of the external set; one row per image.

    Each image holds one digit, so it is read in single-digit mode: the largest
    blob clear of the edges plus the pieces near it. Columns: path, label, kind,
    predicted (-1 when nothing was found or the file was unreadable), probability,
    correct, low_confidence, top3, note.
    """
    import pandas as pd

    df = load_external_set(root)
    results = read_batch(list(df["file"]), model, single=True, threshold=threshold)
    rows = []
    for (_, row), res in zip(df.iterrows(), results, strict=True):
        if isinstance(res, ImageReadError) or not res.digits:
            note = str(res) if isinstance(res, ImageReadError) else res.message
            pred, prob, top3, low = -1, 0.0, [], True
        else:
            d = res.digits[0]
            note, pred, prob, top3, low = "", d.label, d.probability, d.top3, d.low_confidence
        rows.append({
            "path": row["path"], "label": int(row["label"]), "kind": row["kind"],
            "predicted": pred, "probability": prob, "correct": pred == int(row["label"]),
            "low_confidence": low or prob < threshold, "top3": top3, "note": note,
        })
    return pd.DataFrame(rows)


@dataclass
class ExternalSummary:
    """Accuracy of an external evaluation, overall and broken down."""

    n: int
    accuracy: float
    per_kind: pd.DataFrame  # accuracy and count per kind
    per_label: pd.DataFrame  # accuracy and count per true label
    failures: pd.DataFrame  # the rows read wrong

    def __str__(self) -> str:
        def rows(t: pd.DataFrame) -> list[str]:
            return [f"  {k!s:<8} {r.accuracy:6.1%}  ({int(r.correct)}/{int(r.n)})" for k, r in t.iterrows()]

        lines = [f"external digits: {self.accuracy:.1%} of {self.n} images read correctly", ""]
        lines += ["per kind:", *rows(self.per_kind), "", "per label:", *rows(self.per_label)]
        lines += ["", f"failures ({len(self.failures)}):"]
        for _, r in self.failures.iterrows():
            got = "nothing found" if r.predicted < 0 else f"read {r.predicted} ({r.probability:.0%})"
            lines.append(f"  {r.path}  label {r.label}, {got}  [{r.kind}]")
        return "\n".join(lines)


def summarize_external(results: pd.DataFrame) -> ExternalSummary:
    """Overall, per-kind and per-label accuracy, and the failures, of `evaluate_external`'s table."""

    def table(by: str):
        t = results.groupby(by)["correct"].agg(["mean", "sum", "size"])
        return t.rename(columns={"mean": "accuracy", "sum": "correct", "size": "n"})

    return ExternalSummary(
        n=len(results),
        accuracy=float(results["correct"].mean()) if len(results) else float("nan"),
        per_kind=table("kind"),
        per_label=table("label"),
        failures=results[~results["correct"]].reset_index(drop=True),
    )


# ---------------------------------------------------------------- USPS


def usps_to_mnist(x: np.ndarray) -> np.ndarray:
    """USPS rows (N, 256) in −1…1 (ink +1) → (N, 28, 28) float32 in MNIST's form.

    The same normalization as for photos: ink crop, stroke width matched, longer
    side fitted to 20 px, centre of mass at (14, 14).
    """
    ink = (np.asarray(x, np.float32).reshape(-1, 16, 16) + 1.0) / 2.0  # 0 = paper, 1 = ink
    if len(ink) == 0:
        return np.zeros((0, 28, 28), np.float32)
    return np.stack([to_mnist(np.clip(im, 0, 1))[0] for im in ink])


def load_usps(
    root: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """USPS (7,291 train + 2,007 test) in MNIST's form: x_train, y_train, x_test, y_test.

    Images are float32 (N, 28, 28) in [0, 1], white ink on black; labels uint8.
    """
    from scipy.io import loadmat

    path = external_root(root) / "usps" / "usps.mat"
    if not path.is_file():
        raise ExternalSetError(f"{path}: no such file")
    mat = loadmat(path)
    y = lambda k: np.asarray(mat[k]).reshape(-1).astype(np.uint8)  # noqa: E731
    return usps_to_mnist(mat["Xtr"]), y("ytr"), usps_to_mnist(mat["Xtst"]), y("ytst")


def usps_accuracy(model: Model, root: str | os.PathLike | None = None) -> float:
    """Accuracy of `model` on the USPS *test* set brought to MNIST's form."""
    from scipy.io import loadmat

    path = external_root(root) / "usps" / "usps.mat"
    if not path.is_file():
        raise ExternalSetError(f"{path}: no such file")
    mat = loadmat(path, variable_names=["Xtst", "ytst"])
    x = usps_to_mnist(mat["Xtst"])
    y = np.asarray(mat["ytst"]).reshape(-1)
    return float((predict_proba(model, x).argmax(axis=1) == y).mean())


def evaluate_external_command(root: str | os.PathLike | None = None, model_name: str | None = None) -> int:
    """`python -m helpers evaluate-external`: accuracy per kind and label, failures, USPS test accuracy."""
    folder = external_root(root)
    if not (folder / "labels.csv").is_file():
        raise ExternalSetError(
            f"{folder}: no external-digits set here (no labels.csv); "
            f"pass its folder or set ${EXTERNAL_ENV}"
        )
    from helpers import training

    name = model_name or training.best_model_name()
    model = training.get_model(name)
    print(f"model: {name}\n")
    print(summarize_external(evaluate_external(model, folder)))
    if (folder / "usps" / "usps.mat").is_file():
        print(f"\nUSPS test set (2,007 digits, MNIST form): {usps_accuracy(model, folder):.2%}")
    else:
        print(f"\nUSPS: skipped ({folder / 'usps' / 'usps.mat'} not found)")
    return 0
