"""Training-time data augmentation with Keras 3 preprocessing layers.

Keras 3 dropped `keras.preprocessing.image.ImageDataGenerator`; the random
preprocessing layers replace it. They are active only when called with
`training=True`, so a model or pipeline that includes them is the identity at
inference time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras


@dataclass(frozen=True)
class AugmentConfig:
    """How much to distort each training image (the classic MNIST settings)."""

    rotation_deg: float = 10.0  # ImageDataGenerator(rotation_range=10)
    shift: float = 0.1  # width_shift_range = height_shift_range = 0.1 (of 28 px ≈ ±2.8 px)
    zoom: float = 0.1  # zoom_range=0.1 → scale in [0.9, 1.1]

    def to_dict(self) -> dict:
        return asdict(self)


def augmentation_layers(cfg: AugmentConfig = AugmentConfig(), seed: int | None = None) -> keras.Sequential:
    """A Sequential of random rotation, translation and zoom for (N, 28, 28, 1) batches.

    `fill_mode="constant"` with 0 pads with black, MNIST's background, instead of
    smearing edge pixels. No flips: a mirrored 2 or 7 is not a digit.
    """
    common = {"fill_mode": "constant", "fill_value": 0.0, "interpolation": "bilinear"}
    return keras.Sequential(
        [
            # RandomRotation's factor is a fraction of a full turn: 10° = 10/360.
            keras.layers.RandomRotation(cfg.rotation_deg / 360.0, seed=seed, **common),
            keras.layers.RandomTranslation(cfg.shift, cfg.shift, seed=seed, **common),
            # Negative zoom factors zoom in, positive zoom out; width and height
            # vary independently, as ImageDataGenerator's zoom_range did.
            keras.layers.RandomZoom(cfg.zoom, cfg.zoom, seed=seed, **common),
        ],
        name="augmentation",
    )
