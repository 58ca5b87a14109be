# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 — A convolutional network, and the comparison that closes the series
#
# The MLP of notebooks 02–03 starts by flattening the image into 784 numbers. From then on it has
# no idea that pixel (10, 11) is next to pixel (10, 12): shuffle the pixels of every image the same
# way and it would learn just as well. It must learn "a vertical stroke" separately for every place
# a stroke can be — which is why a 4-pixel shift hurt it so much.
#
# A **convolutional network (CNN)** builds that knowledge in:
# - a **convolution** slides a small filter (3×3 here) over the image, computing the same weighted
#   sum at every position, so a stroke detector learned in one place works everywhere
#   (**weight sharing**: 3×3 = 9 weights per filter instead of 784 per unit);
# - stacking convolutions lets later filters combine strokes into corners, loops and crossings;
# - **downsampling** halves the resolution, so later layers see larger regions and small shifts
#   matter less: either **pooling**, which keeps the strongest response in each 2×2 patch (a
#   fixed rule), or, as in this notebook's network, a **strided convolution**, a filter applied
#   at every other pixel, which learns its own summary of each neighbourhood.
#
# In this notebook: the CNN, trained with the augmentation layers of notebook 03; what its filters
# and feature maps look like; and a comparison of every model in the series.

# %%
import math
import os
import time

import keras
import numpy as np
import pandas as pd
from IPython.display import display
from keras import layers

from helpers import (
    data,
    evaluate,
    external_sets,
    inference,
    model_cache,
    models,
    perturb,
    plots,
    registry,
    run_records,
    training,
)

training.set_seed(42)
splits = data.load_splits()

# %% [markdown]
# ## 1. The model
#
#
# The network as Keras layers, yours to edit as in notebook 02 (section 2 trains what this cell
# builds; a test checks that it is the network the command line trains,
# `helpers.models.build_strided_cnn` with the settings of the `cnn-aug` recipe):

# %%
training.set_seed(42)
model = keras.Sequential([
    keras.Input(shape=(28, 28)),
    layers.Reshape((28, 28, 1)),  # one channel: grey level
    layers.Conv2D(16, 3, use_bias=False),  # 16 filters of 3×3, no padding: 28×28 → 26×26
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Conv2D(16, 3, use_bias=False),  # → 24×24
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Conv2D(16, 5, strides=2, padding="same", use_bias=False),  # every other pixel: → 12×12
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Dropout(0.2),
    layers.Conv2D(32, 3, use_bias=False),  # → 10×10
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Conv2D(32, 3, use_bias=False),  # → 8×8
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Conv2D(32, 5, strides=2, padding="same", use_bias=False),  # → 4×4
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Dropout(0.2),
    layers.Conv2D(64, 4, use_bias=False),  # the 4×4 maps → one vector of 64 features
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Flatten(),
    layers.Dropout(0.2),
    layers.Dense(10, activation="softmax"),
], name="cnn")
model.summary()

