"""Model builders from small, serializable configs.

Every model takes float32 images of shape (N, 28, 28) scaled to [0, 1] (white ink
on black, as MNIST) and returns softmax probabilities over the ten digits.
"""

from __future__ import annotations

import keras
from keras import layers

from helpers.configs import CNNConfig, MLPConfig, StridedCNNConfig


def build_mlp(cfg: MLPConfig = MLPConfig(), name: str = "mlp") -> keras.Model:
    """Build (not compile) the MLP described by `cfg`."""
    inputs = keras.Input(shape=(28, 28), name="image")
    x = layers.Flatten(name="flatten")(inputs)  # 28×28 grid → 784 numbers; 2-D layout is lost
    if cfg.input_dropout:
        x = layers.Dropout(cfg.input_dropout, name="input_dropout")(x)
    for i, units in enumerate(cfg.hidden, start=1):
        # BatchNorm before the ReLU makes the Dense bias redundant.
        x = layers.Dense(units, use_bias=not cfg.batchnorm, name=f"dense_{i}")(x)
        if cfg.batchnorm:
            x = layers.BatchNormalization(name=f"batchnorm_{i}")(x)
        x = layers.Activation("relu", name=f"relu_{i}")(x)
        if cfg.dropout:
            x = layers.Dropout(cfg.dropout, name=f"dropout_{i}")(x)
    outputs = layers.Dense(10, activation="softmax", name="digit")(x)
    return keras.Model(inputs, outputs, name=name)


def build_cnn(cfg: CNNConfig = CNNConfig(), name: str = "cnn") -> keras.Model:
    """Build (not compile) the CNN described by `cfg`."""
    inputs = keras.Input(shape=(28, 28), name="image")
    x = layers.Reshape((28, 28, 1), name="add_channel")(inputs)
    for i, (filters, convs) in enumerate(zip(cfg.filters, cfg.convs, strict=True), start=1):
        for j in range(convs):
            suffix = f"{i}{chr(ord('a') + j)}"  # conv_1a, conv_2a, conv_2b, …
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv_{suffix}")(x)
            x = layers.BatchNormalization(name=f"batchnorm_{suffix}")(x)
            x = layers.Activation("relu", name=f"relu_{suffix}")(x)
        if i < len(cfg.filters):
            x = layers.MaxPooling2D(2, name=f"pool_{i}")(x)  # 28 → 14 → 7
    # Flatten keeps *where* each feature was found (a 7×7 map); global pooling would discard it.
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(cfg.dense, activation="relu", name="dense")(x)
    x = layers.Dropout(cfg.dropout, name="dropout")(x)
    outputs = layers.Dense(10, activation="softmax", name="digit")(x)
    return keras.Model(inputs, outputs, name=name)


def build_strided_cnn(cfg: StridedCNNConfig = StridedCNNConfig(), name: str = "strided") -> keras.Model:
    """Build (not compile) the strided CNN described by `cfg` (28 → 26 → 24 → 12 → 10 → 8 → 4 → 1)."""
    inputs = keras.Input(shape=(28, 28), name="image")
    x = layers.Reshape((28, 28, 1), name="add_channel")(inputs)
    for i, filters in enumerate(cfg.filters[:2], start=1):
        for j, (size, stride) in enumerate([(3, 1), (3, 1), (5, 2)]):
            suffix = f"{i}{chr(ord('a') + j)}"
            # The strided convolution pads ("same") so that 24 → 12 and 8 → 4 exactly.
            x = layers.Conv2D(filters, size, strides=stride, padding="same" if stride > 1 else "valid",
                              use_bias=False, name=f"conv_{suffix}")(x)
            x = layers.BatchNormalization(name=f"batchnorm_{suffix}")(x)
            x = layers.Activation("relu", name=f"relu_{suffix}")(x)
        x = layers.Dropout(cfg.dropout, name=f"dropout_{i}")(x)
    x = layers.Conv2D(cfg.filters[2], 4, use_bias=False, name="conv_3")(x)  # 4×4 maps → one vector
    x = layers.BatchNormalization(name="batchnorm_3")(x)
    x = layers.Activation("relu", name="relu_3")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(cfg.dropout, name="dropout_3")(x)
    # float32 even under mixed precision, so that probabilities keep their resolution.
    outputs = layers.Dense(10, activation="softmax", dtype="float32", name="digit")(x)
    return keras.Model(inputs, outputs, name=name)


ModelConfig = MLPConfig | CNNConfig | StridedCNNConfig


def build_model(cfg: ModelConfig, name: str | None = None) -> keras.Model:
    """Dispatch on the config type."""
    if isinstance(cfg, MLPConfig):
        return build_mlp(cfg, name or "mlp")
    if isinstance(cfg, CNNConfig):
        return build_cnn(cfg, name or "cnn")
    if isinstance(cfg, StridedCNNConfig):
        return build_strided_cnn(cfg, name or "strided")
    raise TypeError(
        f"unknown model config {type(cfg).__name__}; expected MLPConfig, CNNConfig or StridedCNNConfig"
    )
