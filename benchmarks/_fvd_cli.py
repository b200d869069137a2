"""``vidbench eval fvd`` in a child process of its own, so that its peak memory is its own.

The child (``python -m benchmarks._fvd_cli REPORT -- ARGS``) imports :mod:`vidbench.cli`,
runs ``vidbench.cli.main(ARGS)`` (the same function the ``vidbench`` command calls) and
writes a JSON report: exit status, seconds of ``main`` and its peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``, KiB on Linux).
DataLoader workers (``--workers`` > 0) are not counted: a forked child's ``ru_maxrss`` starts
at its parent's size, so ``RUSAGE_CHILDREN`` would not tell their own use. The result record
``--json`` prints is read back from the child's stdout.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

KIB = 1024  # ru_maxrss unit on Linux


def fvd_args(clips_per_side: int, *, protocol: str = "mocogan-hd", resolution: int = 128,
             length: int = 32, batch_size: int = 16, workers: int = 0) -> list[str]:
    """``eval fvd`` arguments: ``clips_per_side`` fake and as many real ``shapes`` videos
    (data set seeds 1 and 2), no statistics cache read or written, no progress bars."""
    def shapes(seed: int) -> str:
        return (f"shapes:seed={seed},num_videos={clips_per_side},resolution={resolution},"
                f"length={length}")
    return ["eval", "fvd", "--fake", shapes(1), "--real", shapes(2), "--protocol", protocol,
            "--num-fake", str(clips_per_side), "--num-real", str(clips_per_side),
            "--batch-size", str(batch_size), "--workers", str(workers), "--no-cache",
            "--no-progress", "--json"]


def run_fvd_cli(args: Sequence[str], report: str | os.PathLike,
                timeout: float | None = None) -> dict[str, Any]:
    """Run the child; return its report plus ``record`` (the FVD result) and
    ``wall_seconds`` (the child process from start to exit). A failure raises, with the
    child's stderr."""
    report = Path(report)
    report.unlink(missing_ok=True)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "benchmarks._fvd_cli", str(report), "--",
                           *args], capture_output=True, text=True, timeout=timeout,
                          cwd=Path(__file__).resolve().parent.parent)
    wall = time.perf_counter() - start
    if proc.returncode != 0 or not report.is_file():
        raise RuntimeError(f"vidbench {' '.join(args)} exited with {proc.returncode}:\n"
                           f"{proc.stderr[-4000:]}")
    out = json.loads(report.read_text())
    out["record"] = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_seconds"] = wall
    return out


def child_main(argv: Sequence[str]) -> int:
    report, sep, *args = argv
    if sep != "--":
        raise SystemExit("usage: python -m benchmarks._fvd_cli REPORT -- VIDBENCH_ARGS")
    from vidbench.cli import main

    start = time.perf_counter()
    status = main(list(args))
    seconds = time.perf_counter() - start
    sys.stdout.flush()
    Path(report).write_text(json.dumps({
        "status": status, "main_seconds": seconds,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * KIB}))
    return status


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
