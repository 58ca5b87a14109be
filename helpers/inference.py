"""Run a trained model: the one `load_model` and the one `predict_proba` of the project.

Two runtimes read the same trained model:
- Keras (`NAME.keras`), for the notebooks, which look inside the network;
- LiteRT (`NAME.tflite`, exported by TensorFlow's converter when the model is trained), for
  the command line: `ai_edge_litert` starts in a tenth of a second, where importing
  TensorFlow takes seconds, and gives the same probabilities (to within 1e-5; a test checks it).
This module imports neither runtime until a model is loaded.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from helpers import registry
from helpers.registry import ModelError

#: A Keras model, a `LiteModel`, or any callable mapping (N, 28, 28) → (N, 10) probabilities.
Model = Any


@contextlib.contextmanager
def quiet_native_output() -> Iterator[None]:
    """Silence TensorFlow's and LiteRT's C++ log lines, which go straight to file descriptors 1 and 2.

    (LiteRT announces its CPU delegate on stderr; the TFLite converter logs pages.) Python's
    own stdout is caught too, so nothing reaches a notebook's output or a user's terminal.
    """
    for stream in (sys.stdout, sys.stderr):  # what Python buffered so far still gets out
        if stream is not None:
            stream.flush()
    saved: list[int] = []
    try:
        with open(os.devnull, "wb") as null, contextlib.redirect_stdout(io.StringIO()):
            saved += [os.dup(1), os.dup(2)]
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            yield
    finally:
        for fd, target in zip(saved, (1, 2), strict=False):
            os.dup2(fd, target)
            os.close(fd)


class LiteModel:
    """A `.tflite` model run by LiteRT; call it on (N, 28, 28) float32 images."""

    def __init__(self, path: str | os.PathLike) -> None:
        from ai_edge_litert.interpreter import Interpreter  # imports in about 0.1 s, unlike TensorFlow

        self.path = Path(path)
        self.name = self.path.stem
        self._interpreter = Interpreter(model_path=str(self.path))
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._shape: tuple[int, ...] = ()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, np.float32)
        if x.shape != self._shape:  # the converted graph has a free batch dimension
            self._interpreter.resize_tensor_input(self._input, list(x.shape))
            with quiet_native_output():
                self._interpreter.allocate_tensors()
            self._shape = x.shape
        self._interpreter.set_tensor(self._input, x)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output).copy()


def _model_file(name_or_path: str | os.PathLike) -> Path:
    """A current cached model by recipe name (`ModelError` when stale or missing), else a path."""
    text = str(name_or_path)
    if text in registry.RECIPES:
        return registry.check_current(text)
    path = Path(text)
    if not path.is_file():
        raise ModelError(f"{path}: no such model file; known model names: {', '.join(registry.RECIPES)}")
    return path


def load_model(name_or_path: str | os.PathLike, *, runtime: str = "keras") -> Model:
    """Load a trained model by recipe name or by path to its `.keras` file.

    `runtime="keras"` gives the Keras model. `runtime="litert"` gives a `LiteModel` from the
    `.tflite` beside it when that file is at least as new as the `.keras` (else the Keras
    model: a model trained elsewhere may come without one). A recipe name is loaded only when
    the cached model is current (see `registry`); otherwise a `ModelError` says how to retrain.
    """
    path = _model_file(name_or_path)
    if runtime not in ("keras", "litert"):
        raise ValueError(f"runtime must be 'keras' or 'litert', got {runtime!r}")
    lite = path.with_suffix(".tflite")
    if runtime == "litert" and lite.is_file() and lite.stat().st_mtime_ns >= path.stat().st_mtime_ns:
        try:
            return LiteModel(lite)
        except ImportError:
            pass  # ai-edge-litert is not installed: Keras reads the same model, only slower to start
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{lite}: not a readable LiteRT model ({exc})") from None
    import keras  # TensorFlow loads here, only when a Keras model is needed

    try:
        return keras.models.load_model(path)
    except Exception as exc:  # noqa: BLE001 - Keras raises many types for a bad file
        raise ModelError(f"{path}: not a readable Keras model ({type(exc).__name__})") from exc


def _is_keras(model: Model) -> bool:
    return hasattr(model, "layers") and hasattr(model, "predict")


def predict_proba(model: Model, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Class probabilities (N, 10) for images (N, 28, 28) or (28, 28) scaled to [0, 1]."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise ValueError(f"expected images of shape (N, 28, 28), got {x.shape}")
    if len(x) == 0:
        return np.zeros((0, 10), np.float32)
    # Calling a Keras model directly, batch by batch, avoids `model.predict`'s per-call set-up
    # and its retracing warnings when many models or small inputs are evaluated in a row.
    kwargs = {"training": False} if _is_keras(model) else {}
    batches = [np.asarray(model(x[i : i + batch_size], **kwargs)) for i in range(0, len(x), batch_size)]
    return np.concatenate(batches).astype(np.float32, copy=False)


def accuracy(model: Model, x: np.ndarray, y: np.ndarray) -> float:
    """Share of images whose most probable class is the label."""
    return float(np.mean(predict_proba(model, x).argmax(axis=1) == np.asarray(y)))


def forward_flops(model: Model) -> float:
    """Floating-point operations (multiply-adds × 2) of one image's forward pass through a Keras
    model's Dense and Conv2D layers: what reading one image costs, whatever the weight count."""
    total = 0.0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Dense":
            total += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
        elif kind == "Conv2D":
            kh, kw, cin, cout = layer.kernel.shape
            _, h, w, _ = layer.output.shape
            total += 2 * kh * kw * cin * cout * h * w
    return total
