"""A deterministic suite of perturbed test images, to measure how robust a model is.

Every function takes float32 images (N, 28, 28) scaled to [0, 1] and returns a new
array of the same shape, dtype and range; the input is never modified. None of
them mirrors an image or rotates it far enough to turn one digit into another
(a flipped 2 or a 6 turned upside down would change the right answer).

Where a perturbation is random (the direction of a shift, the sign of a
rotation, the noise), it draws from `seed`, so the same seed gives the same
images on every run and machine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import cv2
import numpy as np

#: A perturbation: `f(images, seed) -> perturbed images`.
Perturbation = Callable[[np.ndarray, int], np.ndarray]
#: An integer seed, or a Generator to draw from (lets `combined` chain its steps).
Seed = int | np.random.Generator


# ---------------------------------------------------------------- input checks


def check_images(x: np.ndarray, name: str = "images") -> np.ndarray:
    """Return `x` as float32 (N, H, W) after checking it holds images scaled to [0, 1].

    Raises ValueError naming what was expected, so a uint8 array or a flat batch
    fails here rather than deep inside OpenCV.
    """
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"{name}: expected a batch of shape (N, 28, 28), got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(
            f"{name}: expected float images scaled to [0, 1], got dtype {x.dtype} "
            "(scale uint8 images with helpers.data.scale)"
        )
    if not np.isfinite(x).all():
        raise ValueError(f"{name}: expected finite pixel values in [0, 1], found NaN or inf")
    if x.size and (x.min() < 0.0 or x.max() > 1.0):
        raise ValueError(
            f"{name}: expected pixel values in [0, 1], got range [{x.min():.3g}, {x.max():.3g}]"
        )
    return x.astype(np.float32, copy=False)


def _rng(seed: Seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _finish(out: np.ndarray) -> np.ndarray:
    # Interpolation and filtering can leave values a hair outside [0, 1].
    return np.clip(out, 0.0, 1.0).astype(np.float32, copy=False)


# ---------------------------------------------------------------- geometry


def affine(
    x: np.ndarray,
    *,
    angles: np.ndarray | float = 0.0,
    scales: np.ndarray | float = 1.0,
    shifts: np.ndarray | tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """Rotate (degrees, counter-clockwise), scale about the image centre, then shift (dx, dy).

    Each parameter is one value for all images or one per image (`shifts`: shape (N, 2)).
    Doing all three in one warp interpolates once, so the digit is blurred once.
    """
    x = check_images(x)
    n, h, w = x.shape
    angles = np.broadcast_to(np.asarray(angles, dtype=np.float64), (n,))
    scales = np.broadcast_to(np.asarray(scales, dtype=np.float64), (n,))
    shifts = np.broadcast_to(np.asarray(shifts, dtype=np.float64), (n, 2))
    if (scales <= 0).any():
        raise ValueError(f"scales must be positive, got minimum {scales.min()}")
    # Pixel centres sit at integer coordinates, so the middle of a 28-px image is 13.5.
    centre = ((w - 1) / 2.0, (h - 1) / 2.0)
    out = np.empty_like(x)
    for i in range(n):
        m = cv2.getRotationMatrix2D(centre, float(angles[i]), float(scales[i]))
        m[:, 2] += shifts[i]
        # Bilinear (not cubic) weights are convex, so the ink stays within [0, 1].
        out[i] = cv2.warpAffine(
            x[i], m, (w, h), flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT, borderValue=0.0,
        )
    return _finish(out)


def _random_signs(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(np.array([-1.0, 1.0]), size=n)


def _random_directions(rng: np.random.Generator, n: int) -> np.ndarray:
    theta = rng.uniform(0.0, 2 * np.pi, size=n)
    return np.stack([np.cos(theta), np.sin(theta)], axis=1)


def shift(x: np.ndarray, pixels: float, seed: Seed = 0) -> np.ndarray:
    """Move each digit `pixels` pixels in a random direction (one per image)."""
    x = check_images(x)
    if pixels < 0:
        raise ValueError(f"pixels must be >= 0, got {pixels}")
    return affine(x, shifts=pixels * _random_directions(_rng(seed), len(x)))


def rotate(x: np.ndarray, degrees: float, seed: Seed = 0) -> np.ndarray:
    """Rotate each digit by ±`degrees` about the centre, the sign random per image."""
    x = check_images(x)
    if not 0 <= degrees <= 45:
        # Past ~45° a 6 starts to look like a 9 (and a 1 like a dash): the label would lie.
        raise ValueError(f"degrees must be in [0, 45] so digits keep their identity, got {degrees}")
    return affine(x, angles=degrees * _random_signs(_rng(seed), len(x)))


def zoom(x: np.ndarray, factor: float) -> np.ndarray:
    """Shrink (factor < 1) or enlarge (factor > 1) each digit about the image centre."""
    if not 0.5 <= factor <= 1.5:
        raise ValueError(f"factor must be in [0.5, 1.5] so the digit stays readable, got {factor}")
    return affine(x, scales=factor)


# ---------------------------------------------------------------- strokes and pixels


def _morph(x: np.ndarray, op: Callable, size: int) -> np.ndarray:
    x = check_images(x)
    if size not in (2, 3):
        # A 3×3 erosion already removes most of the ink of a thin digit.
        raise ValueError(f"size must be 2 or 3 (kernel side in pixels), got {size}")
    kernel = np.ones((size, size), np.uint8)
    return _finish(np.stack([op(im, kernel) for im in x]) if len(x) else x.copy())


def thicken(x: np.ndarray, size: int = 2) -> np.ndarray:
    """Thicker strokes: grey-level dilation with a `size`×`size` square."""
    return _morph(x, cv2.dilate, size)


def thin(x: np.ndarray, size: int = 2) -> np.ndarray:
    """Thinner strokes: grey-level erosion with a `size`×`size` square."""
    return _morph(x, cv2.erode, size)


def blur(x: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Gaussian blur with standard deviation `sigma` pixels."""
    x = check_images(x)
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0 pixels, got {sigma}")
    out = [cv2.GaussianBlur(im, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT) for im in x]
    return _finish(np.stack(out) if len(x) else x.copy())


