"""Synthetic photos for the tests: digits drawn with an OpenCV font, and a checked image write."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def draw(text: str = "4", size: tuple[int, int] = (300, 300), *, scale: float = 6.0,
         thickness: int = 14, org: tuple[int, int] | None = None, ink: int = 20,
         paper: int = 235) -> np.ndarray:
    """Dark digits on light paper (BGR uint8), drawn with an OpenCV font."""
    w, h = size
    img = np.full((h, w, 3), paper, np.uint8)
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    org = org or ((w - tw) // 2, (h + th) // 2)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (ink,) * 3, thickness, cv2.LINE_AA)
    return img


def save(img: np.ndarray, path: Path, *params: int) -> Path:
    """Write `img` with OpenCV (format from the suffix), failing the test if it cannot."""
    assert cv2.imwrite(str(path), img, list(params))
    return path