# %% [markdown]
# Two blocks of convolutions, each convolution followed by batch normalization and a ReLU. In each block,
# two 3×3 convolutions without padding shrink the maps by two pixels each (28 → 26 → 24, then
# 12 → 10 → 8), and a 5×5 convolution with stride 2 halves them (24 → 12, 8 → 4); dropout
# follows each block. A last 4×4 convolution turns the 4×4 maps into one vector of 64 features,
# then dropout and the softmax. The network keeps no map of *where* a feature was found past
# the last convolution: by then each feature already covers the whole digit. This is Chris
# Deotte's MNIST network (Kaggle, 2018) at half its width and with dropout 0.2 instead of 0.4;
# section 2 shows how it was chosen, against the pooling CNN that this series used before. It
# has far fewer weights than the MLP (82,522 in `model.summary()` above, against the MLP's
# 1,869,834 in section 4; about half of them in the second block, 40% in the last 4×4
# convolution), but each convolution weight is used at every position of its map — 576 times
# per image at 24×24, 16 times at 4×4: it is the *computation*, not the size, that grows
# (section 2 prints it).
#
# ## 2. Training, with the augmentation of notebook 03
#
# The same augmentation settings as notebook 03 (`AugmentConfig`: stroke width, one affine transform for
# rotation, shift and zoom, then noise). The network and its recipe were chosen in three steps,
# all on the validation split: first a CNN with pooling, then its epoch budget, then the network
# above against it.
#
# **The pooling CNN.** The series first used three blocks of Conv → BatchNorm → ReLU with 3×3
# filters, max pooling after the first two (28 → 14 → 7), a dense layer and the softmax (today
# the recipe `pooled-aug`, `python -m helpers train --arch pooled --augment`). With noise up to
# 0.1 only, that
# CNN read 92.5% of the noisy *validation* digits, fewer than the augmented MLP with that setting (96.26, notebook 03's record): its 3×3 filters respond
# to speckle, and max pooling keeps the largest response, so noise is amplified on its way up.
# Noise up to 0.2 fixed that, at no real cost in clean accuracy; a larger batch with a higher
# learning rate and more epochs then raised the mean over the perturbations, at a small cost on
# noise (rows 3 and 4 of the record below). Then the network was made cheaper to fit a
# 10-minute training budget on that machine. The candidates, all on the validation split (accuracy in %; the
# rule: the highest clean accuracy among those that train within 10 minutes and beat the
# augmented MLP on every perturbation). This table is the record of the selection runs, made on
# an earlier, faster machine, with rotation, shift and zoom still as Keras' three layers; the
# chosen recipe, then 25 epochs, took 438 s there. The epoch budget was cut afterwards (the next
# record):
#
# (`notebooks/records/cnn_selection.csv`, transcribed from the runs' logs; the chosen row marked):

# %%
run_records.selection("cnn_selection").style

# %% [markdown]
# (The augmented MLP of the selection runs, for reference, from notebook 03's record
# `mlp_augment_selection.csv`: 99.18 clean, 98.14 on noise, 96.80 combined, 97.03 mean. 1-1-1
# for 20 epochs loses to it on the combined perturbation; the runs' full reports, not kept in
# these records, also had 1-1-1 and 1-2-2 losing to it on thicker strokes. Retrained for this version, with
# the one affine transform, the augmented MLP reads more clean validation digits than this row:
# 99.40% in section 4's table.) "1-1-2" gives the convolutions in each of the pooling CNN's three blocks. Training times are for that 2-core
# machine with nothing else running; blank: measured only while other runs shared the machine. The differences in clean accuracy are at most
# 15 images out of 5,000 (0.3 points), most of them within chance; the gain on noise is not.
#
# **Fewer epochs, as good on validation.** On a slower machine the pooling CNN took over 18
# minutes, so a shorter budget was tried (the cosine schedule is stretched over whatever
# budget is set, so a short run still ends with small steps). The rule, written down before
# the runs: keep the shortest budget whose best clean validation accuracy is at most 0.1 points
# (5 of 5,000 images) below the 25-epoch run's and whose mean over the 11 perturbations is at
# most 0.3 points below it; the test set is not looked at. Validation accuracy in %
# (`notebooks/records/epochs_cnn_aug.csv`; both rows on machines of the same kind, a day apart,
# so compare the epochs more than the seconds):

# %%
run_records.selection("epochs_cnn_aug").style

# %% [markdown]
# 15 epochs read as many clean validation digits as 25 and lose 0.13 points on the mean of the
# perturbations, inside the rule: the recipe has trained for 15 epochs since, 40% fewer epochs
# (719 s against 1092 s in the record, 34% less; still over the 10-minute budget on that slower
# machine).
#
# **A different layout, for 99.6%?** The pooling CNN reached 99.48% on the test set (the record
# of its last training, A below). A different layout is known to average 99.64% on MNIST's
# test set over 1,500 training runs (Chris Deotte's Kaggle notebook, 2018): two blocks of three
# convolutions, the third 5×5 with stride 2 *instead of* pooling, batch normalization after
# every convolution, dropout 0.4 after each block, a last 4×4 convolution down to one vector,
# 327k weights, about 30 epochs. The library builds it as `models.build_strided_cnn`. It needs
# almost four times the computation per image of the pooling CNN (the next cell prints it), so
# it is trained in mixed
# bfloat16 (`TrainConfig.bfloat16`): the convolutions compute in bfloat16 and the weights stay
# in float32, which pays off on CPUs with AVX512-BF16, like the one that made this record, and
# costs six times the time on CPUs without it (the README's benchmarks), so on those the library
# trains in float32 instead (`training.native_bfloat16`). Can it, or a version half as wide,
# replace the pooling CNN (A below, then `cnn-aug`) without training longer? The rule, written
# before the runs: among candidates that train in at most 1.1 times A's time in the same run and
# beat the augmented MLP on every perturbation of the validation digits, the one with the
# highest clean validation accuracy, if that is at least 0.08 points (4 of 5,000 images) above
# A's; otherwise A stays. Test accuracy is looked at only after the choice, and only for A and
# the chosen one. All four trained one after another with nothing else running, 15 epochs each,
# with the pooling CNN's recipe (batch, learning rate and schedule: the compile cell below)
# (`notebooks/records/cnn_time_curve.csv`, made by `python tools/cnn_time_curve.py`; accuracy
# in %). B2 was not among the candidates the rule was written for: it was added after B's run,
# to see whether dropout 0.4 held the half-width network back in 15 epochs.

