"""Training, seeding, and the model cache shared by the notebooks and the CLI.

A *recipe* names a model config, an optional augmentation and the training
settings. `get_model(name)` loads the trained model from the cache
(`data/models/<name>.keras` with `<name>.json` beside it) or trains it, so every
notebook can run on its own and each model trains once per machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from helpers import UserError, data
from helpers.augment import AugmentConfig, augmentation_layers
from helpers.models import CNNConfig, MLPConfig, build_model

MODELS_DIR = data.REPO_ROOT / "data" / "models"
MODELS_ENV = "MNIST_MODELS_DIR"
SEED = 42


class ModelError(UserError):
    """A model file is missing, unknown or unreadable; the message says which."""


# ---------------------------------------------------------------- seeding


def set_seed(seed: int = SEED) -> None:
    """Seed Python, NumPy and TensorFlow, and ask TensorFlow for deterministic ops.

    With both, rerunning a notebook on the same machine prints the same numbers.
    """
    keras.utils.set_random_seed(seed)
    # Raises RuntimeError only if already enabled or set too late; either way it is harmless.
    with contextlib.suppress(RuntimeError):
        tf.config.experimental.enable_op_determinism()


# ---------------------------------------------------------------- recipes


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


@dataclass(frozen=True)
class Recipe:
    """Everything that determines a trained model; its dict is saved beside the model."""

    name: str
    model: MLPConfig | CNNConfig
    train: TrainConfig = field(default_factory=TrainConfig)
    augment: AugmentConfig | None = None

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "model": self.model.to_dict(),
            "train": asdict(self.train),
            "augment": self.augment.to_dict() if self.augment else None,
        }


# Noise in the augmentation costs some clean accuracy; a larger batch, a higher learning rate and
# 25 epochs won it back within the 10-minute budget (chosen on validation, see the README).
_CNN_TRAIN = TrainConfig(epochs=25, batch_size=256, learning_rate=2e-3, patience=25)

RECIPES: dict[str, Recipe] = {
    "mlp": Recipe("mlp", MLPConfig(), TrainConfig(epochs=20)),
    "mlp-aug": Recipe("mlp-aug", MLPConfig(), TrainConfig(epochs=50), AugmentConfig()),
    # The CNN's validation accuracy jumps around while the learning rate is high (batch-norm
    # statistics lag the weights); its best epochs come late, so it runs its whole budget and
    # keeps the best epoch instead of stopping early.
    "cnn": Recipe("cnn", CNNConfig(), _CNN_TRAIN),
    "cnn-aug": Recipe("cnn-aug", CNNConfig(), _CNN_TRAIN, AugmentConfig()),
}
#: The models the notebooks train, in order; `best_model_name` chooses among them.
SERIES = ("mlp", "mlp-aug", "cnn-aug")
#: What `predict` trains and uses when no model has been trained yet.
DEFAULT_MODEL = "cnn-aug"


def recipe_for(
    arch: str, augment: bool, epochs: int | None = None, noise: float | None = None,
    stroke: float | None = None, convs: tuple[int, ...] | None = None,
) -> Recipe:
    """The named recipe for an architecture; epochs, noise, stroke and convs override its settings."""
    name = f"{arch}-aug" if augment else arch
    if name not in RECIPES:
        raise ModelError(f"no recipe for arch {arch!r}; known: {', '.join(RECIPES)}")
    recipe = RECIPES[name]
    if epochs is not None:
        recipe = replace(recipe, train=replace(recipe.train, epochs=epochs))
    if convs is not None:
        if not isinstance(recipe.model, CNNConfig):
            raise ModelError("convs (convolutions per block) applies to the CNN: use --arch cnn")
        try:
            recipe = replace(recipe, model=replace(recipe.model, convs=tuple(convs)))
        except ValueError as err:
            raise ModelError(str(err)) from None
    for setting, value, meaning in [("noise", noise, "a standard deviation"), ("stroke", stroke, "a share")]:
        if value is None:
            continue
        if recipe.augment is None:
            raise ModelError(f"{setting} is part of augmentation: use it with an augmented recipe, --augment")
        if not 0.0 <= value <= 1.0:
            raise ModelError(f"{setting} must be {meaning} in [0, 1], got {value}")
        recipe = replace(recipe, augment=replace(recipe.augment, **{setting: value}))
    return recipe


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
        logs = logs or {}
        last = epoch + 1 == self.params.get("epochs")
        if (epoch + 1) % self.every and not last:
            return
        print(
            f"epoch {epoch + 1:3d}  loss {logs.get('loss', float('nan')):.4f}  "
            f"acc {logs.get('accuracy', float('nan')):.4f}  "
            f"val_loss {logs.get('val_loss', float('nan')):.4f}  "
            f"val_acc {logs.get('val_accuracy', float('nan')):.4f}  "
            f"({time.perf_counter() - self._start:.1f}s)",
            flush=True,
        )


def compile_model(model: keras.Model, cfg: TrainConfig, steps_per_epoch: int) -> None:
    """AdamW with a cosine-decaying learning rate and cross-entropy loss."""
    schedule = keras.optimizers.schedules.CosineDecay(
        cfg.learning_rate, decay_steps=max(1, cfg.epochs * steps_per_epoch), alpha=0.01
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=cfg.weight_decay),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
        metrics=["accuracy"],
    )


def fit(
    recipe: Recipe, splits: data.Splits, *, verbose: bool = True, log_every: int = 1
) -> tuple[keras.Model, dict]:
    """Train `recipe` on the training split, watching the validation split.

    Returns the model (best validation epoch restored) and its Keras history.
    """
    set_seed(recipe.train.seed)
    cfg = recipe.train
    model = build_model(recipe.model, name=recipe.name.replace("-", "_"))
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
    return model, {k: [float(v) for v in vals] for k, vals in history.history.items()}


def predict_proba(model: keras.Model, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Class probabilities (N, 10) for images (N, 28, 28) or (28, 28) scaled to [0, 1]."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise ValueError(f"expected images of shape (N, 28, 28), got {x.shape}")
    # Calling the model directly, batch by batch, avoids `model.predict`'s per-call set-up and
    # its retracing warnings when many models or small inputs are evaluated in a row.
    batches = [model(x[i : i + batch_size], training=False) for i in range(0, len(x), batch_size)]
    return np.concatenate([np.asarray(b) for b in batches]) if batches else np.zeros((0, 10), np.float32)


def accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """Share of images whose most probable class is the label."""
    return float(np.mean(predict_proba(model, x).argmax(axis=1) == y))


def train(
    recipe: Recipe | str,
    *,
    out: str | os.PathLike | None = None,
    splits: data.Splits | None = None,
    verbose: bool = True,
    log_every: int = 1,
) -> tuple[keras.Model, dict]:
    """Train a recipe, measure it, and save model and metrics to the cache (or `out`).

    Returns the model and its metrics dict (also written as JSON beside the model).
    """
    recipe = RECIPES[recipe] if isinstance(recipe, str) else recipe
    splits = splits or data.load_splits()
    start = time.perf_counter()
    model, history = fit(recipe, splits, verbose=verbose, log_every=log_every)
    seconds = time.perf_counter() - start
    metrics = {
        "name": recipe.name,
        "recipe": recipe.to_dict(),
        "params": int(model.count_params()),
        "epochs_run": len(history.get("loss", [])),
        "train_seconds": round(seconds, 1),
        "val_accuracy": accuracy(model, splits.x_val, splits.y_val),
        "test_accuracy": accuracy(model, splits.x_test, splits.y_test),
        "history": history,
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
    }
    save(model, metrics, out or model_path(recipe.name))
    return model, metrics


# ---------------------------------------------------------------- cache


def models_dir() -> Path:
    return Path(os.environ.get(MODELS_ENV) or MODELS_DIR)


def model_path(name: str) -> Path:
    return models_dir() / f"{name}.keras"


def _replace_atomically(path: Path, write) -> None:
    """Call `write(tmp_path)`, then rename over `path`: an interruption leaves the old file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, data.file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(model: keras.Model, metrics: dict, path: str | os.PathLike) -> Path:
    """Save `model` (.keras) and `metrics` (.json beside it), each atomically."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelError(f"{path}: model files must end in .keras")
    _replace_atomically(path, lambda tmp: model.save(tmp))
    text = json.dumps(metrics, indent=1)
    _replace_atomically(path.with_suffix(".json"), lambda tmp: tmp.write_text(text))
    return path


def resolve(name_or_path: str | os.PathLike) -> Path:
    """A recipe name (e.g. "mlp-aug") → its cache path; anything else is taken as a path."""
    text = str(name_or_path)
    return model_path(text) if text in RECIPES else Path(text)


def load_model(name_or_path: str | os.PathLike) -> keras.Model:
    """Load a trained model by recipe name or path, with a clear error if it is not there."""
    path = resolve(name_or_path)
    if not path.is_file():
        hint = (
            f"train it with `python -m helpers train --arch {str(name_or_path).split('-')[0]}"
            f"{' --augment' if str(name_or_path).endswith('-aug') else ''}`"
            if str(name_or_path) in RECIPES
            else f"known model names: {', '.join(RECIPES)}"
        )
        raise ModelError(f"{path}: no such model file; {hint}")
    try:
        return keras.models.load_model(path)
    except Exception as exc:  # noqa: BLE001 - Keras raises many types for a bad file
        raise ModelError(f"{path}: not a readable Keras model ({type(exc).__name__})") from exc


def load_metrics(name_or_path: str | os.PathLike) -> dict:
    """The metrics JSON saved beside a model (empty dict if there is none)."""
    path = resolve(name_or_path).with_suffix(".json")
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: metrics file is not valid JSON ({exc})") from exc


def is_current(name: str) -> bool:
    """True when the cached model exists and was made by the recipe as it is now."""
    metrics = load_metrics(name)
    return model_path(name).is_file() and metrics.get("recipe") == RECIPES[name].to_dict()


def get_model(name: str, *, verbose: bool = True) -> keras.Model:
    """The trained model for a recipe: from the cache when current, else trained now (and cached)."""
    if name not in RECIPES:
        return load_model(name)  # a path
    if is_current(name):
        return load_model(name)
    if verbose:
        print(f"{name}: no current trained model in {models_dir()}; training it now", flush=True)
    model, _ = train(name, verbose=verbose)
    return model


def best_model_name(train_missing: bool = False) -> str:
    """The model with the best *validation* accuracy (never chosen on the test set).

    Among the cached models of `SERIES`; with `train_missing`, the missing ones are trained
    first, so the choice does not depend on which notebooks happened to run before.
    """
    if train_missing:
        for name in SERIES:
            if not is_current(name):
                get_model(name)
    scores = {n: load_metrics(n).get("val_accuracy", -1.0) for n in SERIES if is_current(n)}
    return max(scores, key=scores.get) if scores else DEFAULT_MODEL
