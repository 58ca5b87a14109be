"""Which runtime should the command line use? Keras, LiteRT and (if installed) ONNX Runtime, compared.

    python benchmarks/runtimes.py [--model cnn-aug]

For one trained model it prints, per runtime: cold start of a fresh process that imports
the runtime, loads the model and reads one image; time per single image; time for the
10,000 test images in one batch; the largest difference from Keras' probabilities; and the
installed size of the runtime. Nothing is asserted: the README quotes one run.

ONNX Runtime is measured only when `onnxruntime` and `tf2onnx` can be imported (they are
not project dependencies), e.g. `pip install --target /tmp/onnx tf2onnx onnxruntime onnx`
and `PYTHONPATH=/tmp/onnx`.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent

ONE = "np.zeros((1, 28, 28), 'float32')"
COLD = {
    "keras": f"import keras, numpy as np; m = keras.models.load_model({{path!r}}); m({ONE})",
    "litert": ("from ai_edge_litert.interpreter import Interpreter; import numpy as np; "
               "i = Interpreter(model_path={path!r}); i.allocate_tensors(); "
               f"i.set_tensor(i.get_input_details()[0]['index'], {ONE}); i.invoke()"),
    "onnxruntime": ("import onnxruntime as ort, numpy as np; s = ort.InferenceSession({path!r}, "
                    f"providers=['CPUExecutionProvider']); s.run(None, {{{{'x': {ONE}}}}})"),
}


def cold_start(runtime: str, path: Path, repeat: int = 3) -> float:
    """Median wall time of a fresh Python process that loads the model and reads one image."""
    code = COLD[runtime].format(path=str(path))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=REPO)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def installed_mb(*dists: str) -> float:
    """Size on disk of installed distributions (their own files, not their dependencies)."""
    total = 0
    for dist in dists:
        for f in importlib.metadata.distribution(dist).files or []:
            p = Path(f.locate())
            total += p.stat().st_size if p.is_file() else 0
    return total / 1e6


def per_image_ms(run, x: np.ndarray, n: int = 200) -> float:
    run(x[:1])  # warm-up
    times = []
    for i in range(n):
        start = time.perf_counter()
        run(x[i : i + 1])
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def batch_s(run, x: np.ndarray) -> float:
    run(x[:1024])
    start = time.perf_counter()
    run(x)
    return time.perf_counter() - start


def onnx_runner(model, folder: Path):
    """Convert with tf2onnx and open with ONNX Runtime; None when they are not installed."""
    try:
        import onnxruntime as ort
        import tensorflow as tf
        import tf2onnx
    except ImportError as exc:
        print(f"onnxruntime: not measured ({exc.name} is not installed)")
        return None, None
    spec = [tf.TensorSpec([None, 28, 28], tf.float32, name="x")]
    fn = tf.function(lambda x: model(x, training=False))
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=spec, opset=17)
    path = folder / "model.onnx"
    path.write_bytes(proto.SerializeToString())
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return (lambda x: session.run(None, {"x": np.ascontiguousarray(x, np.float32)})[0]), path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn-aug", help="a current cached model (default: cnn-aug)")
    args = parser.parse_args()

    from helpers import data, inference, registry

    keras_path = registry.check_current(args.model)
    x = data.load_splits().x_test
    model = inference.load_model(args.model)
    lite = inference.load_model(args.model, runtime="litert")
    reference = inference.predict_proba(model, x)
    rows = [
        ("keras", lambda b: inference.predict_proba(model, b), keras_path, ("tensorflow", "keras")),
        ("litert", lite, keras_path.with_suffix(".tflite"), ("ai-edge-litert",)),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        run, onnx_path = onnx_runner(model, Path(tmp))
        if run is not None:
            rows.append(("onnxruntime", run, onnx_path, ("onnxruntime",)))
        print(f"model {args.model}: {keras_path.stat().st_size / 1e6:.1f} MB .keras, "
              f"{keras_path.with_suffix('.tflite').stat().st_size / 1e6:.1f} MB .tflite\n")
        print(f"{'runtime':<12} {'cold start s':>12} {'ms / image':>10} {'10k images s':>12} "
              f"{'max |Δp| vs Keras':>18} {'installed MB':>12}")
        for name, runner, path, dists in rows:
            diff = float(np.abs(np.asarray(runner(x)) - reference).max())
            print(f"{name:<12} {cold_start(name, path):12.2f} {per_image_ms(runner, x):10.2f} "
                  f"{batch_s(runner, x):12.2f} {diff:18.1e} {installed_mb(*dists):12.0f}")


if __name__ == "__main__":
    main()