# %%
networks = {"A, the pooling CNN": models.build_cnn(),
            "C, Deotte's network": models.build_strided_cnn(),
            "B and B2, half as wide (section 1)": model}
print("one image's forward pass:\n" + "\n".join(
    f"  {what}: {inference.forward_flops(m) / 1e6:.1f} MFLOP, {m.count_params():,} weights"
    for what, m in networks.items()))
curve = run_records.selection("cnn_time_curve")
curve.style

# %%
seconds, clean = curve["train s"].astype(float), curve["clean"].astype(float)
label = curve.index.str.split(":").str[0]
base = label == "A"
fig, axes = plots.panels(1, 1, figsize=(6.5, 3.6))
ax = axes[0, 0]
ax.scatter(seconds, clean, color="tab:blue", zorder=3)
for name, s, c in zip(label, seconds, clean, strict=True):
    ax.annotate(name, (s, c), xytext=(6, -4), textcoords="offset points", fontsize=10)
ax.axvline(1.1 * seconds[base].item(), color="gray", ls=":", label="time allowed: 1.1 × A's")
ax.axhline(clean[base].item() + 0.08, color="gray", ls="--", label="accuracy needed: A + 4 images")
ax.set_xlabel("training time in this run (s)")
ax.set_ylabel("clean validation accuracy (%)")
ax.set_title("The CNN candidates: accuracy against training time", fontsize=10)
ax.legend(fontsize=9, loc="lower right")
fig

# %% [markdown]
# **B2 passes the rule, by its narrowest margin.** It trains in about A's time (264 s against
# 261 s), reads 4 more of the 5,000 validation digits (exactly the rule's minimum: it sits on
# the dashed line), and beats the augmented MLP on every perturbation, with a higher mean over
# the 11 than A. B, with dropout 0.4, reads 1 more than A and took 287 s, just inside the time
# allowed; the same network took 264 s as B2, so one run's time moves by almost the 10% the rule
# allows. On an earlier machine the pooling CNN itself read 99.60% (the record above): a margin
# of 4 images is within what another machine or run can change. The full-width network (C) reads 2 more validation digits than B2
# but takes more than twice as long: outside the rule's time, and the point of the curve where
# extra accuracy costs the most. So B2 is `cnn-aug` since: the network of section 1. Only then
# was the test set looked at, as the independent check: 99.61% for B2, 99.48% for A, 13 images
# apart (the record's `test` column; section 4 measures the model trained here). A single run
# each: a few images either way are within chance, on validation and on test. (The cached
# `cnn-aug` below is B2's recipe trained again by the library, with the same validation
# accuracy; its training time is printed there.)
#
#
# The recipe, compiled as in notebook 02 (AdamW, cosine decay) but without its warm-up: batches of
# 256 at a peak rate of 0.002 (the augmentation is notebook
# 03's `AugmentConfig`, applied to each training batch by `training.make_dataset`):

# %%
EPOCHS, BATCH_SIZE, PATIENCE = 15, 256, 25  # patience > epochs: run the whole budget, keep the best
steps_per_epoch = math.ceil(len(splits.x_train) / BATCH_SIZE)
schedule = keras.optimizers.schedules.CosineDecay(
    initial_learning_rate=2e-3, decay_steps=EPOCHS * steps_per_epoch, alpha=0.01)
