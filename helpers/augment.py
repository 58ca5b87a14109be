"""Training-time data augmentation with Keras 3 preprocessing layers.

Keras 3 dropped `keras.preprocessing.image.ImageDataGenerator`; the random
preprocessing layers replace it. They are active only when called with
`training=True`, so a model or pipeline that includes them is the identity at
inference time.
"""

from __future__ import annotations

import math

import keras

from helpers.configs import AugmentConfig


def augmentation_layers(cfg: AugmentConfig = AugmentConfig(), seed: int | None = None) -> keras.Sequential:
    """A Sequential of random stroke width, rotation/shift/zoom and noise for (N, 28, 28, 1) batches.

    Stroke width comes first (it belongs to the pen), noise last (it belongs to the camera).
    No flips: a mirrored 2 or 7 is not a digit.
    """
    layers: list[keras.layers.Layer] = [RandomStrokeWidth(cfg.stroke, seed=seed)] if cfg.stroke > 0 else []
    if cfg.rotation_deg or cfg.shift or cfg.zoom:
        layers.append(RandomAffine(cfg.rotation_deg, cfg.shift, cfg.zoom, seed=seed))
    if cfg.noise > 0:
        layers.append(RandomNoise(cfg.noise, seed=seed))
    return keras.Sequential(layers or [keras.layers.Identity()], name="augmentation")


class RandomAffine(keras.layers.Layer):
    """Random rotation, shift and zoom as one affine transform per image, as `ImageDataGenerator` did.

    Keras' `RandomRotation`, `RandomTranslation` and `RandomZoom` draw the same kinds of
    transform, but each resamples the image: three interpolations where one would do, and
    three times the work. Here each image draws an angle in ±`rotation_deg`, a shift in
    ±`shift` of its size and a scale in [1 - `zoom`, 1 + `zoom`] per axis, and the product
    is applied once (`keras.ops.image.affine_transform`, bilinear). New pixels are 0, MNIST's
    background. Identity when `training` is false.
    """

    def __init__(self, rotation_deg: float, shift: float, zoom: float, seed: int | None = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.rotation_deg, self.shift, self.zoom = float(rotation_deg), float(shift), float(zoom)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def transforms(self, n, height: int, width: int):
        """(n, 8) transforms mapping each output pixel (x, y) to the input point it samples."""
        ops = keras.ops

        def draw(low, high):
            return keras.random.uniform((n,), low, high, seed=self.seed_generator)

        angle = draw(-1.0, 1.0) * (self.rotation_deg * math.pi / 180.0)
        zx, zy = draw(1.0 - self.zoom, 1.0 + self.zoom), draw(1.0 - self.zoom, 1.0 + self.zoom)
        tx, ty = draw(-self.shift, self.shift) * width, draw(-self.shift, self.shift) * height
        cos, sin = ops.cos(angle), ops.sin(angle)
        # input - centre = rotation @ zoom @ (output - centre) + shift, written out per entry.
        a0, a1, b0, b1 = cos * zx, -sin * zy, sin * zx, cos * zy
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        a2 = cx + tx - a0 * cx - a1 * cy
        b2 = cy + ty - b0 * cx - b1 * cy
        zero = ops.zeros_like(angle)
        return ops.stack([a0, a1, a2, b0, b1, b2, zero, zero], axis=1)

    def call(self, inputs, training: bool = False):
        if not training:
            return inputs
        shape = keras.ops.shape(inputs)
        matrix = self.transforms(shape[0], inputs.shape[1], inputs.shape[2])
        return keras.ops.image.affine_transform(inputs, matrix, interpolation="bilinear",
                                                fill_mode="constant", fill_value=0.0)

    def get_config(self) -> dict:
        return {**super().get_config(), "rotation_deg": self.rotation_deg, "shift": self.shift,
                "zoom": self.zoom, "seed": self.seed}


class RandomNoise(keras.layers.Layer):
    """Gaussian pixel noise, clipped to [0, 1]; each image draws its standard deviation from [0, max_stddev].

    Unlike `keras.layers.GaussianNoise` (one fixed level for every image), a random level per
    image keeps clean and lightly noisy digits in every batch, so the network learns to read
    both. Clipping keeps pixels valid, which makes noise on a black background one-sided, as
    in a noisy photo (and in `perturb.noise`). Identity when `training` is false.
    """

    def __init__(self, max_stddev: float, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_stddev = float(max_stddev)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training: bool = False):
        if not training or self.max_stddev <= 0:
            return inputs
        shape = keras.ops.shape(inputs)
        per_image = (shape[0],) + (1,) * (len(inputs.shape) - 1)
        sigma = keras.random.uniform(per_image, 0.0, self.max_stddev, seed=self.seed_generator)
        noise = keras.random.normal(shape, seed=self.seed_generator)
        return keras.ops.clip(inputs + sigma * noise, 0.0, 1.0)

    def get_config(self) -> dict:
        return {**super().get_config(), "max_stddev": self.max_stddev, "seed": self.seed}


class RandomStrokeWidth(keras.layers.Layer):
    """Thicker or thinner strokes: grey-level dilation or erosion with a 2×2 square, for (N, H, W, C).

    Each image is dilated with probability `probability / 2`, eroded with probability
    `probability / 2`, and otherwise left alone. Identity when `training` is false.
    """

    def __init__(self, probability: float, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.probability = float(probability)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training: bool = False):
        if not training or self.probability <= 0:
            return inputs
        # A 2×2 max filter is a grey-level dilation, and erosion is the max filter of the
        # negative. Padding one row and column at the top left makes each output pixel look at
        # itself and its upper-left neighbours, as OpenCV's 2×2 kernel (and `perturb`) does.
        def max_filter(t):
            return keras.ops.max_pool(keras.ops.pad(t, [[0, 0], [1, 0], [1, 0], [0, 0]]), 2, strides=1)

        dilated, eroded = max_filter(inputs), -max_filter(-inputs)
        per_image = (keras.ops.shape(inputs)[0], 1, 1, 1)
        draw = keras.random.uniform(per_image, seed=self.seed_generator)
        half = self.probability / 2
        return keras.ops.where(draw < half, dilated, keras.ops.where(draw < 2 * half, eroded, inputs))

    def get_config(self) -> dict:
        return {**super().get_config(), "probability": self.probability, "seed": self.seed}
