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
# # 03 — Data augmentation, and how much robustness it buys
#
# Handwriting varies: people slant their digits, write them off-centre, large or small, with thin
# pens or thick markers. MNIST's digits are carefully centred and sized, and our MLP sees raw
# pixels — so to the MLP a digit shifted by 3 pixels is an entirely new input, with ink on pixels
# it has rarely seen lit.
#
# **Data augmentation** shows the network a freshly distorted copy of each training image at
# every epoch: rotated a little, shifted a little, zoomed a little, drawn with a thicker or thinner
# pen, speckled with a little noise. The labels do not change, so the network must learn what
# stays the same: the digit.
#
# In this notebook:
# 1. the augmentation layers, and how they map to the classic `ImageDataGenerator` settings,
# 2. what augmented digits look like,
# 3. notebook 02's MLP, without its input dropout, trained on augmented data in an efficient
#    input pipeline, in the batches of 1,024 with a learning-rate warm-up that notebook 02 later
#    adopted (they were found here first),
# 4. robustness **measured**: both models on a suite of perturbed test sets.

# %%
import inspect
import time
from dataclasses import replace

import keras
import numpy as np
from IPython.display import Markdown, display

from helpers import augment, data, evaluate, model_cache, perturb, plots, registry, run_records, training

training.set_seed(42)
splits = data.load_splits()

# %% [markdown]
# ## 1. The augmentation layers
#
# Keras 2 had `ImageDataGenerator(rotation_range=10, width_shift_range=0.1,
# height_shift_range=0.1, zoom_range=0.1)`. Keras 3 removed it from `keras.preprocessing`
# (a legacy copy survives as `tf.keras.preprocessing.image.ImageDataGenerator`); the current way
# is **preprocessing layers**, which run inside TensorFlow graphs, in parallel, and are active
# only in training. Our settings (`helpers/configs.py`) and layers (`helpers/augment.py`):

# %%
display(Markdown(f"```python\n{inspect.getsource(augment.AugmentConfig)}\n"
                 f"{inspect.getsource(augment.augmentation_layers)}```"))

# %% [markdown]
# Three small layers from `helpers/augment.py`, each a `keras.layers.Layer` that works on a
# whole batch: `RandomStrokeWidth` thickens or thins a share of the digits by one pixel (a 2×2
# max filter, or a 2×2 min filter); `RandomAffine` rotates, shifts and zooms;
# `RandomNoise` adds Gaussian noise whose strength each image draws from [0, `noise`], then
# clips to the valid pixel range:

# %%
display(Markdown(f"```python\n{inspect.getsource(augment.RandomNoise.call)}```"))

# %% [markdown]
# Keras has a layer for each geometric transform (`RandomRotation`, `RandomTranslation`,
# `RandomZoom`), and a first version of this notebook chained the three. Each of them resamples
# the image, so every digit was interpolated three times over, and the work was done three
# times. `ImageDataGenerator` did better: it multiplied the rotation, shift and zoom
# into **one matrix** per image and resampled once. `RandomAffine` does the same with
# `keras.ops.image.affine_transform`; at a fixed angle it gives Keras' `RandomRotation` output to
# within rounding (`tests/test_training.py` checks it). Each image draws its own angle, shift and
# zoom:

# %%
display(Markdown(f"```python\n{inspect.getsource(augment.RandomAffine.transforms)}```"))

# %% [markdown]
# How the settings translate:
#
# | `ImageDataGenerator` | Keras 3 layer | ours (`AugmentConfig`) | note |
# | --- | --- | --- | --- |
# | `rotation_range=10` (degrees) | `RandomRotation(10/360)` | `rotation_deg=10` | Keras' factor is a fraction of a full turn |
# | `width_shift_range=0.1`, `height_shift_range=0.1` | `RandomTranslation(0.1, 0.1)` | `shift=0.1` | fraction of the image size: ±2.8 px |
# | `zoom_range=0.1` | `RandomZoom(0.1, 0.1)` | `zoom=0.1` | scale in [0.9, 1.1], width and height independently |
# | `fill_mode="constant", cval=0` | `fill_mode="constant", fill_value=0` | (always) | new pixels are background (0, drawn white in our figures), not smeared edges |
# | — | — | `stroke=0.5` | half the digits get a pen one pixel thicker or thinner |
# | — | `GaussianNoise(0.2)` (one level for all) | `noise=0.2` | pixel noise of standard deviation up to 0.2, clipped to [0, 1] |
#
# The last two were added after a first version of this notebook, trained with the classic
# three only, showed two weaknesses on the perturbed **test** suite of section 4: that is where
# the idea came from, and we say so plainly. How much of each to use was then chosen on
# perturbed **validation** images only; the test suite below reports the result once.
#
# We deliberately leave out **flips**: a mirrored 2 or 7 is not a digit anyone writes, and a
# flipped 6 can look like a 9 rotated. The layers need a channel axis, (N, 28, 28, **1**).
# Called with `training=False` — which is what `model.predict` does — they return the input
# unchanged.

