"""Tests for helpers.perturb on small synthetic digits (no MNIST download needed)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from helpers import perturb


def _strokes(n: int = 16, seed: int = 0) -> np.ndarray:
    """n digit-like images: a few random thick line segments around the centre, in [0, 1]."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 28, 28), np.float32)
    for img in out:
        for _ in range(3):
            p, q = rng.integers(8, 20, size=2), rng.integers(8, 20, size=2)
            cv2.line(img, tuple(int(v) for v in p), tuple(int(v) for v in q), 1.0, 2)
    # Soft edges like MNIST's anti-aliased strokes.
    return np.stack([cv2.GaussianBlur(im, (3, 3), 0.6) for im in out]).clip(0, 1)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return _strokes()


def _centre_of_mass(x: np.ndarray) -> np.ndarray:
    """(N, 2) centres of mass as (col, row), i.e. (x, y) like OpenCV."""
    rows, cols = np.mgrid[0:28, 0:28]
    mass = x.sum(axis=(1, 2))
    return np.stack([(x * cols).sum((1, 2)) / mass, (x * rows).sum((1, 2)) / mass], axis=1)


@pytest.mark.parametrize("name", list(perturb.SUITE))
def test_suite_entry_keeps_shape_dtype_range_and_changes_images(images, name):
    before = images.copy()
    out = perturb.SUITE[name](images, 0)
    assert out.shape == images.shape
    assert out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_array_equal(images, before)  # the input is left alone
    changed = np.abs(out - images).reshape(len(images), -1).max(axis=1) > 0.05
    assert changed.all(), f"{name} left {np.sum(~changed)} images unchanged"


@pytest.mark.parametrize("name", list(perturb.SUITE))
def test_suite_entry_is_deterministic_for_a_seed(images, name):
    np.testing.assert_array_equal(perturb.SUITE[name](images, 3), perturb.SUITE[name](images, 3))


RANDOM = ["shift-2", "shift-4", "rotate-15", "rotate-25", "noise", "combined"]


@pytest.mark.parametrize("name", RANDOM)
def test_random_entries_differ_between_seeds(images, name):
    assert not np.array_equal(perturb.SUITE[name](images, 0), perturb.SUITE[name](images, 1))


@pytest.mark.parametrize("k", [2, 4])
def test_shift_moves_centre_of_mass_by_k_pixels(images, k):
    moved = _centre_of_mass(perturb.shift(images, k, seed=0)) - _centre_of_mass(images)
    np.testing.assert_allclose(np.linalg.norm(moved, axis=1), k, atol=0.05)
    # Directions are drawn per image, not one for the whole batch.
    angles = np.arctan2(moved[:, 1], moved[:, 0])
    assert np.ptp(angles) > 1.0


def test_rotate_turns_each_image_by_plus_or_minus_degrees():
    bar = np.zeros((40, 28, 28), np.float32)
    bar[:, 6:22, 13:15] = 1.0  # vertical bar through the centre
    out = perturb.rotate(bar, 25, seed=0)
    # Orientation of the ink from its second moments; 0 = vertical.
    rows, cols = np.mgrid[0:28, 0:28] - 13.5
    w = out / out.sum((1, 2), keepdims=True)
    cov_xy, cov_yy = (w * cols * rows).sum((1, 2)), (w * rows * rows).sum((1, 2))
    cov_xx = (w * cols * cols).sum((1, 2))
    tilt = np.degrees(0.5 * np.arctan2(2 * cov_xy, cov_yy - cov_xx))
    np.testing.assert_allclose(np.abs(tilt), 25, atol=2)
    assert (tilt > 0).any() and (tilt < 0).any()


def test_zoom_changes_ink_extent_about_the_centre(images):
    def spread(x):
        rows, cols = np.mgrid[0:28, 0:28] - 13.5
        return np.sqrt((x * (rows**2 + cols**2)).sum((1, 2)) / x.sum((1, 2)))

    np.testing.assert_allclose(spread(perturb.zoom(images, 1.2)) / spread(images), 1.2, rtol=0.05)
    np.testing.assert_allclose(spread(perturb.zoom(images, 0.8)) / spread(images), 0.8, rtol=0.05)


def test_thicken_adds_ink_and_thin_removes_it_without_erasing(images):
    ink = images.sum((1, 2))
    assert (perturb.thicken(images).sum((1, 2)) > 1.2 * ink).all()
    thinned = perturb.thin(images).sum((1, 2))
    assert (thinned < 0.8 * ink).all() and (thinned > 0.05 * ink).all()


def test_blur_keeps_ink_and_lowers_the_peak():
    dot = np.zeros((1, 28, 28), np.float32)
    dot[0, 14, 14] = 1.0
    out = perturb.blur(dot, sigma=1.0)
    assert out.max() < 0.5
    assert out.sum() == pytest.approx(1.0, abs=0.01)


def test_noise_has_requested_std_before_clipping():
    grey = np.full((4, 28, 28), 0.5, np.float32)  # far from 0 and 1: little clipping
    out = perturb.noise(grey, sigma=0.1, seed=0)
    assert (out - grey).std() == pytest.approx(0.1, rel=0.05)
    assert (out - grey).mean() == pytest.approx(0.0, abs=0.01)


def test_perturbed_suite_starts_with_clean_and_follows_suite_order(images):
    suite = perturb.perturbed_suite(images, seed=0)
    assert list(suite) == ["clean", *perturb.SUITE]
    np.testing.assert_array_equal(suite["clean"], images)
    np.testing.assert_array_equal(suite["shift-2"], perturb.shift(images, 2, seed=0))


def test_suite_is_read_only():
    with pytest.raises(TypeError):
        perturb.SUITE["mine"] = perturb.blur  # type: ignore[index]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros((28, 28), np.float32), "shape"),
        (np.zeros((2, 784), np.float32), "shape"),
        (np.zeros((2, 28, 28), np.uint8), "dtype uint8"),
        (np.full((2, 28, 28), 255.0, np.float32), r"\[0, 1\]"),
        (np.full((2, 28, 28), np.nan, np.float32), "NaN"),
    ],
)
def test_bad_input_raises_clear_value_error(bad, message):
    with pytest.raises(ValueError, match=message):
        perturb.shift(bad, 2)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: perturb.rotate(x, 90), "degrees"),
        (lambda x: perturb.zoom(x, 3.0), "factor"),
        (lambda x: perturb.thin(x, size=5), "size"),
        (lambda x: perturb.blur(x, sigma=0), "sigma"),
        (lambda x: perturb.shift(x, -1), "pixels"),
    ],
)
def test_bad_parameters_raise_clear_value_error(images, call, message):
    with pytest.raises(ValueError, match=message):
        call(images)


def test_empty_batch_is_fine():
    empty = np.zeros((0, 28, 28), np.float32)
    for f in perturb.SUITE.values():
        assert f(empty, 0).shape == (0, 28, 28)
