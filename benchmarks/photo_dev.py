"""Read the synthetic development photos and print how well the photo pipeline does (nothing asserted).

    python benchmarks/photo_dev.py                 # seed 0: the set every pipeline setting is chosen on
    python benchmarks/photo_dev.py --seed 1        # the held-back set, measured once at the end
    python benchmarks/photo_dev.py --split val     # digits from MNIST's validation split instead of training

The photos come from `helpers.photo.synthetic` (MNIST training digits by default, so the
classifier knows them well and what fails is mostly the pipeline's doing; `--split val`
measures pipeline and classifier together). Figures printed:

- numbers read exactly: rows of digits whose every digit, and nothing else, was read;
- false digits on digit-free photos (blank paper, ruling, folds, shadows, desk), per 100 photos;
- one-digit crops read exactly in default mode (not `--single`), the easy ones and the harder
  ones (`hard_crop_photo`: out of focus, faint, thin or thick pens, off-centre, tilted), with the
  harder ones' failures by kind;
- seconds per photo for the image part of the pipeline.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import pickle
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers import inference, photo, registry  # noqa: E402
from helpers.data import REPO_ROOT, atomic_write  # noqa: E402
from helpers.photo import synthetic  # noqa: E402


def load_photos(args: argparse.Namespace) -> list[synthetic.Photo]:
    """The synthetic set for these arguments, from a cache under data/runs/ made by the same generator."""
    key = hashlib.sha256(Path(synthetic.__file__).read_bytes()).hexdigest()[:12]
    name = f"{args.seed}-{args.split}-{args.numbers}-{args.blanks}-{args.singles}-{args.hard}-{key}.pkl"
    cache = REPO_ROOT / "data" / "runs" / "synthetic" / name
    if cache.is_file():
        return [synthetic.Photo(cv2.imdecode(png, cv2.IMREAD_COLOR), rows, cond)
                for png, rows, cond in pickle.loads(cache.read_bytes())]
    photos = synthetic.dev_set(args.seed, args.numbers, args.blanks, args.singles, args.split, args.hard)
    packed = [(cv2.imencode(".png", p.image, [cv2.IMWRITE_PNG_COMPRESSION, 1])[1], p.rows, p.conditions)
              for p in photos]
    cache.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(cache, pickle.dumps(packed))
    return photos


def rows_matched(read: list[str], truth: list[str]) -> int:
    """How many of the written rows were read exactly (row for row when the counts agree)."""
    if len(read) == len(truth):
        return sum(a == b for a, b in zip(read, truth, strict=True))
    left = collections.Counter(read)
    hits = 0
    for t in truth:
        if left[t]:
            left[t] -= 1
            hits += 1
    return hits


def tally(kind: str, ph: synthetic.Photo, res: photo.ImageResult, stats: collections.Counter,
          by_condition: dict[str, collections.Counter]) -> None:
    """Count one photo read: numbers and their conditions, false digits on blanks, crops by kind."""
    ok = res.rows == ph.rows
    if kind == "number":
        stats["rows"] += len(ph.rows)
        stats["rows_ok"] += rows_matched(res.rows, ph.rows)
        stats["photos"] += 1
        stats["photos_ok"] += ok
        for c, v in ph.conditions.items():
            if v and c not in ("size", "touching"):
                key = f"{c}={v}" if isinstance(v, str) else c
                by_condition[key]["n"] += 1
                by_condition[key]["ok"] += ok
        if ph.conditions.get("touching"):
            by_condition["touching pair"]["n"] += 1
            by_condition["touching pair"]["ok"] += ok
    elif kind == "blank":
        stats["blanks"] += 1
        stats["false"] += len(res.digits)
        stats["blank_ok"] += not res.digits
    else:
        stats[kind + "s"] += 1
        stats[kind + "s_ok"] += ok
        if kind == "hard":
            stats[f"hard {ph.conditions['kind']}"] += 1
            stats[f"hard {ph.conditions['kind']} ok"] += ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=synthetic.DEV_SEED)
    ap.add_argument("--numbers", type=int, default=150)
    ap.add_argument("--blanks", type=int, default=100)
    ap.add_argument("--singles", type=int, default=100)
    ap.add_argument("--hard", type=int, default=100, help="harder one-digit crops (0: none)")
    ap.add_argument("--split", choices=["train", "val"], default="train")
    ap.add_argument("--model", default=registry.DEFAULT_MODEL)
    ap.add_argument("--failures", metavar="DIR", help="write each photo read wrongly, annotated, here")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every photo read wrongly")
    args = ap.parse_args(argv)

    model = inference.load_model(args.model, runtime="litert")
    photos = load_photos(args)
    stats = collections.Counter()
    by_condition: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    seconds = []
    out = Path(args.failures) if args.failures else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    for k, ph in enumerate(photos):
        start = time.perf_counter()
        stages = photo.find_digits(ph.image)
        seconds.append(time.perf_counter() - start)
        res = photo.make_result(f"#{k}", *photo.classify(stages, model))
        kind = ("hard" if ph.conditions.get("hard") else "single" if "kind" in ph.conditions
                else "blank" if not ph.rows else "number")
        ok = res.rows == ph.rows
        tally(kind, ph, res, stats, by_condition)
        if kind == "hard":  # the same crop read as one digit (`--single`): what segmenting costs
            one = photo.make_result(f"#{k}", *photo.classify(photo.find_digits(ph.image, single=True), model))
            stats["hards_single_ok"] += one.rows == ph.rows
        if not ok:
            if args.verbose:
                print(f"  #{k} {kind}: wrote {ph.rows}, read {res.rows}  {ph.conditions}")
            if out:
                cv2.imwrite(str(out / f"{k:03d}-{kind}.jpg"), photo.annotate(res))
    s = stats
    print(f"synthetic photos, seed {args.seed}, MNIST {args.split} digits, model {args.model}")
    print(f"numbers read exactly: {s['rows_ok']}/{s['rows']} = {s['rows_ok'] / max(1, s['rows']):.1%}"
          f"  (photos with every row right: {s['photos_ok']}/{s['photos']})")
    print(f"digit-free photos: {s['false']} false digits in {s['blanks']} photos = "
          f"{100 * s['false'] / max(1, s['blanks']):.1f} per 100 photos "
          f"({s['blank_ok']} read as blank)")
    print(f"one-digit crops, default mode: {s['singles_ok']}/{s['singles']} = "
          f"{s['singles_ok'] / max(1, s['singles']):.1%}")
    if s["hards"]:
        kinds = ", ".join(f"{k} {s[f'hard {k} ok']}/{s[f'hard {k}']}" for k in ("drawn", "scan", "photo"))
        print(f"harder one-digit crops, default mode: {s['hards_ok']}/{s['hards']} = "
              f"{s['hards_ok'] / s['hards']:.1%}  ({kinds})")
        print(f"  the same crops with --single: {s['hards_single_ok']}/{s['hards']}")
    print(f"image part of the pipeline: median {np.median(seconds):.3f} s per photo, "
          f"max {max(seconds):.2f} s")
    print("number photos read exactly, by condition:")
    for key, c in sorted(by_condition.items()):
        print(f"  {key:<16} {c['ok']:>4}/{c['n']:<4} {c['ok'] / c['n']:6.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
