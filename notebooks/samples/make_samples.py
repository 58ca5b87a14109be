"""Make the sample "photos" of handwritten digits used by notebook 05 (run: python make_samples.py).

Every pixel is synthesized here; nothing is copied from a photo, a data set or
another repository. Deterministic: a fixed seed per image, so rerunning gives
the same pictures (byte-identical with the same OpenCV/libjpeg build).

How each picture is made:

1. Digits: each digit 0–9 is a hand-designed skeleton of one or two strokes
   (control points in a unit box, written out below). Per digit, every control
   point is jittered by a few percent of the digit height, the whole digit is
   slanted (shear up to ±0.15) and scaled, and the strokes are drawn as
   Catmull-Rom splines with OpenCV's anti-aliased polylines, at 4× resolution
   with a pen width that varies slightly from stroke to stroke; the 4× drawing is
   shrunk with INTER_AREA, which gives the soft ink edge of a real pen.
2. Paper: a flat paper colour (off-white, or dark slate for the chalk picture),
   times an illumination field (a linear gradient plus a darker corner, as from a
   lamp to one side), plus low-frequency blotches (paper texture).
3. Ink: the ink colour (dark blue ballpoint, black marker, or chalk) is blended
   into the paper by the stroke coverage; chalk loses random specks.
4. Camera: a slight perspective warp (corners moved by up to 3 % of the size),
   Gaussian blur (sigma 0.7–1.0 px), Gaussian sensor noise (sigma 2–3 levels), and
   JPEG compression at quality 80 — each file is under 60 KB.

Pictures: `single.jpg` (one 7 in blue ballpoint), `multi.jpg` (two rows, 3 1 4 / 1 5 9,
in black marker), `chalk.jpg` (a white 5 on a dark slate: light ink on dark, like
MNIST) and `ruled.jpg` (2 0 7 in blue on ruled notebook paper with a margin line).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent

#: Digit skeletons: strokes of (x, y) control points; x in 0..0.6, y in 0..1 (top to bottom).
DIGITS: dict[int, list[list[tuple[float, float]]]] = {
    0: [[(0.30, 0.00), (0.08, 0.20), (0.02, 0.55), (0.12, 0.90), (0.32, 1.00), (0.52, 0.85),
         (0.58, 0.45), (0.50, 0.12), (0.30, 0.00), (0.24, 0.04)]],
    1: [[(0.22, 0.10), (0.32, 0.00), (0.31, 0.50), (0.30, 1.00)]],
    2: [[(0.04, 0.24), (0.18, 0.04), (0.40, 0.00), (0.55, 0.16), (0.50, 0.42), (0.26, 0.70),
         (0.03, 0.98), (0.60, 0.97)]],
    3: [[(0.05, 0.12), (0.28, 0.00), (0.50, 0.10), (0.48, 0.33), (0.24, 0.47), (0.50, 0.58),
         (0.56, 0.80), (0.36, 0.99), (0.04, 0.90)]],
    4: [[(0.40, 0.00), (0.18, 0.35), (0.02, 0.66), (0.60, 0.64)], [(0.46, 0.30), (0.45, 1.00)]],
    5: [[(0.56, 0.02), (0.14, 0.02), (0.09, 0.44), (0.34, 0.38), (0.55, 0.55), (0.55, 0.82),
         (0.34, 0.99), (0.03, 0.90)]],
    6: [[(0.50, 0.02), (0.24, 0.22), (0.07, 0.56), (0.10, 0.90), (0.32, 1.00), (0.52, 0.85),
         (0.50, 0.62), (0.30, 0.53), (0.09, 0.66)]],
    7: [[(0.02, 0.04), (0.58, 0.03), (0.38, 0.42), (0.22, 1.00)]],
    8: [[(0.50, 0.12), (0.30, 0.00), (0.08, 0.12), (0.12, 0.36), (0.30, 0.48), (0.52, 0.65),
         (0.50, 0.92), (0.28, 1.00), (0.05, 0.90), (0.08, 0.65), (0.30, 0.48), (0.48, 0.32),
         (0.50, 0.12)]],
    9: [[(0.52, 0.20), (0.34, 0.02), (0.10, 0.10), (0.08, 0.36), (0.30, 0.46), (0.52, 0.30),
         (0.52, 0.18), (0.50, 0.60), (0.42, 1.00)]],
}


def catmull_rom(points: np.ndarray, per_segment: int = 16) -> np.ndarray:
    """A smooth curve through `points` (N, 2): Catmull-Rom spline, end points repeated."""
    p = np.vstack([points[:1], points, points[-1:]])
    t = np.linspace(0, 1, per_segment, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3))
    out.append(p[-2:-1])
    return np.vstack(out)


def draw_digit(cover: np.ndarray, digit: int, x: float, y: float, height: float, pen: float,
               rng: np.random.Generator) -> None:
    """Add one digit's ink coverage (0..1) to `cover` (drawn at 4× then shrunk by the caller)."""
    ss = 4
    slant = rng.uniform(-0.15, 0.15)
    for stroke in DIGITS[digit]:
        pts = np.array(stroke, np.float64)
        pts = pts + rng.normal(0, 0.025, pts.shape)  # a hand never draws the same shape twice
        pts[:, 0] += slant * (1 - pts[:, 1])  # shear: the top leans right or left
        curve = catmull_rom(pts) * height + (x, y)
        width = max(1, round(pen * ss * rng.uniform(0.85, 1.15)))
        cv2.polylines(cover, [np.round(curve * ss).astype(np.int32)], False, 1.0, width, cv2.LINE_AA)