def noise(x: np.ndarray, sigma: float = 0.2, seed: Seed = 0) -> np.ndarray:
    """Add Gaussian pixel noise with standard deviation `sigma`, then clip to [0, 1]."""
    x = check_images(x)
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    return _finish(x + _rng(seed).normal(0.0, sigma, size=x.shape).astype(np.float32))


def combined(x: np.ndarray, seed: Seed = 0) -> np.ndarray:
    """Several mild changes at once: shift 2 px, rotate ±15°, scale 0.9 or 1.1, noise σ=0.1."""
    x = check_images(x)
    rng = _rng(seed)
    n = len(x)
    out = affine(
        x,
        angles=15.0 * _random_signs(rng, n),
        scales=rng.choice(np.array([0.9, 1.1]), size=n),
        shifts=2.0 * _random_directions(rng, n),
    )
    return noise(out, 0.1, seed=rng)


# ---------------------------------------------------------------- the suite


def _with(f: Callable[..., np.ndarray], *, random: bool = True, **kwargs: float) -> Perturbation:
    """Bind parameters, giving every suite entry the signature `(images, seed)`."""

    def perturbation(x: np.ndarray, seed: int = 0) -> np.ndarray:
        return f(x, seed=seed, **kwargs) if random else f(x, **kwargs)

    perturbation.__name__ = f.__name__
    perturbation.__doc__ = f"{f.__name__}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
    return perturbation


#: Perturbation name → function(images, seed); ordered from mild to harsh within each kind.
SUITE: Mapping[str, Perturbation] = MappingProxyType(
    {
        "shift-2": _with(shift, pixels=2),
        "shift-4": _with(shift, pixels=4),
        "rotate-15": _with(rotate, degrees=15),
        "rotate-25": _with(rotate, degrees=25),
        "scale-0.8": _with(zoom, factor=0.8, random=False),
        "scale-1.2": _with(zoom, factor=1.2, random=False),
        "thicken": _with(thicken, size=2, random=False),
        "thin": _with(thin, size=2, random=False),
        "blur": _with(blur, sigma=1.0, random=False),
        "noise": _with(noise, sigma=0.2),
        "combined": _with(combined),
    }
)


def perturbed_suite(x: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """`{"clean": x, **{name: perturbation(x, seed) for name in SUITE}}`, in SUITE order."""
    x = check_images(x)
    return {"clean": x, **{name: f(x, seed) for name, f in SUITE.items()}}
