#!/usr/bin/env python3
"""Extract the UCI optical-digits set (8x8, 1797 images) from scikit-learn's wheel.

scikit-learn ships the test split of the UCI "Optical Recognition of Handwritten Digits"
data set (Alpaydin & Kaynak, 1998; CC BY 4.0) as `sklearn/datasets/data/digits.csv.gz`:
1797 lines of 65 comma-separated numbers, 64 pixel counts in 0..=16 (row-major 8x8) then the
label 0..=9. This script copies that file, byte for byte, to `data/digits.csv.gz` next to this
crate and checks its shape, so the crate's loader works offline.

Usage (from the repository root):
    python3 crates/rigor-lab/scripts/extract_digits.py [path/to/scikit_learn-*.whl]

Without an argument the wheel is fetched with `pip download scikit-learn --no-deps`.
"""

import gzip
import hashlib
import pathlib
import subprocess
import sys
import tempfile
import zipfile

MEMBER = "sklearn/datasets/data/digits.csv.gz"
HERE = pathlib.Path(__file__).resolve().parent.parent
OUT = HERE / "data" / "digits.csv.gz"


def find_wheel(argv):
    if len(argv) > 1:
        return pathlib.Path(argv[1])
    tmp = pathlib.Path(tempfile.mkdtemp())
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "scikit-learn", "--no-deps",
         "--only-binary=:all:", "-d", str(tmp)],
        check=True,
    )
    return next(tmp.glob("scikit_learn-*.whl"))


def main(argv):
    wheel = find_wheel(argv)
    with zipfile.ZipFile(wheel) as z:
        raw = z.read(MEMBER)
    rows = gzip.decompress(raw).decode("ascii").strip().splitlines()
    assert len(rows) == 1797, f"expected 1797 rows, got {len(rows)}"
    for r in rows:
        vals = [float(x) for x in r.split(",")]
        assert len(vals) == 65 and all(0 <= v <= 16 for v in vals[:64]) and 0 <= vals[64] <= 9
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(raw)
    print(f"wrote {OUT} from {wheel.name}: {len(raw)} bytes, sha256 {hashlib.sha256(raw).hexdigest()}")


if __name__ == "__main__":
    main(sys.argv)
