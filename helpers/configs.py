"""What a model is and how it is trained, as small frozen dataclasses (no TensorFlow here).

A config's `to_dict()` is stored beside every trained model, so the registry can tell
whether a cached model was made by the recipe as it is now.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

SEED = 42


@dataclass(frozen=True)
class MLPConfig:
    """A fully connected network: Flatten → [input Dropout] → [Dense → BatchNorm → ReLU → Dropout] × n
    → softmax."""

    hidden: tuple[int, ...] = (1024, 1024)
    dropout: float = 0.3
    batchnorm: bool = True
    # Share of input pixels dropped in training (Hinton et al. 2012 dropped 20%): a plain MLP's
    # only defence against memorising exact pixels, since it sees no distorted copies.
    input_dropout: float = 0.0

    def to_dict(self) -> dict:
        return {"arch": "mlp", **asdict(self), "hidden": list(self.hidden)}


@dataclass(frozen=True)
class CNNConfig:
    """A small convolutional network: blocks of [Conv → BatchNorm → ReLU] layers, with pooling.

    `filters` gives each block's channels and `convs` how many convolutions each block stacks.
    """

    filters: tuple[int, ...] = (16, 32, 64)
    convs: tuple[int, ...] = (1, 1, 2)
    dense: int = 128
    dropout: float = 0.3

    def __post_init__(self) -> None:
        if len(self.convs) != len(self.filters) or min(self.convs, default=0) < 1:
            raise ValueError(
                f"convs must give each of the {len(self.filters)} blocks at least one convolution, "
                f"got {self.convs}"
            )

    def to_dict(self) -> dict:
        return {"arch": "cnn", **asdict(self), "filters": list(self.filters), "convs": list(self.convs)}


@dataclass(frozen=True)
class StridedCNNConfig:
    """Deotte's MNIST network (Kaggle, 2018): two blocks of [3×3, 3×3, 5×5 with stride 2]
    convolutions, each followed by BatchNorm and ReLU, then dropout; a 4×4 convolution to one
    vector; dropout; softmax. Strided convolutions downsample instead of pooling.

    `filters` gives the channels of the two blocks and of the last convolution.
    """

    filters: tuple[int, int, int] = (32, 64, 128)
    dropout: float = 0.4

    def to_dict(self) -> dict:
        return {"arch": "strided", **asdict(self), "filters": list(self.filters)}


@dataclass(frozen=True)
class AugmentConfig:
    """How much to distort each training image: the classic MNIST settings, plus stroke width and noise."""

    rotation_deg: float = 10.0  # ImageDataGenerator(rotation_range=10)
    shift: float = 0.1  # width_shift_range = height_shift_range = 0.1 (of 28 px ≈ ±2.8 px)
    zoom: float = 0.1  # zoom_range=0.1 → scale in [0.9, 1.1]
    # Not in ImageDataGenerator; both chosen on perturbed *validation* images (README, "How
    # augmentation and the CNN were chosen"):
    # share of images drawn with thicker or thinner strokes (half each), as other pens would;
    stroke: float = 0.5
    # largest standard deviation of Gaussian pixel noise; each image draws its own in [0, noise].
    noise: float = 0.2

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TrainConfig:
    """How to train: optimizer, schedule, stopping."""

    epochs: int = 20
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.0
    patience: int = 8  # early stopping on validation accuracy
    seed: int = SEED
    # Epochs of linear warm-up from a tenth of `learning_rate`, so that a large batch's high rate
    # is not applied to freshly initialised weights at once (as Goyal et al. 2017 did).
    warmup_epochs: int = 0
    # Keras' "mixed_bfloat16" computes in bfloat16 and keeps float32 weights: faster for
    # convolutions on CPUs with AVX512-BF16, six times slower on CPUs without it.
    bfloat16: bool = False