model.compile(
    optimizer=keras.optimizers.AdamW(learning_rate=schedule, weight_decay=1e-4),
    loss=keras.losses.CategoricalCrossentropy(),
    metrics=["accuracy"],
    steps_per_execution=16,  # 16 steps per call into the compiled graph: the same steps, less overhead
)
cnn_recipe = registry.RECIPES["cnn-aug"]
cnn_recipe.augment

# %% [markdown]
# Training takes about 4 to 5 minutes on a 2-core machine with AVX512-BF16 (the record above),
# longer on a CPU without it, where the library trains in float32 (the next cell prints how long
# the cached model took, and in which precision, on the machine that trained it). So when the
# two cells above build and compile exactly the library's `cnn-aug` recipe, the next cell reuses
# the cached model (training it first if it is missing or was made by other code) and prints its
# recorded log; when you have edited them, it trains your model here, in float32.

# %%
difference = model_cache.library_difference(model, "cnn-aug", patience=PATIENCE)
if difference:
    print(f"your model differs from the library's cnn-aug ({difference}): training it here")
    one_hot = lambda y: keras.utils.to_categorical(y, 10)  # noqa: E731
    train_ds = training.make_dataset(splits.x_train, one_hot(splits.y_train), BATCH_SIZE,
                                     shuffle=True, augment=cnn_recipe.augment)
    val_ds = training.make_dataset(splits.x_val, one_hot(splits.y_val), 1024)
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_accuracy", patience=PATIENCE, restore_best_weights=True)
    history = model.fit(train_ds, validation_data=val_ds, epochs=EPOCHS,
                        callbacks=[early_stopping, training.EpochLog()], verbose=0).history
    cnn = model
else:
    reused = registry.is_current("cnn-aug")
    cnn = model_cache.get_model("cnn-aug")  # trains, and logs each epoch, only if not reused
    cnn_metrics = registry.load_metrics("cnn-aug")
    history = cnn_metrics["history"]
    print(f"the library's cnn-aug: {cnn_metrics['epochs_run']} epochs in {cnn_metrics['train_seconds']:.0f} s "
          f"({cnn_metrics.get('precision', 'float32')}) on the machine that made it, "
          f"{cnn_metrics['params']:,} parameters; "
          f"{'reused' if reused else 'trained now'}")
    if reused:
        model_cache.show_log(history)

# %% [markdown]
# In the log above the validation accuracy is *higher* than the training accuracy in every
# epoch: the training accuracy is measured on distorted, noisy images with dropout switched on,
# validation on clean digits read by the whole network. Validation accuracy keeps rising, with
# small steps back, until late in the budget, which is why this run keeps its whole 15-epoch
# budget (`PATIENCE > EPOCHS`) and then restores its best epoch instead of stopping early on a
# step back.

# %%
plots.training_curves(history)

# %%
cnn_test = inference.accuracy(cnn, splits.x_test, splits.y_test)
print(f"CNN test accuracy: {evaluate.accuracy_ci(splits.y_test, inference.predict_proba(cnn, splits.x_test).argmax(1))}")
# A floor against regressions, just below this run's figure (printed above, with its interval).
assert cnn_test >= 0.993, f"the CNN should reach 99.3% test accuracy, got {cnn_test:.4f}"

# %% [markdown]
# ## 3. What the network looks at
#
# The first layer's 3×3 filters, and what channels respond to in one test digit, after the
# first convolution and after the first strided convolution. A filter's weights have a sign, so they are drawn with a
# diverging colour map centred on zero (red positive, blue negative, white zero; one scale for
# all 16 filters, given by the colour bar). The feature maps come after a ReLU, so they are zero
# or positive; each is rescaled to its own range and drawn like the digits (dark = its
# strongest response, white = none). Early filters react to edges of particular orientations;
# some maps are dark on the empty background and pale on the strokes: those channels respond to
# the *absence* of ink (their filter is negative where ink would be, and batch normalization's
# shift makes blank paper respond). After the strided
# convolution the maps are coarser (12×12); some respond to the top bar, some to the diagonal
# stroke, a few to both where they meet.

