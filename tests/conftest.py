"""Shared test set-up: a non-interactive plotting backend and the offline data mirror."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("MPLBACKEND", "Agg")

# Tests (and the kernels they start, which inherit the environment) never write into the
# user's real data cache: they share one cache folder inside the checkout (gitignored).
os.environ.setdefault("NNHELPERS_CACHE", str(ROOT / ".test-cache" / "nnhelpers"))

# On development and CI machines without internet, the shared MNIST mirror sits beside the
# checkout; use it unless the caller chose a mirror already.
_shared_mirror = ROOT.parent / "shared" / "data" / "mnist"
if "NNHELPERS_MIRROR" not in os.environ and _shared_mirror.is_dir():
    os.environ["NNHELPERS_MIRROR"] = str(_shared_mirror)
