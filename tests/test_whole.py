"""The checker of whole digits: its examples, its cache, and what it tells the split step."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from helpers import data, registry
from helpers.photo import whole


def strokes(n: int = 40) -> np.ndarray:
    """`n` MNIST-like 28×28 'digits': an upright ellipse or a bar, white on black."""
    rng = np.random.default_rng(3)
    x = np.zeros((n, 28, 28), np.float32)
    for k in range(n):
        if k % 2:
            cv2.ellipse(x[k], (14, 14), (int(rng.integers(4, 7)), 9), 0, 0, 360, 1.0, 2)
        else:
            cv2.line(x[k], (14, 5), (int(rng.integers(10, 18)), 23), 1.0, 2)
    return x


def ink_aspect(img: np.ndarray) -> float:
    ys, xs = np.nonzero(img > 0.3)
    return float(np.ptp(xs) + 1) / float(np.ptp(ys) + 1)


def test_examples_are_labelled_by_kind_and_repeat_for_a_seed():
    x = strokes()
    inputs, labels = whole.examples(x, 300, seed=5)
    again, _ = whole.examples(x, 300, seed=5)
    np.testing.assert_array_equal(inputs, again)
    assert inputs.shape == (300, 28, 28) and inputs.dtype == np.float32
    assert set(np.unique(labels)) == {0.0, 1.0}
    share = labels.mean()
    assert abs(share - (1 - whole.PAIR_SHARE - whole.PIECE_SHARE)) < 0.1
    # In MNIST's form every example fills a 20-pixel box; pairs make it wide, single digits do not.
    rng = np.random.default_rng(0)
    pairs = [whole.pair(x, rng) for _ in range(30)]
    singles = [whole._digit(x, rng) for _ in range(30)]
    assert np.median([p.shape[1] / p.shape[0] for p in pairs]) > 1.5 * np.median(
        [s.shape[1] / s.shape[0] for s in singles])
    assert np.median([ink_aspect(i) for i, y in zip(inputs, labels, strict=True) if y == 1]) < 1.0


def test_a_piece_is_never_a_thin_upright_stroke():
    x = strokes()
    rng = np.random.default_rng(1)
    for _ in range(50):
        p = whole.piece(x, rng)
        assert p.shape[1] >= 0.3 * p.shape[0] and p.max() >= 0.3


def test_the_fingerprint_follows_the_code_and_a_missing_checker_is_not_current(models_dir, tmp_path):
    assert not whole.is_current()
    assert whole.path().parent == models_dir
    copy = tmp_path / "src"
    for module, _ in whole.SOURCES:
        (copy / module).parent.mkdir(parents=True, exist_ok=True)
        (copy / module).write_text((registry.HELPERS_DIR / module).read_text())
    assert whole.fingerprint(copy) == whole.fingerprint()
    source = (copy / "photo/whole.py").read_text()
    (copy / "photo/whole.py").write_text(source + "\n# a comment changes nothing\n")
    assert whole.fingerprint(copy) == whole.fingerprint()
    (copy / "photo/whole.py").write_text(source.replace("EPOCHS = 60_000, 6", "EPOCHS = 60_000, 7"))
    assert whole.fingerprint(copy) != whole.fingerprint()


@pytest.mark.slow
def test_the_trained_checker_tells_pairs_and_pieces_from_whole_validation_digits():
    """On examples made from validation digits (never trained on), with the cached checker."""
    model = whole.checker()
    x, y = whole.examples(data.load_splits().x_val, 2000, seed=99)
    p = np.asarray(model(x))[:, 0]
    assert ((p >= 0.5) == (y == 1)).mean() >= 0.9