# %%
layers = augment.augmentation_layers(seed=7)
batch = splits.x_train[:8, :, :, None]
unchanged = np.asarray(layers(batch, training=False))
print("inference mode leaves images unchanged:", np.array_equal(unchanged, batch))

# %% [markdown]
# ## 2. What augmented digits look like
#
# Each row: an original training digit, then six random augmentations of it.

# %%
originals = splits.x_train[:6]
augmented = [np.asarray(layers(originals[:, :, :, None], training=True))[..., 0] for _ in range(6)]
plots.augmentation_grid(originals, augmented)

# %% [markdown]
# What each transform does on its own: the same four digits, each column one transform alone at the
# setting used in training (one random draw per digit), then all five together. Stroke width
# changes each digit with probability one half (`stroke=0.5`; here only the 5, thickened), and
# the noise level is drawn per image, so some copies get only faint speckle.

# %%
none = augment.AugmentConfig(rotation_deg=0, shift=0, zoom=0, stroke=0, noise=0)
full = augment.AugmentConfig()
alone = {
    f"rotation\n±{full.rotation_deg:g}°": replace(none, rotation_deg=full.rotation_deg),
    f"shift\n±{full.shift:.0%}": replace(none, shift=full.shift),
    f"zoom\n±{full.zoom:.0%}": replace(none, zoom=full.zoom),
    f"stroke\n{full.stroke:.0%} of digits": replace(none, stroke=full.stroke),
    f"noise\nσ ≤ {full.noise:g}": replace(none, noise=full.noise),
    "all\ntogether": full,
}
four = splits.x_train[:4, :, :, None]
plots.augmentation_grid(four[..., 0], {
    name: np.asarray(augment.augmentation_layers(cfg, seed=3)(four, training=True))[..., 0]
    for name, cfg in alone.items()
}, size=1.1)

# %% [markdown]
# Nearly all are still clearly the same digits (in the first grid a thinned, noisy copy can get
# faint and broken) — that is the test for a good augmentation. Stronger geometric settings (say 30° rotations and 30% shifts)
# would start to create digits that are ambiguous, or that fall off the frame (exercise 1 tries
# 45° rotations, 30% shifts and 30% zooms).
#
# ## 3. Training with augmentation
#
# The augmentation runs in the `tf.data` input pipeline (`helpers.training.make_dataset`): batches
# are shuffled, augmented in parallel threads and prefetched while the model trains on the
# previous batch, so the model need not wait for data, provided the pipeline keeps up. Is
# augmentation a bottleneck? We time the
# pipeline alone, with and without augmentation, and compare with the rate at which the MLP
# trains (from notebook 02's run).

# %%
y_onehot = keras.utils.to_categorical(splits.y_train, 10)
rates = {}
for label, cfg, batch_size in [("plain", None, 256), ("augmented", augment.AugmentConfig(), 256),
                               ("augmented", augment.AugmentConfig(), 1024)]:
    ds = training.make_dataset(splits.x_train, y_onehot, batch_size, shuffle=True, augment=cfg)
    start = time.perf_counter()
    n = sum(len(xb) for xb, _ in ds)
    rates[label, batch_size] = n / (time.perf_counter() - start)
    print(f"input pipeline, {label:9} in batches of {batch_size:4}: {rates[label, batch_size]:9,.0f} images/s")
plain_run = registry.load_metrics("mlp") if registry.is_current("mlp") else {}
if plain_run:
    trained = plain_run["epochs_run"] * len(splits.x_train) / plain_run["train_seconds"]
    print(f"MLP training (notebook 02's recorded run): {trained:9,.0f} images/s, validation included")
    print(f"the augmenting pipeline alone (batches of 1,024, as both MLPs train) is "
          f"{rates['augmented', 1024] / trained:.1f}× as fast as that training")

