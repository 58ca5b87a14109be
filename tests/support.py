"""What several test modules share: synthetic photos, the sample photos, the external-set marker."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from helpers import external_sets
from helpers.data import REPO_ROOT

SAMPLES = REPO_ROOT / "notebooks" / "samples"

#: Tests on the real external digits and USPS. They skip on a machine without ../shared, saying
#: so; in CI (CI=true), where the folder is laid beside the clone, a missing folder fails them.
needs_external = pytest.mark.skipif(
    not (external_sets.external_root() / "labels.csv").is_file() and not os.environ.get("CI"),
    reason=f"external-digits set not found at {external_sets.external_root()} "
    f"(set ${external_sets.EXTERNAL_ENV} to measure on real handwriting)",
)


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
