"""Fixtures shared by the test modules: tiny learnable data and a private model cache."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import data, registry


@pytest.fixture(scope="session")
def tiny_splits() -> data.Splits:
    """300 / 100 / 100 synthetic 'digits': class k lights up row band k, so it is learnable."""
    rng = np.random.default_rng(0)

    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 10, n).astype(np.uint8)
        x = rng.uniform(0, 0.2, (n, 28, 28)).astype(np.float32)
        for i, k in enumerate(y):
            x[i, 2 + 2 * k : 4 + 2 * k, 4:24] = 1.0
        return x, y

    return data.Splits(*make(300), *make(100), *make(100))


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """An empty model cache of the test's own (the real one in data/models is never touched)."""
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv(registry.MODELS_ENV, str(folder))
    return folder