# %% [markdown]
# Augmenting costs a lot: it cuts the pipeline's own rate many times over (the first two rates);
# batches of 1,024 instead of 256 (the third rate) change it far less than augmenting does.
# What matters is whether it stays faster than the rate at which the MLP trains: if it does, and
# it runs in parallel with training, the model never waits for data. Here the pipeline alone
# is faster than training, but not by a wide margin (the ratio printed; a rough guide, as the
# MLP's rate comes from notebook 02's run, made when the model was trained, and both rates vary
# from run to run). And on 2 cores the pipeline and the training compete for the same CPU:
# compare the augmented MLP's seconds per epoch with the plain MLP's (both printed below, each
# from the run that trained it; both train in batches of 1,024). Augmenting makes the epochs
# slower on average.
#
# The augmented recipe is notebook 02's MLP without its input dropout (distorted copies already
# show every digit differently at each epoch; input dropout was chosen later, for the plain MLP,
# and has not been tried here), trained for up to 40 epochs (notebook 02: 15), with early
# stopping as before: each epoch shows new variations, so the model keeps learning for more
# epochs before it starts to overfit. Its batches are notebook 02's, and were found here first:
# 1,024 images instead of the 256 both recipes used before, and a learning rate four times
# higher (0.004), reached by a **warm-up** that raises it linearly from a tenth of that over the
# first two epochs before the cosine decay begins. A larger batch takes a quarter as many steps
# per epoch, each averaged over four times as many images, so each step can move further;
# ramping the rate up at the start, as Goyal et al. (2017) did for large batches, avoids taking
# the largest steps from freshly initialised weights. The point is time: with these settings the
# recipe came within the tolerance fixed in advance of its earlier 50-epoch run on validation,
# in 40 epochs (the record at the end of this section), and its epochs cost a little less (the
# record's `s per epoch`).
# Training takes a few minutes on a 2-core laptop (about 4 on the machine that made these
# outputs; the cell after next prints the cached model's time); a current cached model loads in
# a second.

# %%
# NBVAL_CHECK_OUTPUT
recipe = registry.RECIPES["mlp-aug"]
plain = registry.RECIPES["mlp"]
assert recipe.model == replace(plain.model, input_dropout=0.0), "notebook 02's network, no input dropout"
assert (recipe.train.batch_size, recipe.train.learning_rate, recipe.train.warmup_epochs) == (
    plain.train.batch_size, plain.train.learning_rate, plain.train.warmup_epochs), "notebook 02's batches"
recipe.to_dict()

# %%
mlp_aug = model_cache.get_model("mlp-aug")
metrics_aug = registry.load_metrics("mlp-aug")
best_epoch = int(np.argmax(metrics_aug["history"]["val_accuracy"])) + 1
print(f"augmented MLP: {metrics_aug['epochs_run']} epochs in {metrics_aug['train_seconds']:.0f} s "
      f"({metrics_aug['train_seconds'] / metrics_aug['epochs_run']:.1f} s per epoch); "
      f"best validation accuracy {metrics_aug['val_accuracy']:.4f} at epoch {best_epoch}, whose weights are kept")
if plain_run:
    print(f"notebook 02's plain MLP: {plain_run['train_seconds'] / plain_run['epochs_run']:.1f} s per epoch "
          "in the same batches, where it was trained")

# %%
plots.training_curves(metrics_aug["history"])

# %% [markdown]
# Notice that **training** accuracy now stays *below* validation accuracy: the training images
# are distorted and harder than the clean validation digits, and dropout is active only during
# training. The model is no longer memorizing. Validation accuracy levels off in the last part
# of the run, and the best epoch's weights are kept (printed above); early stopping
# ended this run before its 40-epoch budget, once 8 epochs in a row brought no gain over the best
# (the epochs run and the best epoch, printed above).
#
# **Why this schedule?** The recipe used to train 50 epochs in batches of 256 at a learning rate of
# 0.001. Shorter runs would train faster, so they were tried against a rule written down before
# they ran: keep the shortest run whose best clean validation accuracy is at most 0.1 points below
# the 50-epoch run's and whose mean validation accuracy over the 11 perturbations of section 4 is
# at most 0.3 points below it. After that reference (first row), fewer epochs at batch 256 came
# first (rows 2 and 3), then the
# larger batch with its warm-up (last two rows; its 40-epoch run was repeated with a second seed,
# 7, to see how much of its score is luck: the two `seed 7` columns). Validation accuracy in %
# (`notebooks/records/epochs_mlp_aug.csv`; the 50-epoch row was trained a day before the others,
# on a machine of the same kind; seconds per epoch are the training time over the epochs run):

# %%
epochs_record = run_records.selection("epochs_mlp_aug")
epochs_record.style

