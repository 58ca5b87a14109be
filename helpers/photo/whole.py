"""Is a group of ink one whole digit? A small CNN trained for that question alone.

MNIST models read half a 3 as a 3, and can read two touching digits as one digit, as surely
as a whole digit: their certainty cannot tell when a group holds two digits. This checker is
trained on MNIST *training* digits (one whole digit) against two of them side by side, from
slightly apart to overlapping (a pair), and a digit cut in two (a piece), each brought to MNIST's
form by `to_mnist` as the pipeline brings what it finds. Its validation examples are made the
same way from the validation split; the test set is never used. `helpers.photo.split` asks it
which wide groups to cut.

It is cached beside the digit models (`whole-digit.keras`, `.tflite`, `.json`) and used only
while the code that made it is unchanged; otherwise it is trained again on first use (about 70 s
of training on a 2-core AMD EPYC with AVX-512, 222 s on one without, a little more with loading
TensorFlow and saving).
"""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from helpers import data, inference, registry
from helpers.configs import SEED, AugmentConfig, TrainConfig
from helpers.photo.mnist_form import to_mnist

NAME = "whole-digit"
#: Training examples (kinds drawn at random: `PAIR_SHARE` pairs, `PIECE_SHARE` pieces, the rest
#: whole digits) and epochs.
EXAMPLES, EPOCHS = 60_000, 6
PAIR_SHARE, PIECE_SHARE = 0.3, 0.2
#: The source the checker depends on: whole modules, or (module, top-level names).
SOURCES: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    ("photo/whole.py", None),
    ("photo/mnist_form.py", None),
    ("photo/ink.py", ("stroke_width",)),
    ("training.py", ("set_seed", "make_dataset", "learning_rate_schedule")),
    ("augment.py", None),
    ("data.py", ("VALIDATION_SIZE", "Splits", "scale", "load_splits")),
    ("configs.py", ("SEED", "AugmentConfig", "TrainConfig")),
)


