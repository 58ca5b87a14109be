"""Decode an image file (or take an array) as BGR uint8, upright, without transparency.

OpenCV decodes the pixels (by content, whatever the file name says); Pillow reads
the header for the size and the EXIF orientation, and turns the pixels upright.
Files that are missing, empty, truncated, too large or not images raise
`ImageReadError` with a one-line message naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageOps

from helpers import UserError

#: File types `read_image` accepts (it decodes by content, so this is for folder scans).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
#: Decoded images above this many pixels are refused (decompression bombs).
MAX_PIXELS = 120_000_000

_REDUCED = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}
#: EXIF orientations that swap width and height (transpose, rotate 90°, transverse, rotate 270°).
_TRANSPOSING = (5, 6, 7, 8)


class ImageReadError(UserError, ValueError):
    """An image file is missing, empty, truncated or not an image; the message names it."""


def _read_bytes(path: Path, name: str) -> bytes:
    """The file's bytes; `ImageReadError` when it is missing, a folder, unreadable, empty or cut short."""
    if not path.exists():
        raise ImageReadError(f"{name}: no such file")
    if path.is_dir():
        raise ImageReadError(f"{name}: is a folder, not an image")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImageReadError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if not raw:
        raise ImageReadError(f"{name}: empty file (0 bytes)")
    _check_complete(raw, name)
    return raw


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
        with Image.open(path) as im:  # lazy: reads the header, not the pixels
            return im.size, int(im.getexif().get(ExifTags.Base.Orientation, 1) or 1)
    except Exception:  # noqa: BLE001 - no header info is fine; OpenCV decides below
        return None, 1


def _upright(img: np.ndarray, orientation: int) -> np.ndarray:
    """Turn BGR pixels as the EXIF orientation says, with Pillow's `ImageOps.exif_transpose`.

    Only the pixels' positions change (a flip, rotation or transposition), never their
    values; unknown orientations leave the image as it is, as cv2.imread does.
    """
    if orientation == 1:
        return img
    pil = Image.fromarray(img)  # channel order is irrelevant to a transposition
    pil.getexif()[ExifTags.Base.Orientation] = orientation
    return np.array(ImageOps.exif_transpose(pil))  # a writable copy


def to_uint8(img: np.ndarray) -> np.ndarray:
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


def to_bgr(img: np.ndarray) -> np.ndarray:
    """An image array of any depth (gray, gray + alpha, BGR or BGRA) → BGR uint8, alpha flattened."""
    img = to_uint8(img)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    elif img.shape[2] == 2:  # gray + alpha
        img = np.dstack([img[..., 0]] * 3 + [img[..., 1]])
    if img.shape[2] == 4:
        img = _flatten_alpha(img)
    return img


def _decode(raw: bytes, size: tuple[int, int] | None, max_side: int | None) -> np.ndarray | None:
    """OpenCV's decode as stored (orientation not applied), or None.

    With `max_side`, a large JPEG is decoded at 1/2, 1/4 or 1/8 size (never below
    `max_side`): libjpeg scales while decoding, several times faster than a full decode.
    """
    buf = np.frombuffer(raw, np.uint8)
    if max_side and size and raw[:3] == b"\xff\xd8\xff":
        factor = 1
        while factor < 8 and max(size) // (factor * 2) >= max_side:
            factor *= 2
        if factor > 1:
            img = cv2.imdecode(buf, _REDUCED[factor] | cv2.IMREAD_IGNORE_ORIENTATION)
            if img is not None:
                return img
    try:
        return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    except cv2.error:
        return None


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
    raw = _read_bytes(p, name)
    size, orientation = _header_info(p)
    if size and size[0] * size[1] > MAX_PIXELS:
        raise ImageReadError(f"{name}: image too large ({size[0]}×{size[1]} pixels)")
    img = _decode(raw, size, max_side)
    if img is None or img.size == 0:
        raise ImageReadError(
            f"{name}: not a readable image (PNG, JPEG, BMP, TIFF or WebP expected; "
            f"{len(raw):,} bytes starting {raw[:4]!r})"
        )
    full = size or (img.shape[1], img.shape[0])
    img = np.ascontiguousarray(_upright(to_bgr(img), orientation))
    if orientation in _TRANSPOSING:
        full = (full[1], full[0])
    return img, (int(full[0]), int(full[1]))


def read_image(path: str | os.PathLike) -> np.ndarray:
    """The whole image at full size (BGR uint8, upright, alpha flattened); see `load_image`."""
    return load_image(path)[0]
