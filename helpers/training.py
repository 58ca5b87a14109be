"""How a model is trained: seeding, the tf.data input pipeline, the optimizer and the loop.

This module is the *training code* of every cached model: `registry.code_fingerprint`
hashes it (with the builders and the augmentation layers), so any change here makes the
cached models stale. Saving and loading trained models is `model_cache`'s job.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from helpers import data
from helpers.augment import augmentation_layers
from helpers.configs import SEED, AugmentConfig, TrainConfig
from helpers.models import build_model
from helpers.registry import Recipe

# ---------------------------------------------------------------- seeding


def set_seed(seed: int = SEED) -> None:
    """Seed Python, NumPy and TensorFlow, and ask TensorFlow for deterministic ops.

    With both, rerunning a notebook on the same machine prints the same numbers.
    """
    keras.utils.set_random_seed(seed)
    # Raises RuntimeError only if already enabled or set too late; either way it is harmless.
    with contextlib.suppress(RuntimeError):
        tf.config.experimental.enable_op_determinism()


# ---------------------------------------------------------------- input pipeline


def make_dataset(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    *,
    shuffle: bool = False,
    augment: AugmentConfig | None = None,
    seed: int = SEED,
) -> tf.data.Dataset:
    """A batched tf.data pipeline; augmentation runs on whole batches, in parallel, ahead of the model.

    Reproducible after `set_seed` (which `fit` calls): the random augmentation ops inside
    tf.data take their seeds from TensorFlow's global seed.
    """
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment is not None:
        aug = augmentation_layers(augment, seed=seed)

        def apply(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            images = aug(images[..., None], training=True)[..., 0]
            return images, labels

        ds = ds.map(apply, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


# ---------------------------------------------------------------- training


class EpochLog(keras.callbacks.Callback):
    """One short line per epoch (Keras' progress bar would bloat notebooks)."""

    def __init__(self, every: int = 1) -> None:
        super().__init__()
        self.every = every

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        last = epoch + 1 == self.params.get("epochs")
        if (epoch + 1) % self.every and not last:
            return
        print(f"{epoch_line(epoch + 1, logs or {})}  ({time.perf_counter() - self._start:.1f}s)", flush=True)


def epoch_line(epoch: int, logs: dict) -> str:
    """One epoch of the training log: losses and accuracies on training and validation data."""
    get = lambda key: logs.get(key, float("nan"))  # noqa: E731
    return (f"epoch {epoch:3d}  loss {get('loss'):.4f}  acc {get('accuracy'):.4f}  "
            f"val_loss {get('val_loss'):.4f}  val_acc {get('val_accuracy'):.4f}")


#: Training steps per call into the compiled graph. One step per call spends more time in Python
#: than in the network for a small model on a CPU, most of all with deterministic ops
#: (`benchmarks/speedups.py` measures it); the callbacks still run after every epoch.
STEPS_PER_EXECUTION = 16


def learning_rate_schedule(
    cfg: TrainConfig, steps_per_epoch: int
) -> keras.optimizers.schedules.LearningRateSchedule:
    """Cosine decay to 1% of `cfg.learning_rate`, after a linear warm-up from a tenth of it over
    `cfg.warmup_epochs` epochs (none by default)."""
    warm = cfg.warmup_epochs * steps_per_epoch
    return keras.optimizers.schedules.CosineDecay(
        cfg.learning_rate / 10 if warm else cfg.learning_rate,
        decay_steps=max(1, cfg.epochs * steps_per_epoch - warm), alpha=0.01,
        warmup_target=cfg.learning_rate if warm else None, warmup_steps=warm,
    )


def compile_model(model: keras.Model, cfg: TrainConfig, steps_per_epoch: int) -> None:
    """AdamW, `learning_rate_schedule`, cross-entropy loss; `STEPS_PER_EXECUTION` steps per call."""
    schedule = learning_rate_schedule(cfg, steps_per_epoch)
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=cfg.weight_decay),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
        metrics=["accuracy"],
        steps_per_execution=STEPS_PER_EXECUTION,
    )


def native_bfloat16(cpuinfo: str | Path = "/proc/cpuinfo") -> bool:
    """Whether this CPU computes bfloat16 itself (AVX512-BF16 or AMX). Elsewhere TensorFlow
    emulates it, about six times slower than float32, so a recipe's `bfloat16` is then ignored
    and the model trains in float32 (its record says which: `TrainConfig` and `precision`)."""
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return False
    flags = {flag for line in text.splitlines() if line.startswith("flags") for flag in line.split()}
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def precision(cfg: TrainConfig) -> str:
    """The Keras dtype policy `cfg` trains under on this CPU: "mixed_bfloat16" if it asks for
    bfloat16 and the CPU computes it (`native_bfloat16`), else "float32"."""
    return "mixed_bfloat16" if cfg.bfloat16 and native_bfloat16() else "float32"


@contextlib.contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Build layers under Keras' global dtype policy `name`, and restore float32 afterwards."""
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


def build(recipe: Recipe, name: str | None = None) -> keras.Model:
    """`recipe`'s untrained network, built under the precision it trains in (`precision`).

    Only the model: the input pipeline's augmentation stays in float32 whatever the policy.
    """
    with dtype_policy(precision(recipe.train)):
        return build_model(recipe.model, name=name)


def fit(
    recipe: Recipe, splits: data.Splits, *, verbose: bool = True, log_every: int = 1
) -> tuple[keras.Model, dict]:
    """Train `recipe` on the training split, watching the validation split.

    Returns the model (best validation epoch restored) and its Keras history.
    """
    set_seed(recipe.train.seed)
    cfg = recipe.train
    model = build(recipe, name=recipe.name.replace("-", "_"))
    one_hot = lambda y: keras.utils.to_categorical(y, 10)  # noqa: E731
    train_ds = make_dataset(
        splits.x_train, one_hot(splits.y_train), cfg.batch_size,
        shuffle=True, augment=recipe.augment, seed=cfg.seed,
    )
    val_ds = make_dataset(splits.x_val, one_hot(splits.y_val), 1024)
    compile_model(model, cfg, steps_per_epoch=int(np.ceil(len(splits.x_train) / cfg.batch_size)))
    callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.EarlyStopping(
            monitor="val_accuracy", patience=cfg.patience, restore_best_weights=True
        )
    ]
    if verbose:
        callbacks.append(EpochLog(log_every))
    history = model.fit(
        train_ds, validation_data=val_ds, epochs=cfg.epochs, callbacks=callbacks,
        shuffle=False, verbose=0,  # the dataset shuffles itself, seeded
    )
    if precision(cfg) != "float32":
        # The weights were kept in float32: hand back a float32 model holding them (LiteRT
        # cannot convert bfloat16 ops, and inference gains nothing from them).
        trained, model = model, build_model(recipe.model, name=model.name)
        model.set_weights(trained.get_weights())
    return model, {k: [float(v) for v in vals] for k, vals in history.history.items()}
