"""Synthetic photos of handwritten numbers, made from MNIST training digits: the development set.

The photo pipeline's every setting is chosen on these pictures, never on the real external
photos or USPS (those only measure, at the end) and never on MNIST's test set. Each picture
is drawn from a seed, so a seed names a set: seed 0 is the development set the settings
were chosen on, seed 1 is held back to measure them once.

How a picture is made (`number_photo`; `blank_photo` is the same without ink):

1. Paper: an off-white sheet with grain (noise at two scales), plain, ruled (with or without
   a red margin) or squared, sometimes folded (a crease and a step in brightness).
2. Ink: 1–3 rows, each a number of 2–12 MNIST digits from the *training* split (or
   `split="val"`, the validation split). Each digit is enlarged to the row's height, its
   stroke thinned or thickened (ballpoint to marker), placed with ordinary spacing, some
   pairs touching; rows sit on the ruling when there is one. Blue or black ink, or pencil.
3. Camera: the sheet is warped in perspective into the frame, sometimes with the desk
   visible beyond it; lit unevenly (a gradient and a vignette), often with a hard shadow
   (a hand or an object, blurred edge) across the page and the digits; sometimes a smudge;
   blurred, noisy and saved as JPEG (quality 55–95). Sizes are webcam (640×480, 1280×720)
   and phone (1600×1200 to 4000×3000), portrait or landscape.

`single_digit_photo` makes crops holding one digit (scans, drawings, photos), as the
external set does; `hard_crop_photo` makes harder ones (out of focus, faint ink, thin or thick
pens, off-centre and tilted digits, non-square frames up to 2,600 px). Every picture comes with
what it shows (`Photo.rows`) and its conditions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import cv2
import numpy as np

from helpers import data

#: The development set is seed 0; seed 1 is held back to measure the final settings once.
DEV_SEED, HELD_OUT_SEED = 0, 1

#: Ink colours (BGR) of the pens the photos are written with.
PENS = {"blue": (130, 50, 25), "black": (35, 35, 35), "pencil": (95, 95, 100)}
SIZES = ((640, 480), (1280, 720), (1600, 1200), (2000, 1500), (4000, 3000))
SIZE_WEIGHTS = (0.2, 0.2, 0.3, 0.2, 0.1)


@dataclass
class Photo:
    """One synthetic picture and what is written on it."""

    image: np.ndarray  # BGR uint8
    rows: list[str]  # the numbers written, top to bottom; [] for a blank page
    conditions: dict[str, object] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(self.rows)


@functools.lru_cache(maxsize=2)
def _digits(split: str) -> tuple[np.ndarray, np.ndarray]:
    """MNIST digits of one split (train or val; never test), float 0..1, and labels."""
    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val' (never the test set), not {split!r}")
    s = data.load_splits()
    return (s.x_train, s.y_train) if split == "train" else (s.x_val, s.y_val)


def _glyph(img28: np.ndarray, height: int, stroke: float, rng: np.random.Generator) -> np.ndarray:
    """One MNIST digit as ink coverage 0..1, `height` px tall, strokes `stroke` × MNIST's width."""
    ys, xs = np.nonzero(img28 > 0.1)
    crop = img28[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    f = height / crop.shape[0] * rng.uniform(0.9, 1.1)
    size = (max(1, round(crop.shape[1] * f)), max(2, round(crop.shape[0] * f)))
    pad = max(2, round(0.15 * height))
    big = cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC)
    big = np.pad(big, pad)
    # A pen's edge is sharp: threshold the soft enlarged digit, then soften by ~1 px.
    k = round(abs(stroke - 1.0) * 2.3 * f / 2)
    core = (big > 0.45).astype(np.uint8)
    if k >= 1:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))
        thinner = cv2.erode(core, kernel) if stroke < 1 else cv2.dilate(core, kernel)
        if thinner.sum() >= 0.25 * core.sum():
            core = thinner
    return cv2.GaussianBlur(core.astype(np.float32), (0, 0), 0.6)


