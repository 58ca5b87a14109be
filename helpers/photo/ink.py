"""From a BGR image to ink: a working-size copy, the ink's polarity, an ink map and mask.

The working image has its longer side in [MIN_SIDE, MAX_SIDE], so every later step
works at one scale. The ink map says, per pixel, how much darker (or lighter) than
the local paper it is, with the lighting removed; the mask is that map thresholded.
`stroke_width` measures the pen strokes of a binary mask (used here by the
component grouping and by the MNIST form).
"""

from __future__ import annotations

import cv2
import numpy as np

#: Photos are shrunk so their longest side is at most this before any work (speed).
MAX_SIDE = 1600
#: Tiny images (e.g. 28×28 drawings) are enlarged to this so every step works at one scale.
MIN_SIDE = 256
#: Faint pixels outnumbering clear ink by this much are not stroke ends (see `ink_mask`).
FAINT_CROWD = 1.5
#: Light ink on a dark ground needs the polarity votes (three, each in [-1, 1]) to sum below
#: minus this: a vote near 0 (a blank page's grain, a small number on a big page) is dark ink.
LIGHT_MARGIN = 1.0


def _shrink(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Anti-aliased downsizing; halving first keeps INTER_AREA fast on 12 MP photos."""
    while img.shape[1] >= 2 * size[0] and img.shape[0] >= 2 * size[1]:
        img = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def working_image(img: np.ndarray) -> tuple[np.ndarray, float]:
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


def polarity_votes(gray: np.ndarray) -> float:
    """How clearly the ink is dark on light paper: a sum of three votes, each in [-1, 1].

    The paper is the majority of the picture, and ink is what deviates from it.
    Shadows and thick strokes each fool one test, so three vote (on a 200 px copy):
    the majority side of Otsu after removing lighting by (1) a wide median, which
    keeps shadow edges sharp, and (2) a wide Gaussian; (3) whether the strong
    deviations from the median background are darker or lighter. Positive: dark ink.
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
    return _otsu_majority(flat_median) + _otsu_majority(flat_gauss) + deviation


def detect_dark_ink(gray: np.ndarray) -> bool:
    """True for dark ink on light paper, False for light ink on dark (MNIST's polarity).

    Light ink needs a clear vote (`polarity_votes` below `-LIGHT_MARGIN`). On a blank page,
    or one with a small number, the votes split paper grain at random; read as light ink,
    bright grain on white paper becomes strong "ink", so an unclear vote counts as dark.
    """
    return polarity_votes(gray) >= -LIGHT_MARGIN


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
    return ink_ratio(ink_bright, bg)


def ink_ratio(ink_bright: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """Per pixel, the share of the way from the paper `bg` to full ink (0..1, strongest channel).

    `ink_bright` is the image with ink made bright (255 - image for dark ink), `bg` the
    paper estimated the same way, either with one channel or with as many as the image.
    """
    h, w = ink_bright.shape[:2]
    bg = bg.astype(np.float32)
    if bg.ndim == 2:
        bg = bg[..., None]
    x = ink_bright.astype(np.float32).reshape(h, w, -1)
    # Paper darker than ~1/8 of white (a table, a black canvas) gives no ratio worth trusting.
    ratio = (x - bg) / np.maximum(255.0 - bg, 32.0)
    return np.clip(ratio.max(axis=2), 0.0, 1.0)


def ink_thresholds(ink: np.ndarray) -> tuple[float, float]:
    """(high, low) thresholds of an ink map: Otsu's with a noise floor, and the hysteresis floor.

    The high threshold is Otsu's, but never below 6 noise-sigmas of the paper or 0.1
    (10 % darker than the paper): on blank paper Otsu would split the noise. The low
    one is half of it (at least 3 sigmas), for the faint ends of strokes.
    """
    u8 = (ink * 255.0 + 0.5).astype(np.uint8)
    otsu, _ = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # Noise is measured on the paper side of Otsu: thick strokes can cover most of a crop.
    paper = ink[u8 <= otsu]
    med = float(np.median(paper)) if paper.size else 0.0
    sigma = 1.4826 * float(np.median(np.abs(paper - med))) if paper.size else 0.0
    t = max(otsu / 255.0, med + 6 * sigma, 0.1)
    return t, max(t / 2, med + 3 * sigma, 0.05)


def ink_mask(ink: np.ndarray) -> np.ndarray:
    """Binary ink mask (uint8 0/255): above the high threshold, grown by hysteresis.

    Pixels above the low threshold are kept when they touch a pixel above the high
    one (`ink_thresholds`), so faint pen strokes stay in one piece, unless the faint
    band is crowded with something else (`FAINT_CROWD`).
    """
    t, t_low = ink_thresholds(ink)
    high = ink >= t
    if not high.any():
        return np.zeros(ink.shape, np.uint8)
    low = ink >= t_low
    # Hysteresis is for the faint ends and edges of strokes, a fraction of the ink. When the
    # ink stands well clear of the faint band (its median over 3 low thresholds) and the
    # band still holds more pixels than the ink, the band is something else (a printed grid
    # or ruled lines joining every digit): no hysteresis then. On a blank page the "ink" is
    # the top of the paper's own noise, not clear of the band, and hysteresis keeps its
    # blobs faint on average, so they are dropped as faint later.
    if np.median(ink[high]) >= 3 * t_low and np.count_nonzero(low) > FAINT_CROWD * np.count_nonzero(high):
        return (high * 255).astype(np.uint8)
    n, labels = cv2.connectedComponents(low.astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[high])] = True
    keep[0] = False
    return (keep[labels] * 255).astype(np.uint8)


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width of a binary mask: 2·area / perimeter (exact for long strokes)."""
    m = (mask > 0).astype(np.uint8)
    area = int(m.sum())
    if area == 0:
        return 0.0
    contours, _ = cv2.findContours(m, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return 2.0 * area / perimeter if perimeter > 0 else 1.0