def _tight(img: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(img.max(axis=1) > 0.05)[0], np.nonzero(img.max(axis=0) > 0.05)[0]
    return img[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _digit(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # Three times MNIST's size, so that to_mnist matches strokes and shrinks as it does photos.
    return _tight(cv2.resize(x[rng.integers(len(x))], None, fx=3, fy=3, interpolation=cv2.INTER_LINEAR))


def pair(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two digits of `x` side by side: overlapping by up to 30% of the narrower, or up to 8% apart."""
    a, b = _digit(x, rng), _digit(x, rng)
    f = rng.uniform(0.85, 1.15)
    b = cv2.resize(b, None, fx=f, fy=f, interpolation=cv2.INTER_LINEAR)
    gap = int(rng.uniform(-0.3, 0.08) * min(a.shape[1], b.shape[1]))
    dy = int(rng.uniform(-0.12, 0.12) * max(a.shape[0], b.shape[0]))
    xb = max(0, a.shape[1] + gap)
    out = np.zeros((max(a.shape[0], b.shape[0]) + abs(dy), max(a.shape[1], xb + b.shape[1])), np.float32)
    ya, yb = max(0, -dy), max(0, dy)
    out[ya : ya + a.shape[0], : a.shape[1]] = a
    region = out[yb : yb + b.shape[0], xb : xb + b.shape[1]]
    np.maximum(region, b, out=region)
    return out


def piece(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """30-70% of a digit of `x`, cut across or along, shrunk to its ink.

    A thin upright piece looks like a 1, and is one for all anyone can tell: drawn again.
    """
    while True:
        a = _digit(x, rng)
        h, w = a.shape
        f = rng.uniform(0.3, 0.7)
        side = rng.integers(4)
        cut = [a[:, : int(f * w)], a[:, int((1 - f) * w) :], a[: int(f * h)], a[int((1 - f) * h) :]][side]
        if cut.size and cut.max() >= 0.3:
            cut = _tight(cut)
            if cut.shape[1] >= 0.3 * cut.shape[0]:
                return cut


def examples(x: np.ndarray, n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """`n` inputs (n, 28, 28) made from the digits `x`, and labels: 1 = one whole digit, 0 = not."""
    rng = np.random.default_rng(seed)
    kinds = rng.random(n)
    inputs = np.empty((n, 28, 28), np.float32)
    for k, u in enumerate(kinds):
        if u < PAIR_SHARE:
            ink = pair(x, rng)
        elif u < PAIR_SHARE + PIECE_SHARE:
            ink = piece(x, rng)
        else:
            ink = _digit(x, rng)
        inputs[k] = to_mnist(ink)[0]
    return inputs, (kinds >= PAIR_SHARE + PIECE_SHARE).astype(np.float32)


def fingerprint(source_dir: Path | None = None) -> str:
    """A hash of the code that makes the checker's examples and trains it (comments aside)."""
    folder = source_dir or registry.HELPERS_DIR
    texts = {module: (folder / module).read_text(encoding="utf-8") for module, _ in SOURCES}
    return registry.sources_fingerprint(SOURCES, texts)


def path() -> Path:
    """`whole-digit.keras` in the model cache (`.tflite` and `.json` beside it)."""
    return registry.models_dir() / f"{NAME}.keras"


def is_current() -> bool:
    """True when the cached checker exists and was made by today's code."""
    record = registry.load_metrics(path())
    return path().is_file() and record.get("code") == fingerprint()


def train(splits: data.Splits | None = None, *, verbose: bool = True) -> dict:
    """Train the checker on examples from the training split, measure it on examples from the
    validation split, and save it to the cache; returns its record."""
    import keras  # TensorFlow loads only to train
    from keras import layers

    from helpers import model_cache, training

    splits = splits or data.load_splits()
    start = time.perf_counter()
    x, y = examples(splits.x_train, EXAMPLES, SEED)
    x_val, y_val = examples(splits.x_val, EXAMPLES // 6, SEED + 1)
    training.set_seed(SEED)
    model = keras.Sequential([
        keras.Input(shape=(28, 28), name="image"),
        layers.Reshape((28, 28, 1)),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(1, activation="sigmoid", name="whole"),
    ], name="whole_digit")
    # Cosine decay, as the digit models: the last epoch's weights are kept, so they should be settled.
    steps = int(np.ceil(len(x) / 256))
    schedule = training.learning_rate_schedule(TrainConfig(epochs=EPOCHS, learning_rate=2e-3), steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="binary_crossentropy", metrics=["accuracy"])
    train_ds = training.make_dataset(x, y[:, None], 256, shuffle=True, augment=AugmentConfig(), seed=SEED)
    val_ds = training.make_dataset(x_val, y_val[:, None], 1024)
    history = model.fit(train_ds, validation_data=val_ds, epochs=EPOCHS, shuffle=False, verbose=0)
    seconds = time.perf_counter() - start
    record = {
        "name": NAME,
        "code": fingerprint(),
        "params": int(model.count_params()),
        "train_seconds": round(seconds, 1),
        "val_accuracy": float(history.history["val_accuracy"][-1]),
        "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
    }
    model_cache.save(model, record, path())
    if verbose:
        print(f"{NAME}: trained in {seconds:.0f} s; {record['val_accuracy']:.2%} of validation examples "
              "told right (whole digit, or a pair or piece)", flush=True)
    return record


@functools.cache
def checker() -> inference.Model:
    """The cached checker (LiteRT), trained first when missing or made by other code.

    Call it on (N, 28, 28) inputs; column 0 of its output is the probability of one whole digit.
    """
    if not is_current():
        print(f"{NAME}: no current checker of whole digits; training it now (one to four minutes)",
              file=sys.stderr, flush=True)
        train(verbose=False)
    return inference.load_model(path(), runtime="litert")