# %% [markdown]
# At batch 256, 40 epochs keep the clean accuracy just inside the rule but lose more than 0.3
# points on the perturbed digits, and 25 epochs lose on both: with its small batch the augmented
# model needed its long run. The larger batch with a warm-up passes the rule in 40 epochs, with
# both seeds; its run (`train s`) took about two thirds of the 50-epoch run's time, mostly by
# running fewer epochs (the seconds per epoch of single runs vary with the machine's load, so
# the column compares only roughly). 30 epochs of it fell short on clean accuracy (so its
# perturbed accuracy was not measured). These are single runs per seed, so a difference of a few images could be luck; the rule, fixed in advance, decides.
#
# ## 4. Robustness, measured
#
# Claims that augmentation "makes the model robust" are cheap; let's measure. `helpers.perturb`
# builds a suite of perturbed copies of the **test set** (deterministic, seeded): shifts,
# rotations, scaling, thicker and thinner strokes, blur, noise, and a combination. Both models see
# exactly the same images. Some perturbations go beyond the augmentation's range (15° and 25°
# rotations, 4-pixel shifts, scaling by 0.8 and 1.2); stroke width and noise sit inside it; blur
# was never trained on.

# %%
mlp_plain = model_cache.get_model("mlp")
suite = perturb.perturbed_suite(splits.x_test, seed=0)
plots.augmentation_grid(suite["clean"][:3], {name: images[:3] for name, images in suite.items() if name != "clean"})

# %%
table = evaluate.robustness_table({"plain MLP": mlp_plain, "augmented MLP": mlp_aug}, suite, splits.y_test)
table["gain"] = table["augmented MLP"] - table["plain MLP"]
table.style.format("{:.4f}")

# %%
plots.robustness_chart(table[["plain MLP", "augmented MLP"]])

# %%
clean_aug = table.loc["clean", "augmented MLP"]
print(f"clean test accuracy: plain {table.loc['clean', 'plain MLP']:.4f}, augmented {clean_aug:.4f}")
print(f"combined perturbation: plain {table.loc['combined', 'plain MLP']:.4f}, "
      f"augmented {table.loc['combined', 'augmented MLP']:.4f} (gain {table.loc['combined', 'gain']:+.4f})")
perturbations = table.drop(index="clean")
print(f"augmented model better on {int((perturbations['gain'] > 0).sum())} of {len(perturbations)} perturbations")

# %%
assert clean_aug >= 0.988, f"augmented MLP should reach 98.8% clean test accuracy, got {clean_aug:.4f}"
covered = [n for n in perturbations.index if n.startswith(("shift", "rotate", "scale"))] + ["combined", "thin"]
assert (perturbations.loc[covered, "gain"] > 0.01).all(), "augmentation should help clearly on what it covers"
worse = perturbations.index[perturbations["gain"] <= 0].tolist()
print(f"perturbations where augmentation did NOT help: {worse or 'none'}")
assert not worse, "the augmented model should beat the plain one on every perturbation"

# %% [markdown]
# ## Reading the results
#
# - On clean digits the gain is the smallest of all: MNIST's test digits are centred and sized like
#   the training digits, so there is little for augmentation to fix there (notebook 04 shows that
#   even this gain is not chance).
# - The largest gains are on the **4-pixel shift** and the **combined** perturbation, where the
#   plain MLP drops furthest: a 4-pixel shift moves most of the ink onto pixels whose weights
#   were trained on background, and the plain model reads under two fifths of those digits
#   (table above). The 2-pixel shift comes next, at about 10 points, then the 25° rotation and
#   thin strokes, at 7 to 8. The other rotation and scaling gain less: the plain model already
#   reads most of them.
# - Blur was never trained on; the gain there is small.
# - **Thinner strokes** and **noise** tell a story of their own. The first version of this notebook
#   augmented with rotations, shifts and zooms only. That model gained almost nothing on thin
#   strokes and was *much worse* on noise than the plain model of the time (40 epochs of 256, no
#   input dropout): 75.46% against 95.64% on the noisy validation images, in the record table
#   below;
#   nothing in training told it to ignore faint speckle spread over the background, and augmenting
#   changed what it relied on. Augmentation buys robustness to what it samples, and can cost
#   robustness to what it does not.
# - So we added stroke width and noise to the augmentation, and chose how much on the perturbed
#   **validation** images (`python -m helpers robustness --split val`), keeping the test suite
#   for this one report. The rule, fixed before looking: the highest mean accuracy over the
#   perturbations, and better than the plain model on each of them. The record of those
#   selection runs, validation accuracy in % (`notebooks/records/mlp_augment_selection.csv`,
#   transcribed from the runs' logs; the README shows the same file):