# %%
def to_unit(stack: np.ndarray) -> np.ndarray:
    """Rescale each map (last two axes) to [0, 1] so it can be shown as an image."""
    low = stack.min(axis=(-2, -1), keepdims=True)
    high = stack.max(axis=(-2, -1), keepdims=True)
    return (stack - low) / np.maximum(high - low, 1e-8)


first_conv = next(layer for layer in cnn.layers if isinstance(layer, layers.Conv2D))
filters = first_conv.get_weights()[0][:, :, 0, :16].transpose(2, 0, 1)  # (16, 3, 3)
plots.signed_images(filters, ncols=16,
                    title="first convolution: all 16 3×3 filters (red > 0 > blue, one scale)")

# %%
digit = splits.x_test[:1]
relus = [layer for layer in cnn.layers if isinstance(layer, layers.Activation)]
stages = [("first convolution, 26×26", relus[0]), ("after the first strided convolution, 12×12", relus[2])]
for layer_name, layer in stages:
    probe = keras.Model(cnn.input, layer.output)  # the network up to this layer
    maps = np.asarray(probe(digit))[0].transpose(2, 0, 1)  # (channels, height, width)
    display(plots.sample_grid(to_unit(maps[:16]), ncols=16,
                              title=f"{layer_name}: 16 feature maps for a {splits.y_test[0]} "
                                    "(dark = strongest response; each map scaled on its own)"))

# %% [markdown]
# ## 4. Every model in the series, side by side
#
# Parameters, training time (as recorded on the machine that trained each model), inference
# time for the 10,000 test images, validation and clean test accuracy, accuracy on the perturbed
# test suite of notebook 03 (its mean and the combined perturbation), and, when that folder is
# present, accuracy on the real external digits of notebook 05 (photos, scans and drawings) and
# on USPS. All choices were made on the validation set; these numbers are reported once.

# %%
names = {"plain MLP": "mlp", "augmented MLP": "mlp-aug", "CNN (augmented)": "cnn-aug"}
trained = {label: model_cache.get_model(name) for label, name in names.items()}
suite = perturb.perturbed_suite(splits.x_test, seed=0)
robust = evaluate.robustness_table(trained, suite, splits.y_test)
external_root = external_sets.external_root()
have_external = (external_root / "labels.csv").is_file()
# The photos go through the pipeline once; each model then classifies the same 28×28 inputs.
external = external_sets.evaluate_external_models(trained, external_root) if have_external else {}
rows = []
for label, model in trained.items():
    metrics = registry.load_metrics(names[label])
    inference.predict_proba(model, splits.x_test[:1000])  # warm-up before timing
    start = time.perf_counter()
    inference.predict_proba(model, splits.x_test)
    row = {
        "parameters": metrics["params"],
        "train s": metrics["train_seconds"],
        "inference s / 10k": time.perf_counter() - start,
        "val accuracy": metrics["val_accuracy"],
        "test accuracy": robust.loc["clean", label],
        "perturbed (mean)": robust.drop(index="clean")[label].mean(),
        "combined perturbation": robust.loc["combined", label],
    }
    if have_external:
        row["external digits"] = external[label]["correct"].mean()
        row["USPS test"] = external_sets.usps_accuracy(model, external_root)
    rows.append(pd.Series(row, name=label))
comparison = pd.DataFrame(rows)
if not have_external:
    print(f"external digits not found at {os.path.relpath(external_root, data.REPO_ROOT)}: "
          "that column is skipped")
comparison.style.format({"parameters": "{:,.0f}", "train s": "{:.0f}", "inference s / 10k": "{:.2f}"},
                        precision=4)

# %%
accuracy_columns = [c for c in comparison.columns if c in
                    ("test accuracy", "perturbed (mean)", "combined perturbation", "external digits", "USPS test")]
plots.comparison_bar(comparison[accuracy_columns].T, title="Accuracy of every model", ylim=(0.5, 1.0))

# %%
robust.style.format("{:.4f}")

# %% [markdown]
# Where each model's mistakes on the clean test set fall: the confusion matrices of notebook 04,
# the CNN's included, with the correct answers (the diagonal) in grey and the colour scale, one
# for all three panels, given to the mistakes.

# %%
cms = {label: evaluate.confusion_matrix(splits.y_test, inference.predict_proba(model, splits.x_test).argmax(1))
       for label, model in trained.items()}
