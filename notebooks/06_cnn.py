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
# - **pooling** keeps the strongest response in each 2×2 patch, halving the resolution, so
#   later layers see larger regions and small shifts matter less.
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
# builds; a test checks that it is the network the command line trains, `helpers.models.build_cnn`):

# %%
training.set_seed(42)
model = keras.Sequential([
    keras.Input(shape=(28, 28)),
    layers.Reshape((28, 28, 1)),  # one channel: grey level
    layers.Conv2D(16, 3, padding="same", use_bias=False),  # 16 filters of 3×3
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.MaxPooling2D(2),  # 28×28 → 14×14
    layers.Conv2D(32, 3, padding="same", use_bias=False),
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.MaxPooling2D(2),  # 14×14 → 7×7
    layers.Conv2D(64, 3, padding="same", use_bias=False),
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Conv2D(64, 3, padding="same", use_bias=False),
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Flatten(),  # keeps *where* each feature was found
    layers.Dense(128, activation="relu"),
    layers.Dropout(0.3),
    layers.Dense(10, activation="softmax"),
], name="cnn")
model.summary()

# %% [markdown]
# Three blocks of Conv → BatchNorm → ReLU. Pooling after the first two blocks takes the 28×28
# image to 14×14 and then 7×7. The first two blocks have one 3×3 convolution each; the last has
# two in a row (together they see a 5×5 patch of its 7×7 maps, with a non-linearity in between).
# Why not two everywhere? A convolution costs in proportion to the pixels it slides over: at
# 28×28 it runs 16 times as often as at 7×7. Two convolutions in every block trained in 679 s on
# the machine used for the selection, over its 10-minute budget, for no gain in clean validation
# accuracy and only a small one on the mean of the perturbations (table below). The last
# block's maps are flattened — keeping *where* each feature was found — into a small dense layer
# with dropout, then the softmax. The whole network has a quarter of the MLP's weights (most of
# them in that dense layer), but each convolution weight is used at every position of its map —
# 49 times per image at 7×7, 784 times at 28×28: it is the *computation*, not the size, that
# grows.
#
# ## 2. Training, with the augmentation of notebook 03
#
# The same augmentation and settings as notebook 03 (stroke width, one affine transform for
# rotation, shift and zoom, then noise). With noise up to 0.1 only, the
# CNN read 92.5% of the noisy *validation* digits, fewer than the augmented MLP (98.14, below): its 3×3 filters respond
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
# 0.9942 in section 4's table.) "1-1-2" gives the convolutions per block. Training times are for that 2-core
# machine with nothing else running; blank: measured only while other runs shared the machine. The differences in clean accuracy are at most
# 15 images out of 5,000 (0.3 points), most of them within chance; the gain on noise is not.
#
# **Fewer epochs, as good on validation.** On a slower machine the chosen recipe took over 18
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
# perturbations, inside the rule: the recipe now trains for 15 epochs, 40% fewer (719 s against
# 1092 s in the record; still over the 10-minute budget on that slower machine). (The notebook's
# last section compares it on the test set with the other models.)
#
# The recipe, as notebook 02 compiles it, with this run's settings (the augmentation is notebook
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
# Training takes about 12 minutes on the slower of this project's 2-core machines, less on a
# faster one (the next cell prints how
# long the cached model took on the machine that trained it), so when the two cells above build and
# compile exactly the library's `cnn-aug` recipe, the next cell reuses the cached model (training
# it first if it is missing or was made by other code) and prints its recorded log; when you have
# edited them, it trains your model here.

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
          f"on the machine that made it, {cnn_metrics['params']:,} parameters; "
          f"{'reused' if reused else 'trained now'}")
    if reused:
        model_cache.show_log(history)

# %% [markdown]
# The first epoch's validation accuracy is far below the training accuracy (the log above): at the
# start, with a high learning rate, the weights change fast and batch normalization's running
# averages, which it uses at evaluation, lag behind them. The averages catch up within an epoch or
# two, and that is also why this run keeps its whole 15-epoch budget (`PATIENCE > EPOCHS`) and
# then restores its best epoch instead of stopping early on an early, noisy score.

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
# The first layer's 3×3 filters, and what each of the first block's and second block's channels
# responds to in one test digit. A filter's weights have a sign, so they are drawn with a
# diverging colour map centred on zero (red positive, blue negative, white zero; one scale for
# all 16 filters, given by the colour bar). The feature maps come after a ReLU, so they are zero
# or positive; each is rescaled to its own range and drawn like the digits (dark = its
# strongest response, white = none). Early filters react to edges of particular orientations;
# some maps are dark on the empty background and pale on the strokes: those channels respond to
# the *absence* of ink (their filter is negative where ink would be). After pooling, the second
# block's maps are coarser; some respond to the top bar, some to the diagonal stroke, a few to
# both where they meet.

# %%
def to_unit(stack: np.ndarray) -> np.ndarray:
    """Rescale each map (last two axes) to [0, 1] so it can be shown as an image."""
    low = stack.min(axis=(-2, -1), keepdims=True)
    high = stack.max(axis=(-2, -1), keepdims=True)
    return (stack - low) / np.maximum(high - low, 1e-8)


