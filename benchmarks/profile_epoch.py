"""Where one training epoch's time goes, for each model the notebooks train (not a test).

    python benchmarks/profile_epoch.py [--models mlp,mlp-aug,cnn-aug] [--steps 100]

For each recipe, on its own batch size, optimizer and augmentation, times up to `--steps` batches
(at most an epoch) of:
the input pipeline alone (shuffle, batch, augmentation), the forward pass, forward + backward
(gradients), the whole training step (gradients + optimizer update), and the validation pass;
then scales each to a whole epoch. Every pass is one compiled `tf.function` over batches already
in memory, so the input pipeline's cost is counted only in its own line; `Model.fit` overlaps
that pipeline with the steps (prefetch), so its epoch is the last line, for comparison.
The machine's own float32 matrix-multiply speed is measured in the same run, and each model's
training throughput is given as a share of it (3 × forward FLOPs per image: forward and backward),
so figures from machines of different speed compare.
"""

from __future__ import annotations

import argparse

from bench import matmul_gflops, timed  # benchmarks/bench.py, beside this script

from helpers.inference import forward_flops


def profile(name: str, steps: int, gflops: float) -> None:
    import keras
    import tensorflow as tf

    from helpers import data, registry, training

    recipe = registry.RECIPES[name]
    cfg = recipe.train
    splits = data.load_splits()
    n_train, n_val = len(splits.x_train), len(splits.x_val)
    y = keras.utils.to_categorical(splits.y_train, 10)
    training.set_seed(cfg.seed)
    model = training.build(recipe)  # in bfloat16 where the recipe trains so
    training.compile_model(model, cfg, steps_per_epoch=n_train // cfg.batch_size)
    ds = training.make_dataset(splits.x_train, y, cfg.batch_size, shuffle=True, augment=recipe.augment)
    # Model.fit first, on a machine that nothing else of this run is loading yet (iterators
    # that later passes leave half-read can keep the input pipeline's threads busy for a while).
    model.fit(ds.take(5), epochs=1, verbose=0, shuffle=False)  # Keras traces its train function here
    # The fastest of two: the first whole epoch still traces the short last call of the epoch.
    fit_epoch = timed(lambda: model.fit(ds, epochs=1, verbose=0, shuffle=False), repeat=2)
    batches = [(tf.constant(xb), tf.constant(yb)) for xb, yb in ds.take(steps).as_numpy_iterator()]
    # An epoch has fewer than `steps` batches when they are large (`mlp-aug`: 54 of 1,024), and
    # its last one is short: scale by the images timed, not by the steps asked for.
    per_epoch = n_train / sum(len(xb) for xb, _ in batches)

    loss_fn = model.loss
    opt = model.optimizer
    variables = model.trainable_variables

    @tf.function
    def forward(x):
        return model(x, training=True)

    @tf.function
    def grads(x, t):
        with tf.GradientTape() as tape:
            loss = loss_fn(t, model(x, training=True))
        return tape.gradient(loss, variables)

    @tf.function
    def step(x, t):
        with tf.GradientTape() as tape:
            loss = loss_fn(t, model(x, training=True))
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    @tf.function
    def predict(x):
        return model(x, training=False)

    val = [tf.constant(splits.x_val[i : i + 1024]) for i in range(0, n_val, 1024)]

    def run_all(fn, with_labels: bool = True) -> None:
        for x, t in batches:
            out = fn(x, t) if with_labels else fn(x)
        tf.nest.map_structure(lambda v: v.numpy(), out)  # wait for the last one

    for fn, lab in ((forward, False), (grads, True), (step, True)):
        run_all(fn, lab)  # trace and warm up
    predict(val[0])
    rows = {
        "input pipeline alone": timed(lambda: [None for _ in ds.take(steps)], repeat=2) * per_epoch,
        "forward": timed(lambda: run_all(forward, False), repeat=3) * per_epoch,
        "forward + backward": timed(lambda: run_all(grads), repeat=3) * per_epoch,
        "whole step (+ optimizer)": timed(lambda: run_all(step), repeat=3) * per_epoch,
        "validation pass (5,000 images)": timed(lambda: [predict(v).numpy() for v in val], repeat=3),
    }
    flops = forward_flops(model)
    print(f"\n{name}: batch {cfg.batch_size}, {n_train:,} training images, {flops / 1e6:.2f} MFLOP forward "
          f"per image, augmentation {'on' if recipe.augment else 'off'}, {training.precision(cfg)}")
    step_s = rows["whole step (+ optimizer)"]
    for label, seconds in rows.items():
        print(f"  {label:32s} {seconds:7.1f} s per epoch")
    print(f"  {'backward (difference)':32s} {rows['forward + backward'] - rows['forward']:7.1f} s")
    print(f"  {'optimizer (difference)':32s} {step_s - rows['forward + backward']:7.1f} s")
    print(f"  {'Model.fit, one epoch':32s} {fit_epoch:7.1f} s ({n_train / fit_epoch:,.0f} images/s)")
    share = n_train * 3 * flops / step_s / (gflops * 1e9)
    print(f"  training step throughput {n_train / step_s:,.0f} images/s = {share:.0%} of this machine's "
          f"matrix-multiply speed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mlp,mlp-aug,cnn-aug")
    parser.add_argument("--steps", type=int, default=100, help="batches timed per pass (scaled to an epoch)")
    args = parser.parse_args()
    gflops = matmul_gflops()
    print(f"this machine: float32 matrix multiply (2048×2048, TensorFlow) {gflops:,.0f} GFLOP/s")
    for name in args.models.split(","):
        profile(name, args.steps, gflops)


if __name__ == "__main__":
    main()