worst = max(int((cm - np.diag(np.diag(cm))).max()) for cm in cms.values())
fig, axes = plots.panels(1, 3, figsize=(13, 3.8))
for ax, (label, cm) in zip(axes[0], cms.items(), strict=True):
    plots.confusion_heatmap(cm, ax=ax, mistakes_only=True,
                            title=f"{label}: {int(cm.sum() - np.trace(cm))} mistakes")
    ax.collections[0].set_clim(0, worst)  # one scale: panels compare
fig

# %%
others = comparison.drop(index="CNN (augmented)")
perturbed = robust.drop(index="clean")
best_mlp = perturbed[list(others.index)].max(axis=1)
cnn_wins = perturbed["CNN (augmented)"] > best_mlp
print(f"CNN beats both MLPs on {int(cnn_wins.sum())} of {len(cnn_wins)} perturbations; "
      f"not on: {cnn_wins.index[~cnn_wins].tolist() or 'none'}")
assert perturbed["CNN (augmented)"].mean() > perturbed[list(others.index)].mean().max(), \
    "the CNN should beat both MLPs on the perturbed suite"
# At ~98% accuracy on 10,000 images one model's standard error is ~0.14 points: a gap under half a
# point is a tie, not a loss. Anything larger would be a real weakness.
assert (perturbed["CNN (augmented)"] - best_mlp).min() > -0.005, "the CNN should not clearly lose anywhere"
if "external digits" in comparison:
    n_external = len(external_sets.load_external_set(external_root))
    read = (comparison["external digits"] * n_external).round().astype(int)
    print(f"external digits read correctly, of {n_external}: {read.to_dict()}; "
          f"the models differ by at most {read.max() - read.min()} image(s)")
    # One image is 0.26 points here; a difference of a few images is within chance.
    assert read.max() - read.min() <= 10, "the text below says the models are within a few images here"

# %% [markdown]
# ## Reading the comparison
#
# - **Clean accuracy**: the CNN makes the fewest mistakes on the MNIST test set, but all three
#   models are within about a percentage point — MNIST's test set is easy for anything that
#   learned the training set well. Its lead over the augmented MLP is 37 digits (39 mistakes
#   against 76, in the titles of the confusion matrices); notebook 04's McNemar test is how to
#   check whether such a lead is more than chance.
# - **Shifts, rotations, scaling, stroke width, blur**: the CNN scores highest on each, by more
#   than half a point on all of them except thicker strokes (just under half a point), and by
#   about two points on the 4-pixel shift and two and a half on the 25° rotation. A 4-pixel
#   shift, which the plain MLP could not survive, costs the CNN about a point (table above).
#   Both the CNN and the augmented MLP were trained with the same augmentation, so the gap
#   between those two comes from the architecture or its training recipe; this series trains no
#   CNN without augmentation, so it cannot say how much of that robustness convolution gives on
#   its own.
# - **Noise**: the CNN reads noisy digits better than the augmented MLP (the noise row above:
#   about 0.6 points), and far better than the first version of the pooling CNN, trained on
#   rotations, shifts and zooms only, which read fewer than half of the noisy validation digits
#   (see the table in section 2). As for the MLP in notebook 03, robustness came from what training sampled, and
#   the amount was chosen on validation images.
# - **Real handwriting**: on the external digits (photos, scans and drawings) the three models
#   are within a few images of each other (counts printed above): too close to rank on 386
#   images, where one image is a quarter of a point. Most
#   failures there happen in the photo pipeline before any model sees the digit (in notebook
#   05's gallery of failures, most of those shown found no digit at all), so a better model alone
#   cannot fix them. On USPS,
#   cleaner scanned digits from another source, the ranking follows clean accuracy.
# - **Cost**: the CNN has a small fraction of the MLP's weights but takes longer to read an image
#   (more computation per weight): the table above gives each model's training time and its time to read the 10,000
#   test digits (training time on the machine that trained each cached model, reading time on
#   the machine that ran this notebook). A network half as wide as Deotte's, trained in
#   bfloat16 where the CPU computes it, is what keeps its training affordable on a CPU
#   (section 2).
#
# This closes the series: data (01), a model (02), augmentation (03), evaluation (04), real photos
# (05) and a better architecture (06). `python -m helpers predict` uses the model with the best
# validation accuracy — try it on your own handwriting.