# %%
run_records.selection("mlp_augment_selection").style

# %% [markdown]
# Reading the record:
#
# - Noise alone fixed noise but made thin strokes *worse* than the plain model — a model taught
#   to ignore faint speckle also ignores faint ink — and stroke-width augmentation repaired that.
#   Noise ≤ 0.1 first looked best, but retrained (after the stroke layer's fix) it fell below the
#   plain model on noise: a margin of about half a point did not survive retraining. Noise ≤ 0.2 keeps a margin of about two and a
#   half points over the plain model on noise, and the chosen run (a 50-epoch budget instead of
#   40; early stopping ended it at 46, after the stroke layer's fix) matched the clean accuracy
#   of the retrained noise ≤ 0.1 run (both 99.18). Against the same augmentation at 40 epochs
#   before the fix, this record cannot say how much of the gain came from the longer budget and
#   how much from the fix. (The selection runs were trained once on an earlier machine with the
#   commands in the README, with rotation, shift and zoom still as Keras' three layers; they are
#   not retrained here. The chosen augmentation, trained again on this notebook's machine, reaches
#   the best validation accuracy printed in section 3, above its row's clean value. Two changes
#   since then can alter the trained weights: the one affine transform of section 1 (the run with
#   it, still 50 epochs in batches of 256, is the first row of section 3's record), and section 3's
#   larger batch with its warm-up and 40 epochs. A version with the three layers reached 99.06% on
#   validation, six images below the chosen row (a record of that run given in the README; not
#   the table's 40-epoch "+ noise ≤ 0.2, stroke 0.5" row, which also shows 99.06); single runs cannot say how much of the gains is luck. The robustness table above is on the *test* set, so it
#   does not compare with these validation rows.)
#
# The MLP still has no notion that neighbouring pixels belong together; notebook 06 shows what a
# convolutional network, which does, adds on top of augmentation.
#

# %% [markdown]
# ## Exercises
#
# 1. **How far is too far?** Build `augment.augmentation_layers(augment.AugmentConfig(rotation_deg=45,
#    shift=0.3, zoom=0.3), seed=7)` and draw augmented copies of the first six training digits as
#    in section 2. Which digits stop being themselves?
# 2. **Rotation and labels.** Why would a rotation range of 180° be a mistake for digits, but
#    fine for, say, photos of galaxies?
# 3. **Where the robustness comes from.** The augmented MLP was trained with five transforms at
#    once. Which single transform would you expect to buy most of its robustness to shifts? How
#    would you test it without touching the test set?

# %% [markdown]
# <details><summary>Solutions (click to open)</summary>
#
# 1. ```python
#    strong = augment.augmentation_layers(augment.AugmentConfig(rotation_deg=45, shift=0.3, zoom=0.3), seed=7)
#    plots.augmentation_grid(originals, [np.asarray(strong(originals[:, :, :, None], training=True))[..., 0]
#                                        for _ in range(6)])
#    ```
#    Look for digits pushed partly off the 28×28 frame (a shift of 30% is over 8 pixels), squeezed
#    or stretched out of shape by a 30% zoom, and leaning so far that a 1 becomes a slash.
#    Augmentation must keep the label true.
# 2. The label of a digit depends on its orientation (6 and 9 are the same shape upside down; so
#    are some 2s and 7s, or a sideways 1 and a dash); a galaxy's class does not.
# 3. The shift (`shift`), since it moves ink onto pixels the plain MLP rarely saw lit.
#    To test it: train one MLP per transform and score each on *shifted validation* images,
#    never on the test set. For the shift (15 epochs in batches of 256, notebook 02's recipe
#    before its batches of 1,024 and its input dropout: a few minutes on a 2-core laptop):
#
#    ```python
#    from helpers.configs import AugmentConfig, MLPConfig, TrainConfig
#    from helpers.registry import Recipe
#
#    shift_only = AugmentConfig(rotation_deg=0, shift=0.1, zoom=0, stroke=0, noise=0)
#    model, _ = training.fit(Recipe("shift-only", MLPConfig(), TrainConfig(epochs=15), shift_only), splits)
#    shifted_val = perturb.perturbed_suite(splits.x_val, seed=0)
#    evaluate.robustness_table({"plain": mlp_plain, "shift only": model, "all five": mlp_aug},
#                              shifted_val, splits.y_val)
#    ```
#
#    If the shift-only model closes most of the gap between the plain and the fully augmented
#    model on the shifted rows, the shift buys most of that robustness.
#
# </details>

# %% [markdown]
# Next, **04 — evaluation**: where exactly do these models go wrong?
