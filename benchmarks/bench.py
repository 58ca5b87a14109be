"""Benchmarks: print speed and memory figures for the README (not a test; nothing is asserted).

    python benchmarks/bench.py               # data, training throughput, inference, external photos
    python benchmarks/bench.py --notebooks   # also each notebook's wall time under nbval (slow)
    python benchmarks/bench.py --drawing     # only the drawing widget's reading time
    python benchmarks/bench.py --batch       # only the external digits through `photo.find_batch`

Figures depend on the machine and on what else it is doing; the README quotes one run on the
project's reference machine (2 cores, no GPU).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed(fn, repeat: int = 1) -> float:
    """Best wall time of `repeat` calls, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def matmul_gflops(n: int = 2048) -> float:
    """This machine's float32 matrix-multiply speed with TensorFlow (GFLOP/s, best of 5)."""
    import tensorflow as tf

    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    mm = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    mm()
    return 2 * n**3 / timed(lambda: mm().numpy(), repeat=5) / 1e9


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_data() -> None:
    from helpers import data

    data.fetch_mnist()
    print(f"data: load_mnist() from the verified cache: {timed(data.load_mnist, repeat=3):.2f} s")


def bench_training(gflops: float) -> None:
    import keras

    from helpers import data, registry, training
    from helpers.inference import forward_flops
    from helpers.training import make_dataset

    splits = data.load_splits()
    y = keras.utils.to_categorical(splits.y_train, 10)
    n = len(splits.x_train)
    for name in ("mlp", "mlp-aug", "cnn-aug"):
        recipe = registry.RECIPES[name]
        training.set_seed(recipe.train.seed)
        model = training.build(recipe)  # in bfloat16 where the recipe trains so
        training.compile_model(model, recipe.train, steps_per_epoch=n // recipe.train.batch_size)
        ds = make_dataset(splits.x_train, y, recipe.train.batch_size, shuffle=True, augment=recipe.augment)
        model.fit(ds.take(20), epochs=1, verbose=0, shuffle=False)  # warm-up: tracing, thread pools
        seconds = timed(lambda ds=ds, model=model: model.fit(ds, epochs=1, verbose=0, shuffle=False))
        share = n * 3 * forward_flops(model) / seconds / (gflops * 1e9)
        print(
            f"train {name:8}: {n / seconds:8,.0f} samples/s, {seconds:5.1f} s per epoch "
            f"(batch {recipe.train.batch_size}, {recipe.train.epochs} epochs max, "
            f"{training.precision(recipe.train)}), "
            f"{share:.0%} of this machine's {gflops:,.0f} GFLOP/s"
        )
    for augment in (None, registry.RECIPES["mlp-aug"].augment):
        ds = make_dataset(splits.x_train, y, 256, shuffle=True, augment=augment)
        seconds = timed(lambda ds=ds: [None for _ in ds])
        label = "augmented" if augment else "plain"
        print(f"input pipeline alone ({label:9}): {n / seconds:8,.0f} samples/s")


def bench_inference() -> None:
    from helpers import data, inference, registry

    splits = data.load_splits()
    for name in registry.RECIPES:
        if not registry.is_current(name):
            print(f"inference {name:8}: no current trained model (skipped)")
            continue
        for runtime in ("keras", "litert"):
            model = inference.load_model(name, runtime=runtime)
            inference.predict_proba(model, splits.x_test[:1024])  # warm-up
            seconds = timed(lambda model=model: inference.predict_proba(model, splits.x_test), repeat=3)
            print(f"inference {name:8} ({runtime:6}): {seconds:.2f} s for 10,000 test images")


def bench_external() -> None:
    import tempfile

    import cv2

    from helpers import inference, photo, registry

    name = registry.best_model_name()
    if not registry.is_current(name):
        print("external: no current trained model yet (skipped)")
        return
    model = inference.load_model(name, runtime="litert")
    sample = cv2.imread(str(REPO / "notebooks" / "samples" / "multi.jpg"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "photo-12mp.jpg"
        cv2.imwrite(str(path), cv2.resize(sample, (4000, 3000), interpolation=cv2.INTER_CUBIC))
        photo.read_digits(path, model)  # warm-up
        seconds = timed(lambda: photo.read_digits(path, model), repeat=3)
        found = len(photo.read_digits(path, model).digits)
        print(f"external: 12-megapixel JPEG ({found} digits) read in {seconds:.2f} s "
              f"with {name} loaded (LiteRT)")
        times = []
        for _ in range(3):
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "helpers", "predict", str(path)], cwd=REPO,
                                  capture_output=True, text=True)
            times.append(time.perf_counter() - start)
        status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
        print(f"external: `python -m helpers predict` (12 MP photo) cold start: "
              f"median {sorted(times)[1]:.2f} s of 3 ({status})")


def bench_batch() -> None:
    """The image part of the pipeline over the external digits: in one process, then in workers."""
    from helpers import external_sets
    from helpers.photo.pipeline import find_batch, usable_cores

    try:
        files = list(external_sets.load_external_set()["file"])
    except external_sets.ExternalSetError as exc:
        print(f"batch: {exc} (skipped)")
        return
    for single in (True, False):
        alone = timed(lambda: find_batch(files, single=single, workers=1))  # noqa: B023
        shared = timed(lambda: find_batch(files, single=single))  # noqa: B023
        print(f"batch: {len(files)} external digits, {'single-digit' if single else 'default'} mode: "
              f"{alone:.1f} s in one process, {shared:.1f} s in `find_batch`'s workers "
              f"({usable_cores()} usable cores; {alone / shared:.2f}×)")


def bench_drawing() -> None:
    """The drawing widget's reading time in the kernel: strokes in, readings of three models out."""
    import numpy as np

    from helpers import drawing, registry
    from helpers.draw_widget import DrawWidget

    names = registry.SERIES
    if not all(registry.is_current(n) for n in names):
        print("drawing: the three models are not all trained yet (skipped)")
        return
    widget = DrawWidget.for_models(names)
    rng = np.random.default_rng(0)
    drawings = [drawing.place(shape, 160, 30, 160) for shape in drawing.SHAPES]
    drawings.append(drawing.write("407"))
    drawings += [drawing.scribble(rng) for _ in range(5)]
    widget.draw(drawings[0])  # warm-up
    times = []
    for strokes in drawings * 5:
        start = time.perf_counter()
        widget.draw(strokes)
        times.append(1000 * (time.perf_counter() - start))
    print(f"drawing: a reading by {len(names)} models (pipeline once, LiteRT), {len(times)} readings of "
          f"{len(drawings)} drawings: median {np.median(times):.0f} ms, 95th percentile "
          f"{np.percentile(times, 95):.0f} ms, slowest {max(times):.0f} ms "
          f"(the browser adds its round trip: see tests/test_browser_widget.py's output)")


def bench_notebooks() -> None:
    for nb in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "--nbval-lax", "--nbval-current-env",
             "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", str(nb)],
            cwd=REPO, capture_output=True, text=True,
        )
        status = "passed" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
        print(f"notebook {nb.name}: {time.perf_counter() - start:6.0f} s under nbval, {status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", action="store_true", help="also time each notebook under nbval")
    parser.add_argument("--drawing", action="store_true", help="only the drawing widget's reading time")
    parser.add_argument("--batch", action="store_true", help="only the external digits through find_batch")
    args = parser.parse_args()
    if args.drawing:
        bench_drawing()
        return
    if args.batch:
        bench_batch()
        return
    gflops = matmul_gflops()
    print(f"this machine: float32 matrix multiply (2048×2048, TensorFlow) {gflops:,.0f} GFLOP/s; "
          "training shares below count 3 × the forward pass's FLOPs per image")
    bench_data()
    bench_training(gflops)
    bench_inference()
    bench_external()
    bench_batch()
    bench_drawing()
    if args.notebooks:
        bench_notebooks()
    print(f"peak memory of this process: {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