def _paper(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Off-white paper with grain: fine noise plus soft blotches (float BGR 0..255)."""
    tint = rng.uniform(225, 252) + rng.uniform(-8, 8, 3) * np.array([1.0, 0.6, 0.3])
    grain = rng.standard_normal((h, w), np.float32) * rng.uniform(1.5, 5.0)
    grain = cv2.GaussianBlur(grain, (0, 0), rng.uniform(0.6, 1.5))
    lo = cv2.resize(rng.normal(0, 1, (max(2, h // 40), max(2, w // 40))).astype(np.float32), (w, h),
                    interpolation=cv2.INTER_CUBIC) * rng.uniform(1, 4)
    return np.clip(tint[None, None, :] + (grain + lo)[..., None], 0, 255).astype(np.float32)


def _ruling(page: np.ndarray, kind: str, pitch: float, rng: np.random.Generator) -> None:
    """Draw ruled or squared lines (and maybe a red margin) onto the page, in place."""
    h, w = page.shape[:2]
    colour = np.array(rng.choice([(200, 170, 140), (190, 190, 190), (210, 180, 150)]), np.float64)
    thick = max(1, round(rng.uniform(0.6, 1.6) * max(h, w) / 1000))
    y = rng.uniform(0.2, 1) * pitch
    while y < h:
        cv2.line(page, (0, int(y)), (w - 1, int(y)), colour.tolist(), thick, cv2.LINE_AA)
        y += pitch
    if kind == "squared":
        x = rng.uniform(0.2, 1) * pitch
        while x < w:
            cv2.line(page, (int(x), 0), (int(x), h - 1), colour.tolist(), thick, cv2.LINE_AA)
            x += pitch
    elif rng.random() < 0.5:
        x = int(rng.uniform(0.05, 0.12) * w)
        cv2.line(page, (x, 0), (x, h - 1), (90, 90, 220), thick + 1, cv2.LINE_AA)


def _write_rows(h: int, w: int, rng: np.random.Generator, split: str, pitch: float | None,
                left: int, n_rows: int, height: int) -> tuple[np.ndarray, list[str], int]:
    """Ink coverage of `n_rows` numbers on an (h, w) page; returns coverage, numbers, touching pairs."""
    xs_all, ys_all = _digits(split)
    cover = np.zeros((h, w), np.float32)
    rows, touching = [], 0
    pens = [rng.uniform(0.35, 0.7), rng.uniform(0.7, 1.3), rng.uniform(1.3, 1.8)]  # ballpoint to marker
    stroke = rng.choice(pens, p=[0.45, 0.4, 0.15])
    line_gap = (pitch * max(1, round(2.0 * height / pitch))) if pitch else rng.uniform(1.7, 2.6) * height
    y_base = rng.uniform(0.15, 0.25) * h + height
    if pitch:
        y_base = (y_base // pitch + 1) * pitch - rng.uniform(0.0, 0.15) * height
    for _ in range(n_rows):
        if y_base > 0.88 * h:  # rows stay clear of the page's edge, which may leave the picture
            break
        n = int(rng.integers(2, 13))
        x = left + rng.uniform(0.0, 0.1) * w
        text = ""
        for _ in range(n):
            k = int(rng.integers(len(xs_all)))
            g = _glyph(xs_all[k], height, stroke, rng)
            gh, gw = g.shape
            pad = round(0.15 * height)
            y0 = int(y_base + rng.normal(0, 0.04) * height) - gh + pad
            if text:
                gap = rng.uniform(-0.06, 0.02) if rng.random() < 0.12 else rng.uniform(0.08, 0.45)
                touching += gap < 0.02
                x += gap * height
            x0 = int(x) - pad
            if x0 + gw >= 0.9 * w or y0 < 0 or y0 + gh >= h:
                break
            cover[y0 : y0 + gh, x0 : x0 + gw] = np.maximum(cover[y0 : y0 + gh, x0 : x0 + gw], g)
            ink_cols = np.nonzero(g.max(axis=0) > 0.5)[0]
            x = x0 + (ink_cols.max() + 1 if len(ink_cols) else gw - pad)
            text += str(int(ys_all[k]))
        if len(text) >= 2:
            rows.append(text)
        else:
            cover[int(y_base - 1.3 * height) : int(y_base + 0.3 * height)] = 0
        y_base += line_gap
    return cover, rows, touching


def _lighting(img: np.ndarray, rng: np.random.Generator, cond: dict, hands: bool = True) -> np.ndarray:
    """Uneven light, and sometimes a hard shadow across the picture (float BGR); `hands=False`
    keeps to straight shadow edges (in a crop a hand's shadow is larger than the picture)."""
    h, w = img.shape[:2]
    yy, xx = np.ogrid[0:h, 0:w]
    yy, xx = yy.astype(np.float32), xx.astype(np.float32)
    a = rng.uniform(0, 2 * np.pi)
    ramp = ((xx / w - 0.5) * np.cos(a) + (yy / h - 0.5) * np.sin(a))
    light = (1.0 - rng.uniform(0.05, 0.35) * (ramp + 0.5)).astype(np.float32)
    r2 = ((xx / w - 0.5) ** 2 + (yy / h - 0.5) ** 2)
    light *= (1.0 - rng.uniform(0.0, 0.4) * r2).astype(np.float32)
    if rng.random() < 0.45:
        f = 4  # the shadow is drawn and blurred at a quarter of the size (its edge is soft anyway)
        sh, sw = max(2, h // f), max(2, w // f)
        shadow = np.zeros((sh, sw), np.float32)
        if rng.random() < 0.5 or not hands:  # a straight edge: an object, or a hand's band at the bottom
            y0, y1 = rng.uniform(0.55, 0.95) * sh, rng.uniform(0.55, 0.95) * sh
            pts = np.array([[0, y0], [sw, y1], [sw, sh], [0, sh]], np.int32)
            if rng.random() < 0.5:
                pts = np.array([[0, 0], [sw, 0], [sw, sh - y1], [0, sh - y0]], np.int32)
        else:  # a hand: an arm from one side and a palm
            cx, cy = rng.uniform(0.3, 0.9) * sw, rng.uniform(0.4, 0.9) * sh
            pts = cv2.ellipse2Poly((int(cx), int(cy)), (int(0.2 * sw), int(0.14 * sh)),
                                   int(rng.uniform(0, 180)), 0, 360, 10)
            cv2.line(shadow, (int(cx), int(cy)), (sw, sh), 1.0, max(1, int(0.18 * min(sh, sw))))
        cv2.fillPoly(shadow, [pts.reshape(-1, 1, 2)], 1.0)
        shadow = cv2.GaussianBlur(shadow, (0, 0), rng.uniform(0.4, max(0.5, 0.005 * max(h, w))))
        shadow = cv2.resize(shadow, (w, h), interpolation=cv2.INTER_LINEAR)
        light *= 1.0 - rng.uniform(0.3, 0.6) * shadow
        cond["shadow"] = True
    return img * light[..., None]


def _desk(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A table top: dark or light, brown or grey, with grain along one direction (float BGR)."""
    base = np.array(rng.choice([(40, 60, 90), (70, 100, 140), (60, 60, 60), (150, 150, 150), (25, 25, 30),
                                (120, 160, 200)]), np.float32)
    streak = cv2.resize(rng.normal(0, 1, (max(2, h // 3), 4)).astype(np.float32), (w, h))
    noise = rng.standard_normal((h, w), np.float32) * 4
    return np.clip(base[None, None] * (1 + 0.12 * streak[..., None]) + noise[..., None], 0, 255)


def _camera(page: np.ndarray, size: tuple[int, int], rng: np.random.Generator, cond: dict) -> np.ndarray:
    """Warp the page into a frame (desk beyond it, sometimes), light, blur, noise; float BGR."""
    w, h = size
    ph, pw = page.shape[:2]
    src = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
    if rng.random() < 0.5:  # the page's edge and the desk show on one to four sides
        m = rng.uniform(0.0, 0.12, (4, 2)) * [w, h]
        spill = rng.random(4) < 0.5  # sides where the page runs out of the picture
        m[spill] = -rng.uniform(0.02, 0.08, (int(spill.sum()), 2)) * [w, h]
        cond["desk"] = True
    else:
        m = -rng.uniform(0.01, 0.06, (4, 2)) * [w, h]
    dst = np.float32([[m[0, 0], m[0, 1]], [w - m[1, 0], m[1, 1]], [w - m[2, 0], h - m[2, 1]],
                      [m[3, 0], h - m[3, 1]]])
    M = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(page, M, (w, h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT)
    inside = cv2.warpPerspective(np.ones((ph, pw), np.float32), M, (w, h))
    if cond.get("desk"):
        out += _desk(h, w, rng) * (1 - inside[..., None])
    out = _lighting(out, rng, cond)
    if rng.random() < 0.15:  # a smudge or speck of dirt on the lens or the page
        sm = np.zeros((h, w), np.float32)
        c = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        r = int(rng.uniform(0.005, 0.03) * min(h, w)) + 1
        cv2.ellipse(sm, c, (r, int(r * rng.uniform(0.5, 1.5))), rng.uniform(0, 180), 0, 360, 1.0, -1)
        sm = cv2.GaussianBlur(sm, (0, 0), r / 3 + 0.5)
        out *= 1 - rng.uniform(0.3, 0.7) * sm[..., None]
        cond["smudge"] = True
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.4, 1.2) * max(1.0, max(w, h) / 1600))
    return out + rng.standard_normal(out.shape, np.float32) * rng.uniform(1, 4)


def _jpeg(img: np.ndarray, rng: np.random.Generator, quality: tuple[int, int] = (55, 96)) -> np.ndarray:
    u8 = np.clip(img, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(*quality))])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else u8


def _frame(rng: np.random.Generator) -> tuple[int, int]:
    w, h = SIZES[int(rng.choice(len(SIZES), p=SIZE_WEIGHTS))]
    return (h, w) if rng.random() < 0.4 else (w, h)


def number_photo(rng: np.random.Generator, split: str = "train", blank: bool = False) -> Photo:
    """One photo of a page with 1–3 handwritten numbers (or none when `blank`)."""
    w, h = _frame(rng)
    scale = 1.0 if max(w, h) <= 2000 else 0.5  # draw big frames at half size, enlarge at the end
    pw, ph = int(w * scale), int(h * scale)
    page = _paper(ph, pw, rng)
    cond: dict[str, object] = {"size": f"{w}x{h}"}
    height = int(rng.uniform(0.05, 0.14) * max(pw, ph))
    ruling = str(rng.choice(["plain", "ruled", "squared"], p=[0.4, 0.35, 0.25]))
    pitch = height * rng.uniform(0.9, 1.4) if ruling == "ruled" else height * rng.uniform(0.45, 0.8)
    cond["paper"] = ruling
    if ruling != "plain":
        _ruling(page, ruling, pitch, rng)
    if rng.random() < 0.15:
        y = int(rng.uniform(0.3, 0.7) * ph)
        page[y:] *= rng.uniform(0.9, 0.97)
        cv2.line(page, (0, y), (pw, y), (page[y, 0] * 0.85).tolist(), 1, cv2.LINE_AA)
        cond["fold"] = True
    rows: list[str] = []
    if not blank:
        n_rows = int(rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2]))
        cover, rows, touching = _write_rows(ph, pw, rng, split, pitch if ruling == "ruled" else None,
                                            int(0.08 * pw), n_rows, height)
        pen = str(rng.choice(["blue", "black", "pencil"], p=[0.45, 0.35, 0.2]))
        colour = PENS[pen]
        if pen == "pencil":
            grain = 0.55 + 0.3 * rng.random((ph, pw)).astype(np.float32)
            cover = cover * cv2.GaussianBlur(grain, (0, 0), 0.7)
        cover *= rng.uniform(0.75, 1.0)
        page = page * (1 - cover[..., None]) + np.array(colour, np.float32) * cover[..., None]
        cond.update(pen=pen, touching=touching)
    if scale != 1.0:
        page = cv2.resize(page, (w, h), interpolation=cv2.INTER_LINEAR)
    return Photo(_jpeg(_camera(page, (w, h), rng, cond), rng), rows, cond)


def blank_photo(rng: np.random.Generator) -> Photo:
    """A photo of a page with nothing written on it (paper grain, ruling, folds, shadows, desk)."""
    return number_photo(rng, blank=True)


def single_digit_photo(rng: np.random.Generator, split: str = "train") -> Photo:
    """A crop holding one digit: a drawing (black on white or white on black), a scan or a photo."""
    xs_all, ys_all = _digits(split)
    k = int(rng.integers(len(xs_all)))
    kind = str(rng.choice(["drawn", "scan", "photo"]))
    side = int(rng.choice([28, 64, 200, 400, 800]))
    height = int(side * rng.uniform(0.45, 0.85))
    g = _glyph(xs_all[k], height, rng.uniform(0.5, 1.6), rng)
    canvas = np.zeros((side, side), np.float32)
    gh, gw = min(g.shape[0], side), min(g.shape[1], side)
    y0, x0 = (side - gh) // 2, (side - gw) // 2
    canvas[y0 : y0 + gh, x0 : x0 + gw] = g[:gh, :gw]
    if kind == "drawn":
        img = canvas * 255 if rng.random() < 0.4 else 255 - canvas * 255
        out = np.repeat(img[..., None], 3, axis=2)
    else:
        page = _paper(side, side, rng)
        if rng.random() < 0.4:
            _ruling(page, "ruled", height * rng.uniform(0.9, 1.4), rng)
        colour = np.array(PENS["blue"] if rng.random() < 0.5 else PENS["black"], np.float32)
        out = page * (1 - canvas[..., None]) + colour * canvas[..., None]
        if kind == "photo":
            out = _lighting(out, rng, {})
            out = cv2.GaussianBlur(out, (0, 0), 0.7) + rng.standard_normal(out.shape, np.float32) * 2
    return Photo(_jpeg(out, rng) if kind != "drawn" else np.clip(out, 0, 255).astype(np.uint8),
                 [str(int(ys_all[k]))], {"kind": kind, "size": f"{side}x{side}"})


def _tilt(g: np.ndarray, degrees: float) -> np.ndarray:
    h, w = g.shape
    side = int(np.ceil(np.hypot(h, w)))
    dy, dx = side - h, side - w
    big = np.pad(g, ((dy // 2, dy - dy // 2), (dx // 2, dx - dx // 2)))
    M = cv2.getRotationMatrix2D((side / 2, side / 2), degrees, 1.0)
    out = cv2.warpAffine(big, M, (side, side), flags=cv2.INTER_LINEAR)
    ys, xs = np.nonzero(out > 0.05)
    return out[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] if len(ys) else g


def hard_crop_photo(rng: np.random.Generator, split: str = "train") -> Photo:
    """A one-digit picture as phones, scanners and drawing canvases make them, harder than
    `single_digit_photo`'s: frames up to 2,600 px, not square; the digit small or filling the
    frame, off-centre, tilted; thin ballpoint to thick brush; out of focus, faint ink or pencil,
    uneven light and shadows, sometimes the page's edge and the desk; JPEG down to quality 40.

    The easy crops have MNIST's sharp strokes on clean paper, so a check of edge softness or
    stroke shape looked safe on them and then dropped real digits: these crops are for such checks.
    """
    xs_all, ys_all = _digits(split)
    k = int(rng.integers(len(xs_all)))
    kind = str(rng.choice(["drawn", "photo", "scan"], p=[0.3, 0.5, 0.2]))
    sides = {"drawn": (28, 100, 280, 500, 800), "photo": (300, 600, 1000, 1600, 2600),
             "scan": (100, 200, 400, 800)}
    long = int(rng.choice(sides[kind]))
    short = int(long * rng.uniform(0.6, 1.0))
    h, w = (long, short) if rng.random() < 0.5 else (short, long)
    height = max(10, int(h * rng.uniform(0.3, 0.9) if kind != "photo" else h * rng.uniform(0.25, 0.8)))
    stroke = rng.uniform(1.0, 2.0) if kind == "drawn" else rng.choice(
        [rng.uniform(0.3, 0.6), rng.uniform(0.6, 1.4)], p=[0.4, 0.6])
    g = _tilt(_glyph(xs_all[k], height, stroke, rng), rng.uniform(-15, 15))
    fit = min(1.0, h / g.shape[0], w / g.shape[1])  # the whole digit stays in the frame
    if fit < 1.0:
        g = cv2.resize(g, (max(1, int(g.shape[1] * fit)), max(1, int(g.shape[0] * fit))),
                       interpolation=cv2.INTER_AREA)
    gh, gw = g.shape
    # Off-centre, anywhere in the frame: a tight crop's digit may touch its edge.
    y0, x0 = int(rng.uniform(0, h - gh + 1)), int(rng.uniform(0, w - gw + 1))
    canvas = np.zeros((h, w), np.float32)
    canvas[y0 : y0 + gh, x0 : x0 + gw] = g
    cond: dict[str, object] = {"kind": kind, "size": f"{w}x{h}", "hard": True,
                               "stroke": round(float(stroke), 2)}
    if kind == "drawn":
        out = np.repeat((canvas * 255 if rng.random() < 0.4 else 255 - canvas * 255)[..., None], 3, axis=2)
        return Photo(np.clip(out, 0, 255).astype(np.uint8), [str(int(ys_all[k]))], cond)
    image = _hard_paper_picture(canvas, kind, 0.115 * height * stroke, rng, cond)
    return Photo(image, [str(int(ys_all[k]))], cond)


def _hard_paper_picture(canvas: np.ndarray, kind: str, stroke_px: float, rng: np.random.Generator,
                        cond: dict) -> np.ndarray:
    """Ink coverage → a scan or phone photo of it on paper: faint pens, desk, light, focus, JPEG."""
    h, w = canvas.shape
    page = _paper(h, w, rng)
    if rng.random() < 0.35:
        _ruling(page, str(rng.choice(["ruled", "squared"])), stroke_px * rng.uniform(4, 12), rng)
    pen = str(rng.choice(["blue", "black", "pencil"], p=[0.4, 0.35, 0.25]))
    colour = np.array(PENS[pen], np.float32)
    if pen == "pencil":
        canvas = canvas * cv2.GaussianBlur(0.5 + 0.4 * rng.random((h, w)).astype(np.float32), (0, 0), 0.7)
    canvas = canvas * rng.uniform(0.35, 1.0)  # faint ink, a dry pen, light pencil
    out = page * (1 - canvas[..., None]) + colour * canvas[..., None]
    cond["pen"] = pen
    if kind == "photo":
        if rng.random() < 0.2:  # the page ends inside the crop: the desk shows along one side
            axis, far = divmod(int(rng.integers(4)), 2)
            n = max(1, int(rng.uniform(0.02, 0.12) * out.shape[axis]))
            edge = np.zeros((h, w), np.float32)
            idx = [slice(None), slice(None)]
            idx[axis] = slice(-n, None) if far else slice(0, n)
            edge[tuple(idx)] = 1.0
            out = out * (1 - edge[..., None]) + _desk(h, w, rng) * edge[..., None]
            cond["desk"] = True
        out = _lighting(out, rng, cond, hands=False)
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.05, 0.35) * stroke_px + 0.3)  # out of focus
    else:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.0))
    return _jpeg(out + rng.standard_normal(out.shape, np.float32) * rng.uniform(1, 5), rng, (40, 91))


def dev_set(seed: int = DEV_SEED, numbers: int = 100, blanks: int = 100, singles: int = 100,
            split: str = "train", hard: int = 0) -> list[Photo]:
    """`numbers` number photos, `blanks` digit-free photos, `singles` one-digit crops and `hard`
    harder crops (`hard_crop_photo`), from `seed`; the harder crops come last, so adding them
    leaves the other pictures of a seed as they were."""
    rng = np.random.default_rng(seed)
    out = [number_photo(rng, split) for _ in range(numbers)]
    out += [blank_photo(rng) for _ in range(blanks)]
    out += [single_digit_photo(rng, split) for _ in range(singles)]
    return out + [hard_crop_photo(rng, split) for _ in range(hard)]
