"""How long loading MNIST takes: cold from a local mirror, and from the cache (target < 0.5 s).

Each measurement runs in a fresh Python process (like a notebook kernel loading the data once),
times only the `load_mnist` call, and is repeated; the table shows the minimum and median.
Usage: .venv/bin/python benchmarks/data_load.py [--mirror DIR] [--repeat N]
(the mirror defaults to $NNHELPERS_MIRROR or ../shared/data/mnist). Uses a temporary cache.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, sys, time
import numpy as np
from nnhelpers.data import load_mnist
kwargs = json.loads(sys.argv[1])
if "dtype" in kwargs:
    kwargs["dtype"] = getattr(np, kwargs["dtype"])
start = time.perf_counter()
result = load_mnist(**kwargs)
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "source": result.source.split(" ")[0]}))
"""

CASES = [
    ("full, float64, flattened (default)", {}),
    ("full, float32", {"dtype": "float32"}),
    ("full, uint8 (normalize=False)", {"normalize": False}),
    ("hw4, float64 (default)", {"variant": "hw4"}),
]


def run_once(kwargs: dict, env: dict) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(kwargs)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_mirror = os.environ.get("NNHELPERS_MIRROR") or str(ROOT.parent / "shared/data/mnist")
    parser.add_argument("--mirror", default=default_mirror)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="nnhelpers-bench-") as cache:
        env = {**os.environ, "NNHELPERS_CACHE": cache, "NNHELPERS_MIRROR": args.mirror}
        print(f"mirror {args.mirror}; cache {cache}; load average {os.getloadavg()[0]:.2f}")
        print(f"{'case':40} {'source':8} {'min s':>7} {'median s':>9}")
        cold = run_once({"normalize": False}, env)
        print(
            f"{'cold: mirror -> verify -> cache (uint8)':40} {cold['source']:8} "
            f"{cold['seconds']:7.3f} {'':>9}"
        )
        for label, kwargs in CASES:
            runs = [run_once(kwargs, env) for _ in range(args.repeat)]
            times = [run["seconds"] for run in runs]
            print(
                f"{label:40} {runs[0]['source']:8} {min(times):7.3f} "
                f"{statistics.median(times):9.3f}"
            )
        print(f"load average after: {os.getloadavg()[0]:.2f} (2 shared cores: expect noise)")


if __name__ == "__main__":
    main()