# %% [markdown]
# ## Exercises
#
# 1. **Convolution or augmentation?** This notebook cannot say how much of the CNN's robustness
#    to shifts comes from convolution itself. Train the plain CNN (`python -m helpers train --arch
#    cnn`, about as long as the augmented CNN above) and add it to the comparison of section 4. Predict
#    first: will it survive a 4-pixel shift better than the plain MLP?
# 2. **A cheaper CNN.** In the model cell, halve the filters of every convolution (16 → 8,
#    32 → 16, 64 → 32) and run sections 1–2 (the fit cell trains it; the test-accuracy check
#    after it may then fail, which is an answer too). How do the parameter count, the training
#    time and the validation accuracy change?
# 3. **Pooling instead of strides.** Replace each strided 5×5 convolution (with its
#    BatchNorm and ReLU) by `layers.MaxPooling2D(2)`. Predict first: how do the maps' sizes,
#    the weights and the computation per image (`inference.forward_flops(model)`) change?

# %% [markdown]
# <details><summary>Solutions (click to open)</summary>
#
# 1. ```python
#    trained["plain CNN"] = model_cache.get_model("cnn")  # trains it once if needed
#    evaluate.robustness_table(trained, suite, splits.y_test)
#    ```
#    Each strided convolution samples every other pixel and the last 4×4 convolution sees the
#    whole 4×4 map, so small shifts move less and less of what the later layers see; but
#    nothing in the network makes it blind to position. This series has
#    not run this experiment (that is why section 4 does not credit convolution for the
#    robustness), your run answers it. Compare its shift rows with the plain MLP's and with the
#    augmented CNN's. The gap to the second is what augmentation adds to this CNN; the gap to the
#    first mixes architecture and recipe (the plain CNN trains with a higher learning rate,
#    without early stopping and, where the CPU allows, in bfloat16), so it is not a clean measure
#    of what convolution alone gives.
# 2. The cell after these solutions builds the halved network and prints its weights and
#    computation beside this notebook's: about a quarter of each (a convolution's weights and
#    work scale with its input channels times its output channels, and both halve). The fit
#    cell prints the difference from the library's model and trains yours in float32, logging
#    each epoch's time and validation accuracy; compare them with the cached model's log (its
#    total time is from the machine that trained it, in bfloat16 where the CPU computes it, while
#    the fit cell trains in float32: compare times only loosely). This
#    series has not trained the halved network: your run is the answer.
# 3. The same cell builds this variant too. Pooling halves the maps as the strided
#    convolutions did (24 → 12, 8 → 4), so every later size stays the same; the two 5×5
#    convolutions and their weights are gone, and so is their computation. What pooling loses
#    is a *learned* summary: a strided convolution can weigh a neighbourhood's pixels as the
#    task needs, max pooling keeps the largest response, whatever it is.
#
# </details>

# %%
# Solutions 2 and 3, built (not trained): weights and computation per image.
def variant(widths=(16, 32, 64), pooling=False) -> keras.Model:
    stack = [keras.Input(shape=(28, 28)), layers.Reshape((28, 28, 1))]
    for width in widths[:2]:
        for _ in range(2):
            stack += [layers.Conv2D(width, 3, use_bias=False), layers.BatchNormalization(), layers.Activation("relu")]
        stack += [layers.MaxPooling2D(2)] if pooling else [
            layers.Conv2D(width, 5, strides=2, padding="same", use_bias=False),
            layers.BatchNormalization(), layers.Activation("relu")]
        stack.append(layers.Dropout(0.2))
    stack += [layers.Conv2D(widths[2], 4, use_bias=False), layers.BatchNormalization(), layers.Activation("relu"),
              layers.Flatten(), layers.Dropout(0.2), layers.Dense(10, activation="softmax")]
    return keras.Sequential(stack)


for what, net in [("this notebook's CNN", variant()), ("halved (solution 2)", variant((8, 16, 32))),
                  ("pooling (solution 3)", variant(pooling=True))]:
    print(f"{what:22s} {net.count_params():7,} weights, {inference.forward_flops(net) / 1e6:4.1f} MFLOP per image")