def render(size: tuple[int, int], layout: list[tuple[int, float, float]], height: float, pen: float,
           rng: np.random.Generator) -> np.ndarray:
    """Ink coverage (H, W) float32 for digits at (digit, x, y) positions."""
    w, h = size
    big = np.zeros((h * 4, w * 4), np.float32)
    for digit, x, y in layout:
        draw_digit(big, digit, x, y, height * rng.uniform(0.92, 1.05), pen, rng)
    return cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA).clip(0, 1)


def paper(size: tuple[int, int], colour: tuple[float, float, float], rng: np.random.Generator,
          light: float = 0.25) -> np.ndarray:
    """Paper colour × lighting (gradient and a darker corner) + low-frequency blotches."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    gx, gy = rng.uniform(-1, 1, 2)
    field = 1 + light * (gx * (xx / w - 0.5) + gy * (yy / h - 0.5))
    cx, cy = rng.uniform(0, 1, 2)
    field -= light * 0.8 * ((xx / w - cx) ** 2 + (yy / h - cy) ** 2)
    blotch = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 25)
    field += 0.6 * blotch / (np.abs(blotch).max() + 1e-6) * 0.03
    return np.array(colour, np.float32)[None, None, :] * field[..., None]


def camera(img: np.ndarray, rng: np.random.Generator, blur: float, noise: float) -> np.ndarray:
    """Slight perspective, lens blur and sensor noise; returns uint8 BGR."""
    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + rng.uniform(-0.03, 0.03, (4, 2)).astype(np.float32) * np.float32([w, h])
    warp = cv2.getPerspectiveTransform(src, dst)
    img = cv2.warpPerspective(img, warp, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    img = cv2.GaussianBlur(img, (0, 0), blur)
    img = img + rng.normal(0, noise, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def ink_on(background: np.ndarray, cover: np.ndarray, ink: tuple[float, float, float],
           strength: float = 0.95) -> np.ndarray:
    a = (cover * strength)[..., None]
    return background * (1 - a) + np.array(ink, np.float32)[None, None, :] * a


def make_single() -> np.ndarray:
    rng = np.random.default_rng(7)
    size = (400, 400)
    cover = render(size, [(7, 140, 90)], 220, 3.2, rng)
    img = ink_on(paper(size, (215, 228, 236), rng), cover, (125, 55, 30))  # BGR: blue ballpoint
    return camera(img, rng, blur=0.8, noise=2.5)


def make_multi() -> np.ndarray:
    rng = np.random.default_rng(314)
    size = (640, 480)
    rows = [[3, 1, 4], [1, 5, 9]]
    layout = [(d, 110 + 160 * i + rng.uniform(-10, 10), 70 + 200 * r + rng.uniform(-8, 8))
              for r, row in enumerate(rows) for i, d in enumerate(row)]
    cover = render(size, layout, 140, 5.5, rng)
    img = ink_on(paper(size, (205, 220, 230), rng, light=0.35), cover, (35, 30, 30))  # black marker
    return camera(img, rng, blur=1.0, noise=3.0)


def make_chalk() -> np.ndarray:
    rng = np.random.default_rng(5)
    size = (360, 360)
    cover = render(size, [(5, 115, 70)], 210, 7.0, rng)
    cover *= rng.uniform(0.6, 1.0, cover.shape).astype(np.float32)  # chalk leaves gaps
    img = ink_on(paper(size, (52, 58, 48), rng, light=0.3), cover, (228, 236, 236), strength=0.9)
    return camera(img, rng, blur=0.7, noise=2.0)


def make_ruled() -> np.ndarray:
    rng = np.random.default_rng(207)
    size = (560, 360)
    bg = paper(size, (222, 234, 240), rng, light=0.2)
    for y in range(40, size[1], 52):  # light-blue rules
        cv2.line(bg, (0, y), (size[0], y + 3), (200, 170, 140), 2, cv2.LINE_AA)
    cv2.line(bg, (60, 0), (62, size[1]), (120, 120, 215), 2, cv2.LINE_AA)  # red margin
    layout = [(2, 130, 118), (0, 260, 116), (7, 390, 120)]
    cover = render(size, layout, 118, 3.0, rng)
    img = ink_on(bg, cover, (140, 60, 25))
    return camera(img, rng, blur=0.7, noise=2.5)


SAMPLES = {"single.jpg": make_single, "multi.jpg": make_multi, "chalk.jpg": make_chalk,
           "ruled.jpg": make_ruled}


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write to (default: beside this script)")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    for name, make in SAMPLES.items():
        ok, buf = cv2.imencode(".jpg", make(), [cv2.IMWRITE_JPEG_QUALITY, 80])
        assert ok, name
        if len(buf) >= 60_000:
            raise SystemExit(f"{name}: {len(buf):,} bytes, over the 60 KB budget")
        (out / name).write_bytes(buf.tobytes())
        print(f"wrote {out / name} ({len(buf) / 1000:.1f} KB)")


if __name__ == "__main__":
    main()
