"""Models, augmentation and the training loop, on tiny data so they run in seconds."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from helpers import augment, cli, inference, models, perturb, registry, training
from helpers.configs import AugmentConfig, CNNConfig, MLPConfig, StridedCNNConfig, TrainConfig
from helpers.registry import Recipe

# ---------------------------------------------------------------- models


@pytest.mark.parametrize(
    "cfg", [MLPConfig(hidden=(16,)), CNNConfig(filters=(4, 8), convs=(1, 2), dense=8),
            StridedCNNConfig(filters=(4, 8, 8))]
)
def test_builders_map_images_to_probabilities(cfg):
    model = models.build_model(cfg)
    probs = model.predict(np.zeros((3, 28, 28), np.float32), verbose=0)
    assert probs.shape == (3, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_mlp_config_controls_layers():
    model = models.build_mlp(MLPConfig(hidden=(32, 16, 8), dropout=0.0, batchnorm=False))
    dense = [layer.units for layer in model.layers if layer.__class__.__name__ == "Dense"]
    assert dense == [32, 16, 8, 10]
    assert not any("dropout" in layer.name or "batchnorm" in layer.name for layer in model.layers)


def test_input_dropout_hides_pixels_in_training_only():
    model = models.build_mlp(MLPConfig(hidden=(8,), input_dropout=0.25))
    assert [layer.name for layer in model.layers[:3]] == ["image", "flatten", "input_dropout"]
    layer = model.get_layer("input_dropout")
    assert layer.rate == 0.25
    flat = np.ones((64, 784), np.float32)
    dropped = np.asarray(layer(flat, training=True))
    assert 0.15 < (dropped == 0).mean() < 0.35  # about a quarter of the pixels dropped
    np.testing.assert_array_equal(np.asarray(layer(flat, training=False)), flat)
    assert "input_dropout" not in [layer.name for layer in models.build_mlp(MLPConfig(hidden=(8,))).layers]


def test_cnn_config_stacks_the_given_convolutions_per_block():
    model = models.build_cnn(CNNConfig(filters=(4, 8, 16), convs=(1, 2, 3), dense=8))
    convs = [(layer.name, layer.filters) for layer in model.layers if layer.name.startswith("conv_")]
    assert convs == [("conv_1a", 4), ("conv_2a", 8), ("conv_2b", 8),
                     ("conv_3a", 16), ("conv_3b", 16), ("conv_3c", 16)]


@pytest.mark.parametrize("convs", [(2, 2), (1, 0, 2)])
def test_cnn_config_rejects_a_conv_count_per_block_that_does_not_fit(convs):
    with pytest.raises(ValueError, match="each of the 3 blocks"):
        CNNConfig(filters=(4, 8, 16), convs=convs)


def test_strided_cnn_is_deottes_network():
    """327k weights (the issue's figure) and maps 26, 24, 12, 10, 8, 4, 1 pixels wide."""
    model = models.build_strided_cnn()
    assert model.count_params() == 326_826
    sides = [layer.output.shape[1] for layer in model.layers if layer.name.startswith("relu_")]
    assert sides == [26, 24, 12, 10, 8, 4, 1]
    strided = [layer.name for layer in model.layers if getattr(layer, "strides", (1, 1)) != (1, 1)]
    assert strided == ["conv_1c", "conv_2c"]
    assert not any("pool" in layer.name for layer in model.layers)


def test_build_model_rejects_unknown_config():
    with pytest.raises(TypeError, match="unknown model config"):
        models.build_model({"arch": "mlp"})


# ---------------------------------------------------------------- augmentation


def test_augmentation_is_active_in_training_and_identity_in_inference():
    rng = np.random.default_rng(1)
    x = np.zeros((8, 28, 28, 1), np.float32)
    x[:, 8:20, 12:16] = rng.uniform(0.5, 1.0, (8, 12, 4, 1))
    layers = augment.augmentation_layers(AugmentConfig(), seed=3)
    np.testing.assert_array_equal(np.asarray(layers(x, training=False)), x)
    out = np.asarray(layers(x, training=True))
    assert out.shape == x.shape
    assert np.abs(out - x).max() > 0.1, "training-mode augmentation must change the images"
    assert out.min() >= 0.0 and out.max() <= 1.0 + 1e-6


def test_affine_augmentation_matches_keras_layers_at_a_fixed_draw_and_stays_in_range():
    rng = np.random.default_rng(5)
    x = np.zeros((6, 28, 28, 1), np.float32)
    x[:, 6:22, 11:17] = rng.uniform(0.4, 1.0, (6, 16, 6, 1))
    layer = augment.RandomAffine(10.0, 0.1, 0.1, seed=3)
    # Rotation alone: each image, turned by the angle its transform drew, equals Keras' own
    # RandomRotation at that angle (the same centre, sign and interpolation).
    turn = augment.RandomAffine(10.0, 0.0, 0.0, seed=1)
    m = np.asarray(turn.transforms(6, 28, 28))
    mine = np.asarray(keras.ops.image.affine_transform(x, m))
    for i, deg in enumerate(np.degrees(np.arctan2(m[:, 3], m[:, 0]))):
        rot = keras.layers.RandomRotation((deg / 360, deg / 360), fill_mode="constant")
        np.testing.assert_allclose(mine[i], np.asarray(rot(x[i : i + 1], training=True))[0], atol=1e-4)
    # Every drawn transform stays within the configured ranges: angle, zoom per axis, shift.
    m = np.asarray(layer.transforms(2000, 28, 28))
    zx, zy = np.hypot(m[:, 0], m[:, 3]), np.hypot(m[:, 1], m[:, 4])
    angle = np.degrees(np.arctan2(m[:, 3], m[:, 0]))
    assert np.all(np.abs(angle) <= 10.0 + 1e-4) and np.abs(angle).max() > 9.0
    for z in (zx, zy):
        assert z.min() >= 0.9 - 1e-6 and z.max() <= 1.1 + 1e-6
    centre = m[:, [0, 1]] @ [13.5, 13.5] + m[:, 2] - 13.5, m[:, [3, 4]] @ [13.5, 13.5] + m[:, 5] - 13.5
    assert np.abs(centre[0]).max() <= 2.8 + 1e-4 and np.abs(centre[1]).max() <= 2.8 + 1e-4
    assert np.abs(centre[0]).max() > 2.5, "shifts should spread over ±10% of the width"
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    out = np.asarray(layer(x, training=True))
    assert out.shape == x.shape and np.abs(out - x).max() > 0.1 and out.min() >= 0.0


def test_noise_augmentation_is_clipped_training_only_seeded_and_varies_per_image():
    x = np.zeros((64, 28, 28, 1), np.float32)
    x[:, 8:20, 12:16] = 1.0
    cfg = AugmentConfig(rotation_deg=0.0, shift=0.0, zoom=0.0, stroke=0.0, noise=0.2)
    layers = augment.augmentation_layers(cfg, seed=3)
    assert isinstance(layers.layers[-1], augment.RandomNoise)
    plain = augment.augmentation_layers(AugmentConfig(noise=0.0, stroke=0.0))
    assert not any(isinstance(layer, augment.RandomNoise) for layer in plain.layers), "no noise step at 0"
    np.testing.assert_array_equal(np.asarray(layers(x, training=False)), x)
    out = np.asarray(layers(x, training=True))
    assert out.min() >= 0.0 and out.max() <= 1.0, "noisy pixels must stay in [0, 1]"
    # Clipped N(0, s) on black has mean s/sqrt(2*pi): each image's background mean gives its s.
    background = np.where(x == 0, out, np.nan)
    sigma = np.nanmean(background, axis=(1, 2, 3)) * np.sqrt(2 * np.pi)
    assert sigma.min() < 0.05 and sigma.max() > 0.15, "noise levels should spread over [0, 0.2]"
    assert sigma.max() < 0.2 + 0.02
    again = augment.augmentation_layers(cfg, seed=3)
    np.testing.assert_array_equal(np.asarray(again(x, training=True)), out)


def test_stroke_width_augmentation_matches_the_perturbation_suite_and_is_training_only():
    rng = np.random.default_rng(4)
    x = np.zeros((32, 28, 28), np.float32)
    x[:, 6:22, 10:16] = rng.uniform(0.3, 1.0, (32, 16, 6))
    layer = augment.RandomStrokeWidth(1.0, seed=2)
    np.testing.assert_array_equal(np.asarray(layer(x[..., None], training=False))[..., 0], x)
    out = np.asarray(layer(x[..., None], training=True))[..., 0]
    thick, thin = perturb.thicken(x), perturb.thin(x)
    is_thick = np.all(np.isclose(out, thick), axis=(1, 2))
    is_thin = np.all(np.isclose(out, thin), axis=(1, 2))
    assert np.all(is_thick | is_thin), "probability 1: every image thickened or thinned, as perturb does"
    assert is_thick.any() and is_thin.any()
    none = np.asarray(augment.RandomStrokeWidth(0.0)(x[..., None], training=True))[..., 0]
    np.testing.assert_array_equal(none, x)
    first = lambda cfg: augment.augmentation_layers(cfg).layers[0]  # noqa: E731
    assert isinstance(first(AugmentConfig(stroke=0.5)), augment.RandomStrokeWidth)
    assert not isinstance(first(AugmentConfig(stroke=0.0)), augment.RandomStrokeWidth)


def test_recipe_for_overrides_noise_and_rejects_bad_values():
    recipe = registry.recipe_for("mlp", True, noise=0.05)
    assert recipe.augment.noise == 0.05 and recipe.name == "mlp-aug"
    assert registry.recipe_for("mlp", True).augment == registry.RECIPES["mlp-aug"].augment
    with pytest.raises(registry.ModelError, match="--augment"):
        registry.recipe_for("mlp", False, noise=0.1)
    with pytest.raises(registry.ModelError, match=r"\[0, 1\]"):
        registry.recipe_for("cnn", True, noise=-0.1)
    assert registry.recipe_for("cnn", True, stroke=0.25).augment.stroke == 0.25
    with pytest.raises(registry.ModelError, match="stroke"):
        registry.recipe_for("cnn", True, stroke=1.5)


def test_recipe_for_overrides_the_pooling_cnns_convs_and_rejects_a_bad_layout():
    assert registry.recipe_for("pooled", True, convs=(2, 2, 2)).model.convs == (2, 2, 2)
    for arch, augmented in [("mlp", False), ("cnn", True)]:
        with pytest.raises(registry.ModelError, match="--arch pooled"):
            registry.recipe_for(arch, augmented, convs=(1, 1, 2))
    with pytest.raises(registry.ModelError, match="each of the 3 blocks"):
        registry.recipe_for("pooled", True, convs=(1, 2))


def test_recipe_for_overrides_the_strided_cnn_and_refuses_what_does_not_apply():
    recipe = registry.recipe_for("strided", True, filters=(16, 32, 64), dropout=0.2, epochs=3)
    assert recipe.model == registry.RECIPES["cnn-aug"].model  # cnn-aug: Deotte's, half as wide
    assert recipe.model == StridedCNNConfig(filters=(16, 32, 64), dropout=0.2)
    assert recipe.train.epochs == 3 and recipe.train.bfloat16
    assert registry.recipe_for("pooled", True, bfloat16=True).train.bfloat16
    assert not registry.RECIPES["pooled-aug"].train.bfloat16
    with pytest.raises(registry.ModelError, match="three filter counts"):
        registry.recipe_for("strided", True, filters=(16, 32))
    with pytest.raises(registry.ModelError, match="filters applies to the CNNs"):
        registry.recipe_for("mlp", False, filters=(16, 32))
    with pytest.raises(registry.ModelError, match=r"dropout must be a share in \[0, 1\)"):
        registry.recipe_for("cnn", True, dropout=1.0)
    with pytest.raises(registry.ModelError, match="no recipe 'strided'"):
        registry.recipe_for("strided", False)


def test_cli_train_rejects_convs_that_are_not_numbers(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--arch", "pooled", "--convs", "one,two"])
    assert exit_info.value.code == 2
    assert "whole numbers separated by commas" in capsys.readouterr().err


def test_augmented_pipeline_is_seeded_and_varies_between_epochs(tiny_splits):
    y = np.eye(10, dtype=np.float32)[tiny_splits.y_train]

    def first_batch() -> np.ndarray:
        training.set_seed(5)  # what `fit` does before building its pipeline
        ds = training.make_dataset(tiny_splits.x_train, y, 16, augment=AugmentConfig(), seed=5)
        return next(iter(ds))[0].numpy()

    np.testing.assert_allclose(first_batch(), first_batch(), err_msg="same seed must give the same batch")
    ds = training.make_dataset(tiny_splits.x_train, y, 16, augment=AugmentConfig(), seed=5)
    epoch1, epoch2 = (next(iter(ds))[0].numpy() for _ in range(2))
    assert not np.allclose(epoch1, epoch2), "each epoch must see new random distortions"
    assert not np.allclose(epoch1, tiny_splits.x_train[:16])


# ---------------------------------------------------------------- training and cache


def test_fit_learns_and_is_deterministic(tiny_splits):
    recipe = Recipe("t", MLPConfig(hidden=(32,)), TrainConfig(epochs=3, batch_size=32))
    model_a, hist_a = training.fit(recipe, tiny_splits, verbose=False)
    model_b, hist_b = training.fit(recipe, tiny_splits, verbose=False)
    assert inference.accuracy(model_a, tiny_splits.x_val, tiny_splits.y_val) > 0.5
    assert hist_a["loss"] == hist_b["loss"], "same seed, same data → same training"


def test_bfloat16_training_hands_back_a_float32_model_of_its_weights(tiny_splits, monkeypatch):
    """Mixed bfloat16 trains; the model returned computes in float32 (LiteRT has no bfloat16 ops)."""
    train = TrainConfig(epochs=2, batch_size=32, bfloat16=True)
    recipe = Recipe("t", StridedCNNConfig(filters=(4, 8, 8)), train)
    built = []

    def build(*args, **kwargs):
        built.append(real_build(*args, **kwargs))
        return built[-1]

    real_build = training.build_model
    monkeypatch.setattr(training, "native_bfloat16", lambda: True)  # on any CPU (emulated: slow, tiny here)
    monkeypatch.setattr(training, "build_model", build)
    model, history = training.fit(recipe, tiny_splits, verbose=False)
    assert built[0].layers[2].dtype_policy.name == "mixed_bfloat16", "it trained in bfloat16"
    assert built[0].layers[-1].dtype_policy.name == "float32"  # the softmax, in float32
    np.testing.assert_array_equal(model.get_weights()[0], built[0].get_weights()[0])
    assert len(history["loss"]) == 2
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}
    assert keras.mixed_precision.dtype_policy().name == "float32", "the global policy is restored"
    probs = inference.predict_proba(model, tiny_splits.x_val)
    assert probs.dtype == np.float32 and probs.shape == (len(tiny_splits.x_val), 10)
    # The float32 copy reads as the bfloat16 network it was copied from (to bfloat16's precision).
    trained = np.asarray(built[0](tiny_splits.x_val, training=False), dtype=np.float32)
    assert np.abs(trained - probs).max() < 0.05
    assert (trained.argmax(1) == probs.argmax(1)).mean() >= 0.9
    from helpers import model_cache

    assert model_cache.to_tflite(model)[4:8] == b"TFL3"


def test_bfloat16_is_used_only_where_the_cpu_computes_it(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_bf16\n")
    assert training.native_bfloat16(info)
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_vnni\n")
    assert not training.native_bfloat16(info)
    assert not training.native_bfloat16(tmp_path / "missing")


def test_precision_and_build_follow_the_recipe_and_the_cpu(monkeypatch):
    """What `fit`, the model's record and the benchmarks use: bfloat16 only if asked and native."""
    recipe = Recipe("t", StridedCNNConfig(filters=(4, 8, 8)), TrainConfig(bfloat16=True))
    monkeypatch.setattr(training, "native_bfloat16", lambda: False)
    assert training.precision(recipe.train) == "float32"
    assert training.build(recipe).layers[2].dtype_policy.name == "float32"
    monkeypatch.setattr(training, "native_bfloat16", lambda: True)
    assert training.precision(recipe.train) == "mixed_bfloat16"
    assert training.precision(TrainConfig()) == "float32"
    assert training.build(recipe).layers[2].dtype_policy.name == "mixed_bfloat16"
    assert keras.mixed_precision.dtype_policy().name == "float32", "the global policy is restored"


def test_predict_proba_checks_shape():
    model = models.build_mlp(MLPConfig(hidden=(8,)))
    assert inference.predict_proba(model, np.zeros((28, 28))).shape == (1, 10)
    with pytest.raises(ValueError, match=r"expected images of shape \(N, 28, 28\)"):
        inference.predict_proba(model, np.zeros((2, 32, 32)))


@pytest.mark.parametrize("augment", [None, AugmentConfig()], ids=["plain", "augmented"])
def test_steps_per_execution_changes_only_the_speed_not_the_weights(augment):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (600, 28, 28)).astype("float32")  # 19 batches of 32: 16 + a remainder of 3
    y = keras.utils.to_categorical(rng.integers(0, 10, 600), 10)
    weights = []
    for spe in (1, training.STEPS_PER_EXECUTION):
        training.set_seed(1)
        model = models.build_model(MLPConfig(hidden=(32,)))
        training.compile_model(model, TrainConfig(epochs=2, batch_size=32), steps_per_epoch=19)
        if spe == 1:
            model.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"],
                          steps_per_execution=1)
        assert model.get_compile_config()["steps_per_execution"] == spe
        ds = training.make_dataset(x, y, 32, shuffle=True, augment=augment)
        model.fit(ds, epochs=2, verbose=0, shuffle=False)
        weights.append([w.numpy() for w in model.weights])
    for one, many in zip(*weights, strict=True):
        np.testing.assert_array_equal(one, many)


def test_warm_up_rises_linearly_to_the_rate_then_decays():
    def lr(cfg: TrainConfig, step: int) -> float:
        return float(training.learning_rate_schedule(cfg, steps_per_epoch=100)(step))

    warm = TrainConfig(epochs=10, learning_rate=4e-3, warmup_epochs=2)
    assert lr(warm, 0) == pytest.approx(4e-4)
    assert lr(warm, 100) == pytest.approx((4e-4 + 4e-3) / 2)
    assert lr(warm, 200) == pytest.approx(4e-3)
    assert lr(warm, 600) < lr(warm, 300) < lr(warm, 200)
    assert lr(warm, 1000) == pytest.approx(4e-5)  # 1% of the peak at the end
    cold = TrainConfig(epochs=10, learning_rate=4e-3)
    assert lr(cold, 0) == pytest.approx(4e-3)
    assert lr(cold, 1000) == pytest.approx(4e-5)