first_conv = next(layer for layer in cnn.layers if isinstance(layer, layers.Conv2D))
filters = first_conv.get_weights()[0][:, :, 0, :16].transpose(2, 0, 1)  # (16, 3, 3)
plots.signed_images(filters, ncols=16,
                    title="first convolution: the first 16 3×3 filters (red > 0 > blue, one scale)")

# %%
digit = splits.x_test[:1]
relus = [layer for layer in cnn.layers if isinstance(layer, layers.Activation)]
for layer_name, layer in zip(("first block", "second block"), relus[:2], strict=False):
    probe = keras.Model(cnn.input, layer.output)  # the network up to this layer
    maps = np.asarray(probe(digit))[0].transpose(2, 0, 1)  # (channels, height, width)
    display(plots.sample_grid(to_unit(maps[:16]), ncols=16,
                              title=f"{layer_name}: first 16 feature maps for a {splits.y_test[0]} "
                                    "(dark = strongest response; each map scaled on its own)"))

# %% [markdown]
# ## 4. Every model in the series, side by side
#
# Parameters, training time (as recorded on the machine that trained each model), inference
# time for the 10,000 test images, clean test accuracy, accuracy on the perturbed test suite of
# notebook 03, and accuracy on the real external digits of notebook 05 (photos, scans and drawings) (when that folder is
# present). All choices were made on the validation set; these numbers are reported once.

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
#   learned the training set well. Its lead over the augmented MLP is 15 digits (62 mistakes
#   against 77, in the titles of the confusion matrices): small, and notebook 04's McNemar test
#   is how to check whether it is more than chance.
# - **Shifts, rotations, scaling, stroke width, blur**: the CNN scores highest on each, by more
#   than half a point on all of them except thicker strokes (about a third of a point), and by
#   about two points on the 4-pixel shift and three on the 25° rotation. A 4-pixel shift, which
#   the plain MLP could not survive, costs the CNN about a third of a point (table above).
#   Both the CNN and the augmented MLP were trained with the same augmentation, so the gap
#   between those two comes from the architecture or its training recipe; this series trains no
#   CNN without augmentation, so it cannot say how much of that robustness convolution and
#   pooling give on their own.
# - **Noise**: the CNN reads noisy digits slightly better than the augmented MLP (the noise row
#   above: a difference of half a point), and far better than the first version of the CNN,
#   trained on rotations, shifts and zooms only, which read fewer than half of them (see the
#   table in section 2). As for the MLP in notebook 03, robustness came
#   from what training sampled, and the amount was chosen on validation images.
# - **Real handwriting**: on the external digits (photos, scans and drawings) the three models
#   are within a few images of each other (counts printed above): chance, not a ranking. Most
#   failures there happen in the photo pipeline before any model sees the digit (in notebook
#   05's gallery of failures, most of those shown found no digit at all), so a better model alone
#   cannot fix them. On USPS,
#   cleaner scanned digits from another source, the ranking follows clean accuracy.
# - **Cost**: the CNN has a quarter of the MLP's weights but needs far more computation per image:
#   the table above gives each model's training time and its time to read the 10,000 test digits
#   (training time on the machine that trained each cached model, reading time on the machine
#   that ran this notebook). Keeping the expensive full-resolution
#   layers to one convolution is what keeps its training affordable on a CPU.
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
# 3. **Global pooling.** Replace `layers.Flatten()` with `layers.GlobalAveragePooling2D()`. What
#    information does the network lose, and how many weights does the dense layer keep?

# %% [markdown]
# <details><summary>Solutions (click to open)</summary>
#
# 1. ```python
#    trained["plain CNN"] = model_cache.get_model("cnn")  # trains it once if needed
#    evaluate.robustness_table(trained, suite, splits.y_test)
#    ```
#    Each 2×2 pooling absorbs a shift of about a pixel at its level, and the final `Flatten` keeps
#    positions, so predict before you look. This series has not run this experiment (that is why
#    section 4 does not credit convolution for the robustness): your run answers it. Compare its
#    shift rows with the plain MLP's and with the augmented CNN's. The gap to the second is what
#    augmentation adds to this CNN; the gap to the first mixes architecture and recipe (the plain
#    CNN trains with its own epochs and learning rate), so it is an upper bound on what
#    convolution alone gives, not a measure of it.
# 2. `model.summary()` shows the counts: 217,522 parameters instead of 463,578. The
#    convolutions' weights drop to about a quarter (each after the first has half the inputs and
#    half the outputs), the dense layer's to about half (it reads half as many maps). The fit cell prints the difference from the library's model and trains
#    yours, logging each epoch's time and validation accuracy; compare them with the cached
#    model's log (its time is from the machine that trained it, so compare times only if that
#    was yours). This series has not trained the halved network: your run is the answer.
# 3. Global average pooling averages each of the 64 maps over the 7×7 grid: the network keeps
#    *what* it found but not *where*, and the dense layer's weights shrink from
#    3,136 × 128 + 128 = 401,536 (7 × 7 × 64 inputs to 128 units, plus biases) to
#    64 × 128 + 128 = 8,320. For digits, where a stroke is matters (a loop at the top or at the bottom
#    separates a 9 from a 6), which is why this network flattens instead.
#
# </details>
