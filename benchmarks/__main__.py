"""``python -m benchmarks [ml100k] [scale]`` (default: both); results go to benchmarks/results/.

The scale run starts in its own process so that its peak memory is its own.
"""

from __future__ import annotations

import subprocess
import sys

from . import ml100k

if __name__ == "__main__":
    which = sys.argv[1:] or ["ml100k", "scale"]
    unknown = set(which) - {"ml100k", "scale"}
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {sorted(unknown)}; choose from ml100k, scale.")
    if "ml100k" in which:
        ml100k.main()
    if "scale" in which:
        subprocess.run([sys.executable, "-m", "benchmarks.scale"], check=True)
