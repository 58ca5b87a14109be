"""Each training speed-up against the code before it, on this machine, in one run (not a test).

    python benchmarks/speedups.py [--models mlp,mlp-aug,cnn-aug] [--repeat 2] [--bfloat16]

For each recipe, times single `Model.fit` epochs (after a warm-up that traces the step) and keeps
the fastest of `--repeat` (one epoch can take half as long again when the machine is busy), under:
  before          one step per call into the compiled graph, rotation, shift and zoom as
                  Keras' three layers (`RandomRotation`, `RandomTranslation`, `RandomZoom`)
  16 steps/call   `steps_per_execution=16`, the same three layers
  + one affine    and the three transforms as one `augment.RandomAffine` (today's library)
  bfloat16        with --bfloat16: today's library under Keras' "mixed_bfloat16" policy (the CNN
                  only; slow on CPUs without AVX512-BF16, where TensorFlow emulates it)
  + batch 1024    the MLPs: their recipes' batches of 1,024 (with a warm-up); the rows above use
                  the 256 they had before (`EARLIER_BATCH`)
The recipe's own optimizer and seed in every row; only the time is compared here (the accuracy
of today's recipes is in each model's record). Figures depend on the machine and on
what else it runs: compare rows of one run only. The machine's float32 matrix-multiply speed is
measured in the same run, and each row's throughput is given as a share of it.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from bench import matmul_gflops, timed  # benchmarks/bench.py, beside this script

from helpers.inference import forward_flops

#: The batch size a recipe had before its current one, for the rows that came before that change.
EARLIER_BATCH = {"mlp": 256, "mlp-aug": 256}


def three_layers(cfg, seed: int):
    """The augmentation before `RandomAffine`: stroke, Keras' three transform layers, noise."""
    import keras

    from helpers import augment

    common = {"fill_mode": "constant", "fill_value": 0.0, "interpolation": "bilinear", "seed": seed}
    return keras.Sequential([
        augment.RandomStrokeWidth(cfg.stroke, seed=seed),
        keras.layers.RandomRotation(cfg.rotation_deg / 360.0, **common),
        keras.layers.RandomTranslation(cfg.shift, cfg.shift, **common),
        keras.layers.RandomZoom(cfg.zoom, cfg.zoom, **common),
        augment.RandomNoise(cfg.noise, seed=seed),
    ])


def dataset_with_three_layers(x, y, batch_size: int, cfg, seed: int):
    """`training.make_dataset` as it was, with `three_layers` in place of today's augmentation."""
    import tensorflow as tf

    augmentation = three_layers(cfg, seed)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(lambda a, b: (augmentation(a[..., None], training=True)[..., 0], b),
                                  num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def variants(name: str, bfloat16: bool = False) -> list[tuple[str, int, str, bool, int | None]]:
    """(label, steps per call, augmentation: "none" / "three" / "affine", bfloat16, batch size or
    None for the recipe's) rows for `name`."""
    batch = EARLIER_BATCH.get(name)
    if not name.endswith("-aug"):
        rows = [("before", 1, "none", False, batch), ("16 steps/call", 16, "none", False, batch)]
    else:
        rows = [("before", 1, "three", False, batch), ("16 steps/call", 16, "three", False, batch),
                ("+ one affine", 16, "affine", False, batch)]
    if batch:
        from helpers import registry

        last = "affine" if name.endswith("-aug") else "none"
        rows.append((f"+ batch {registry.RECIPES[name].train.batch_size}", 16, last, False, None))
    return rows + ([("bfloat16", 16, "affine", True, None)] if bfloat16 and name.startswith("cnn") else [])


def time_variant(
    splits, name: str, spe: int, aug: str, bf16: bool, repeat: int, batch: int | None = None
) -> tuple[float, float]:
    """Seconds per epoch of `Model.fit` and forward FLOPs per image for one row."""
    import keras

    from helpers import registry, training
    from helpers.models import build_model

    recipe = registry.RECIPES[name]
    cfg = recipe.train if batch is None else replace(recipe.train, batch_size=batch, warmup_epochs=0)
    y = keras.utils.to_categorical(splits.y_train, 10)
    training.set_seed(cfg.seed)
    if aug == "three":
        ds = dataset_with_three_layers(splits.x_train, y, cfg.batch_size, recipe.augment, cfg.seed)
    else:
        ds = training.make_dataset(splits.x_train, y, cfg.batch_size, shuffle=True,
                                   augment=recipe.augment if aug == "affine" else None, seed=cfg.seed)
    # Forced, not `training.precision`: the float32 rows compare code, the bfloat16 row the policy.
    with training.dtype_policy("mixed_bfloat16" if bf16 else "float32"):
        model = build_model(recipe.model)
    training.compile_model(model, cfg, steps_per_epoch=len(splits.x_train) // cfg.batch_size)
    model.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"],
                  steps_per_execution=spe)
    model.fit(ds.take(3 * spe), epochs=1, verbose=0, shuffle=False)  # traces the step
    seconds = timed(lambda: model.fit(ds, epochs=1, verbose=0, shuffle=False), repeat=repeat)
    return seconds, forward_flops(model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mlp,mlp-aug,cnn-aug")
    parser.add_argument("--repeat", type=int, default=2, help="epochs timed per row; the fastest counts")
    parser.add_argument("--bfloat16", action="store_true", help="also time the CNN in mixed bfloat16")
    args = parser.parse_args()
    from helpers import data

    gflops = matmul_gflops()
    print(f"this machine: float32 matrix multiply (2048×2048, TensorFlow) {gflops:,.0f} GFLOP/s")
    splits = data.load_splits()
    n = len(splits.x_train)
    for name in args.models.split(","):
        print(f"\n{name}: seconds per epoch of Model.fit ({n:,} training images)")
        before = None
        for label, spe, aug, bf16, batch in variants(name, args.bfloat16):
            seconds, flops = time_variant(splits, name, spe, aug, bf16, args.repeat, batch)
            before = before or seconds
            share = n * 3 * flops / seconds / (gflops * 1e9)
            print(f"  {label:14s} {seconds:6.1f} s  {n / seconds:7,.0f} images/s  "
                  f"{before / seconds:4.2f}× before  {share:4.0%} of matmul speed", flush=True)


if __name__ == "__main__":
    main()
