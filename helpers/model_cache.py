"""Trained models on disk: train a recipe and save it, or get the current cached model.

`data/models/NAME.keras` holds the Keras model, `NAME.tflite` the same network for
LiteRT (the command line's fast runtime), and `NAME.json` the recipe, the fingerprint of
the code that trained it, its metrics and its training history. `get_model(name)` loads
the model when it is current (see `registry`) and trains it otherwise, so every notebook
runs on its own and each model trains once per machine and per version of the code.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import keras
import tensorflow as tf

from helpers import data, registry, training
from helpers.inference import accuracy, load_model, quiet_native_output
from helpers.models import build_model
from helpers.registry import ModelError, Recipe

#: MNIST's training images minus the validation split: the steps of an epoch depend on it.
TRAIN_SIZE = 60_000 - data.VALIDATION_SIZE

# Read with the modules above: the source of the code this process will train with.
_IMPORTED_SOURCES = registry.source_texts()


def to_tflite(model: keras.Model) -> bytes:
    """The model as a LiteRT flatbuffer (TensorFlow's converter; float32, free batch size)."""
    # The converter also logs through Python ("Assets written to: /tmp/..."), which a notebook
    # shows; only its errors matter.
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        with quiet_native_output():
            return tf.lite.TFLiteConverter.from_keras_model(model).convert()
    finally:
        logger.setLevel(level)


def save(model: keras.Model, metrics: dict, path: str | os.PathLike) -> Path:
    """Save `model` as .keras and .tflite with its `metrics` as .json beside them.

    The conversion, the step most likely to fail, runs before anything on disk changes.
    The old record goes first and the new one is written last, so an interruption in
    between leaves a model without a record, which counts as missing (retrained), never a
    new model under an old record. Each file is written atomically.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelError(f"{path}: model files must end in .keras")
    lite = to_tflite(model)
    record = json.dumps(metrics, indent=1).encode()
    path.with_suffix(".json").unlink(missing_ok=True)
    data.atomic_write(path, lambda tmp: model.save(tmp))
    data.atomic_write(path.with_suffix(".tflite"), lite)
    data.atomic_write(path.with_suffix(".json"), record)
    return path


def _code_when_imported(recipe: Recipe) -> str:
    """The fingerprint of the code this process runs; refuses if the files changed since.

    A learner who edits `helpers/models.py` while the kernel runs would otherwise train with
    the old builder, already imported, and stamp the model with the new code's fingerprint.
    """
    running = registry.code_fingerprint(recipe, texts=_IMPORTED_SOURCES)
    if running != registry.code_fingerprint(recipe):
        raise ModelError(
            "the model, augmentation or training code in helpers/ changed after it was imported; "
            "restart the kernel (or rerun the command) so that the new code is the code that trains"
        )
    return running


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
    recipe = registry.RECIPES[recipe] if isinstance(recipe, str) else recipe
    code = _code_when_imported(recipe)
    splits = splits or data.load_splits()
    start = time.perf_counter()
    model, history = training.fit(recipe, splits, verbose=verbose, log_every=log_every)
    seconds = time.perf_counter() - start
    metrics = {
        "name": recipe.name,
        "recipe": recipe.to_dict(),
        "code": code,
        "params": int(model.count_params()),
        "epochs_run": len(history.get("loss", [])),
        "train_seconds": round(seconds, 1),
        "precision": training.precision(recipe.train),
        "val_accuracy": accuracy(model, splits.x_val, splits.y_val),
        "test_accuracy": accuracy(model, splits.x_test, splits.y_test),
        "history": history,
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
    }
    save(model, metrics, out or registry.model_path(recipe.name))
    return model, metrics


def get_model(name: str, *, verbose: bool = True) -> keras.Model:
    """The trained Keras model for a recipe: from the cache when current, else trained now.

    A path is loaded as it is. A stale model (older recipe or older code) is retrained,
    and the reason is printed first.
    """
    if name not in registry.RECIPES:
        return load_model(name)
    why = registry.staleness(name)
    if not why:
        return load_model(name)
    if verbose:  # no path: notebook outputs stay free of machine paths
        reason = registry.STALE_REASONS[why]
        reason = "no cached model yet" if why == "missing" else f"the cached model {reason}"
        print(f"{name}: {reason}; training it now", flush=True)
    model, _ = train(name, verbose=verbose)
    return model


def train_series() -> str:
    """Train every model of the series that is not current; return the best on validation."""
    for name in registry.SERIES:
        if not registry.is_current(name):
            get_model(name)
    return registry.best_model_name()


# ---------------------------------------------------------------- a notebook's model and the library's

_UNCOMPARED = {"name", "module", "registered_name", "trainable"}


def _flat(value: object, prefix: str = "") -> dict[str, object]:
    """A nested Keras config as {"dotted.key": leaf}, without names (they differ by construction)."""
    if isinstance(value, Mapping):
        out: dict[str, object] = {}
        for key, item in value.items():
            if key not in _UNCOMPARED:
                out.update(_flat(item, f"{prefix}{key}."))
        return out
    if isinstance(value, list):
        value = tuple(value)
    return {prefix.rstrip("."): value}


def _first_difference(mine: dict, library: dict) -> str:
    for key in sorted(set(mine) | set(library)):
        if mine.get(key) != library.get(key):
            return f"{key} {mine.get(key)!r}, the library's {library.get(key)!r}"
    return ""


def _layers(model: keras.Model) -> list[tuple[str, dict]]:
    return [(type(layer).__name__, _flat(layer.get_config())) for layer in model.layers
            if not isinstance(layer, keras.layers.InputLayer)]


def library_difference(model: keras.Model, name: str, *, patience: int) -> str:
    """How a notebook's compiled model differs from the library's recipe `name`: "" when it does not.

    Compares the input shape, every layer's type and settings (names aside), the compile
    settings (optimizer and its schedule, which holds the epochs and batch size, loss, metrics)
    and the early-stopping patience. When they all agree, training the notebook's model would
    repeat the cached model's training, so the notebook can reuse it.
    """
    recipe = registry.RECIPES[name]
    library = build_model(recipe.model)
    steps = math.ceil(TRAIN_SIZE / recipe.train.batch_size)
    training.compile_model(library, recipe.train, steps_per_epoch=steps)
    if tuple(model.input_shape) != tuple(library.input_shape):
        return f"input shape {model.input_shape}, the library's {library.input_shape}"
    mine, theirs = _layers(model), _layers(library)
    if len(mine) != len(theirs):
        return f"{len(mine)} layers, the library's {len(theirs)}"
    for i, ((kind, cfg), (ref_kind, ref_cfg)) in enumerate(zip(mine, theirs, strict=True), start=1):
        if kind != ref_kind:
            return f"layer {i} is {kind}, the library's is {ref_kind}"
        if diff := _first_difference(cfg, ref_cfg):
            return f"layer {i} ({kind}): {diff}"
    if not model.compiled:
        return "the model is not compiled"
    if diff := _first_difference(_flat(model.get_compile_config()), _flat(library.get_compile_config())):
        return f"compile: {diff}"
    if patience != recipe.train.patience:
        return f"early-stopping patience {patience}, the library's {recipe.train.patience}"
    return ""


def show_log(history: Mapping[str, Sequence[float]]) -> None:
    """Print a stored training history in the form the training log takes while training."""
    for epoch in range(len(history["loss"])):
        print(training.epoch_line(epoch + 1, {key: values[epoch] for key, values in history.items()}))
