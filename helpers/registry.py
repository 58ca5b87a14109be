"""The model registry: recipes, names, file paths, and which cached model is current and best.

No TensorFlow here: the command line asks this module which model to use before it
decides whether it needs TensorFlow at all.

A cached model is *current* only when both hold:
- its recipe (`NAME.json` → "recipe") equals the recipe as it is now, and
- the code that builds, augments and trains it is unchanged: `code_fingerprint` hashes
  that source (comments, docstrings and formatting aside) and `NAME.json` stores the hash.
Anything else is stale: the notebooks retrain it, the command line refuses it with one line
that says how to retrain (and trains a model that was never trained at all).
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import tokenize
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from helpers import UserError, data
from helpers.configs import AugmentConfig, CNNConfig, MLPConfig, StridedCNNConfig, TrainConfig

MODELS_DIR = data.REPO_ROOT / "data" / "models"
MODELS_ENV = "MNIST_MODELS_DIR"
HELPERS_DIR = Path(__file__).resolve().parent

class ModelError(UserError):
    """A model file is missing, unknown, stale or unreadable; the message says which and what to do."""


@dataclass(frozen=True)
class Recipe:
    """Everything that determines a trained model; its dict is saved beside the model."""

    name: str
    model: MLPConfig | CNNConfig | StridedCNNConfig
    train: TrainConfig = field(default_factory=TrainConfig)
    augment: AugmentConfig | None = None

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "model": self.model.to_dict(),
            "train": asdict(self.train),
            "augment": self.augment.to_dict() if self.augment else None,
        }

    def command(self) -> str:
        """The shell command that trains this recipe into the cache."""
        arch = self.name.removesuffix("-aug")  # the command line's --arch names the recipes
        return f"python -m helpers train --arch {arch}{' --augment' if self.augment else ''}"


# Noise in the augmentation costs some clean accuracy; a larger batch and a higher learning rate
# won it back (chosen on validation, see the README). 15 epochs matched 25 on validation
# (`notebooks/records/epochs_cnn_aug.csv`); patience above the budget: never stop early.
_CNN_TRAIN = TrainConfig(epochs=15, batch_size=256, learning_rate=2e-3, patience=25)
# The CNN since the accuracy–time curve of `notebooks/records/cnn_time_curve.csv` (candidate B2):
# strided convolutions instead of pooling, half as wide as Deotte's network, dropout 0.2, trained
# with the same recipe in mixed bfloat16.
_STRIDED_CNN = StridedCNNConfig(filters=(16, 32, 64), dropout=0.2)
_STRIDED_TRAIN = replace(_CNN_TRAIN, bfloat16=True)

RECIPES: dict[str, Recipe] = {
    # 15 epochs matched 20 on validation; 12 and 10 did not (`notebooks/records/epochs_mlp.csv`).
    # Then batches of 1,024 (the rate and warm-up of `mlp-aug`) and 20% input dropout: the best of
    # five candidates on validation, in half the time (`notebooks/records/mlp_half_time.csv`).
    "mlp": Recipe("mlp", MLPConfig(input_dropout=0.2), TrainConfig(
        epochs=15, batch_size=1024, learning_rate=4e-3, warmup_epochs=2)),
    # A four times larger batch at a four times higher rate, reached after a warm-up, kept
    # validation accuracy in 40 epochs instead of 50 (`notebooks/records/epochs_mlp_aug.csv`).
    "mlp-aug": Recipe("mlp-aug", MLPConfig(), TrainConfig(
        epochs=40, batch_size=1024, learning_rate=4e-3, warmup_epochs=2), AugmentConfig()),
    # The CNN's validation accuracy jumps around while the learning rate is high (batch-norm
    # statistics lag the weights); its best epochs come late, so it runs its whole budget and
    # keeps the best epoch instead of stopping early.
    "cnn": Recipe("cnn", _STRIDED_CNN, _STRIDED_TRAIN),
    "cnn-aug": Recipe("cnn-aug", _STRIDED_CNN, _STRIDED_TRAIN, AugmentConfig()),
    # `cnn-aug` before the strided CNN: three blocks of 3×3 convolutions with max pooling (the
    # candidates of `notebooks/records/cnn_selection.csv` are this network with other `convs`).
    "pooled-aug": Recipe("pooled-aug", CNNConfig(), _CNN_TRAIN, AugmentConfig()),
    # Deotte's network at full width (candidate C of the curve): more accurate, twice the time.
    "strided-aug": Recipe("strided-aug", StridedCNNConfig(), _STRIDED_TRAIN, AugmentConfig()),
}
#: The models the notebooks train, in order; `best_model_name` chooses among them.
SERIES = ("mlp", "mlp-aug", "cnn-aug")
#: What `predict` trains and uses when no model has been trained yet.
DEFAULT_MODEL = "cnn-aug"


def recipe_for(
    arch: str, augment: bool, epochs: int | None = None, noise: float | None = None,
    stroke: float | None = None, convs: tuple[int, ...] | None = None, *,
    filters: tuple[int, ...] | None = None, dropout: float | None = None, bfloat16: bool | None = None,
) -> Recipe:
    """The named recipe for an architecture; the other arguments, when given, override its settings."""
    name = f"{arch}-aug" if augment else arch
    if name not in RECIPES:
        raise ModelError(f"no recipe {name!r} for arch {arch!r}; known: {', '.join(RECIPES)}")
    recipe = RECIPES[name]
    train = {k: v for k, v in [("epochs", epochs), ("bfloat16", bfloat16)] if v is not None}
    recipe = replace(recipe, train=replace(recipe.train, **train))
    recipe = _with_model(recipe, convs=convs, filters=filters, dropout=dropout)
    for setting, value, meaning in [("noise", noise, "a standard deviation"), ("stroke", stroke, "a share")]:
        if value is None:
            continue
        if recipe.augment is None:
            raise ModelError(f"{setting} is part of augmentation: use it with an augmented recipe, --augment")
        if not 0.0 <= value <= 1.0:
            raise ModelError(f"{setting} must be {meaning} in [0, 1], got {value}")
        recipe = replace(recipe, augment=replace(recipe.augment, **{setting: value}))
    return recipe


def _with_model(recipe: Recipe, **changes: object) -> Recipe:
    """`recipe` with the given model settings (None: unchanged), refused where they do not apply."""
    changes = {k: tuple(v) if isinstance(v, list | tuple) else v for k, v in changes.items() if v is not None}
    if "convs" in changes and not isinstance(recipe.model, CNNConfig):
        raise ModelError("convs (convolutions per block) applies to the pooling CNN: use --arch pooled")
    if "filters" in changes and isinstance(recipe.model, MLPConfig):
        raise ModelError("filters applies to the CNNs: use --arch cnn, pooled or strided")
    if "dropout" in changes and not 0.0 <= changes["dropout"] < 1.0:
        raise ModelError(f"dropout must be a share in [0, 1), got {changes['dropout']}")
    if isinstance(recipe.model, StridedCNNConfig) and len(changes.get("filters", (0, 0, 0))) != 3:
        raise ModelError("the strided CNNs take three filter counts: two blocks and the last convolution")
    try:
        return replace(recipe, model=replace(recipe.model, **changes))
    except ValueError as err:
        raise ModelError(str(err)) from None


# ---------------------------------------------------------------- the code behind a model

#: The source a trained model depends on: whole modules, or (module, top-level names).
TRAINING_SOURCES: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    ("models.py", None),
    ("training.py", None),
    ("data.py", ("VALIDATION_SIZE", "Splits", "scale", "load_splits")),
)
AUGMENT_SOURCES: tuple[tuple[str, tuple[str, ...] | None], ...] = (("augment.py", None),)


def _docstring_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def _defines(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return {t.id for t in targets if isinstance(t, ast.Name)}


def code_text(source: str, names: tuple[str, ...] | None = None, where: str = "<source>") -> str:
    """The code of a module (or of some of its top-level names) without comments, docstrings and
    blank lines, as text: the same on every Python version, unlike an AST dump."""
    tree = ast.parse(source)
    lines = source.splitlines()
    drop = _docstring_lines(tree)
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            row, col = tok.start
            lines[row - 1] = lines[row - 1][:col]
    if names is None:
        wanted = range(1, len(lines) + 1)
    else:
        nodes = [n for n in tree.body if _defines(n) & set(names)]
        missing = set(names) - set().union(*(_defines(n) for n in nodes))
        if missing:
            raise ValueError(f"{where}: no top-level {', '.join(sorted(missing))} to fingerprint")
        starts = [min([n.lineno] + [d.lineno for d in getattr(n, "decorator_list", [])]) for n in nodes]
        wanted = [i for start, n in zip(starts, nodes, strict=True) for i in range(start, n.end_lineno + 1)]
    kept = (lines[i - 1].rstrip() for i in wanted if i not in drop)
    return "\n".join(line for line in kept if line)


def source_texts(source_dir: Path | None = None) -> dict[str, str]:
    """The source of every module a trained model depends on, read now."""
    folder = source_dir or HELPERS_DIR
    modules = {m for m, _ in TRAINING_SOURCES + AUGMENT_SOURCES}
    return {m: (folder / m).read_text(encoding="utf-8") for m in sorted(modules)}


def code_fingerprint(recipe: Recipe, source_dir: Path | None = None,
                     texts: dict[str, str] | None = None) -> str:
    """A hash of the code that builds, augments and trains `recipe`'s model.

    Editing a builder, an augmentation layer or the training loop changes it; editing a
    comment or a docstring does not. `texts` (from `source_texts`) fingerprints source read
    earlier instead of the files as they are now.
    """
    texts = texts or source_texts(source_dir)
    return sources_fingerprint(TRAINING_SOURCES + (AUGMENT_SOURCES if recipe.augment else ()), texts)


def sources_fingerprint(
    sources: tuple[tuple[str, tuple[str, ...] | None], ...], texts: dict[str, str]
) -> str:
    """A hash of `sources` ((module, top-level names or None for all)), read from `texts` by module."""
    h = hashlib.sha256()
    for module, names in sources:
        h.update(module.encode())
        h.update(code_text(texts[module], names, where=module).encode())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------- the cache


def models_dir() -> Path:
    return Path(os.environ.get(MODELS_ENV) or MODELS_DIR)


def model_path(name: str) -> Path:
    """`data/models/NAME.keras` (the Keras model; `NAME.tflite` and `NAME.json` sit beside it)."""
    return models_dir() / f"{name}.keras"


def resolve(name_or_path: str | os.PathLike) -> Path:
    """A recipe name (e.g. "mlp-aug") → its cache path; anything else is taken as a path."""
    text = str(name_or_path)
    return model_path(text) if text in RECIPES else Path(text)


def load_metrics(name_or_path: str | os.PathLike) -> dict:
    """The metrics JSON saved beside a model (empty dict if there is none)."""
    path = resolve(name_or_path).with_suffix(".json")
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: metrics file is not valid JSON ({exc})") from exc


#: Why a cached model cannot be used, by the key `staleness` returns.
STALE_REASONS = {
    "missing": "is not there",
    "recipe": "was trained with another recipe",
    "code": "was made by older code (the model, augmentation or training code has changed since)",
}


def staleness(name: str, source_dir: Path | None = None) -> str:
    """Why the cached model `name` cannot be used: "" when it is current, else a key of `STALE_REASONS`."""
    recipe = RECIPES[name]
    metrics = load_metrics(name)
    if not model_path(name).is_file() or not metrics:  # the record is written last: no record, no model
        return "missing"
    if metrics.get("recipe") != recipe.to_dict():
        return "recipe"
    if metrics.get("code") != code_fingerprint(recipe, source_dir):
        return "code"
    return ""


def is_current(name: str, source_dir: Path | None = None) -> bool:
    """True when the cached model exists and was made by today's recipe and code."""
    return name in RECIPES and staleness(name, source_dir) == ""


def check_current(name: str) -> Path:
    """The cached model's path, or a `ModelError` saying why it cannot be used and how to fix it."""
    why = staleness(name)
    path = model_path(name)
    if why == "missing":
        raise ModelError(f"{path}: no such model file; train it with `{RECIPES[name].command()}`")
    if why:
        raise ModelError(f"{path} {STALE_REASONS[why]}; retrain it with `{RECIPES[name].command()}`")
    return path


def best_model_name() -> str:
    """Among the cached models of `SERIES`, the one with the best *validation* accuracy.

    Never chosen on the test set. Stale models take part (so the choice does not change
    when the code does); loading a stale one then says how to retrain it. `DEFAULT_MODEL`
    when nothing is cached.
    """
    scores = {n: load_metrics(n).get("val_accuracy", -1.0) for n in SERIES
              if model_path(n).is_file() and staleness(n) != "missing"}
    return max(scores, key=scores.get) if scores else DEFAULT_MODEL
