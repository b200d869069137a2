"""Freezing a trained image generator into a weight file that vidbench ships, with its record.

A `vidbench train image` run folder holds ``generator.pt`` (the EMA generator, rosinality
layout), ``config.json`` (the resolved settings and provenance) and ``log.jsonl``.
:func:`freeze_run` copies the generator next to a JSON record of how it was made: the exact
command, seed, step count, world size, git commit, the machine and the wall time, and the
first steps of the training log. :func:`compare_early_log` checks a rerun's first steps
against that record: float kernels differ between CPU families, so the check is a relative
tolerance, not bit equality.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
from pathlib import Path
from typing import Any, Sequence

from vidbench.train.image_generator import read_run_generator
from vidbench.utils.errors import BadInputError
from vidbench.utils.fileio import atomic_path, atomic_write_text
from vidbench.utils.hashing import sha256_file

LOG_FIELDS = ("d_loss", "g_loss", "r1", "real_score", "fake_score")
RECORD_FORMAT = "vidbench-frozen-generator/1"


def read_log(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The lines of a run's ``log.jsonl`` as dicts, in order."""
    path = Path(path)
    try:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInputError(path, f"not a training log ({exc})") from None


def early_log(lines: Sequence[dict[str, Any]], steps: int) -> list[dict[str, Any]]:
    """The losses and scores of steps 1..``steps`` (the log must hold every one of them)."""
    by_step = {line["step"]: line for line in lines}
    missing = [s for s in range(1, steps + 1) if s not in by_step]
    if missing:
        raise BadInputError("log.jsonl", f"steps {missing[:5]}... are not logged; train with "
                                         f"--log-every 1 to record the first {steps} steps")
    return [{"step": s, **{k: by_step[s][k] for k in LOG_FIELDS}} for s in range(1, steps + 1)]


def compare_early_log(expected: Sequence[dict[str, Any]], got: Sequence[dict[str, Any]], *,
                      rtol: float = 1e-4, atol: float = 5e-7) -> list[str]:
    """Every field of every step where ``got`` differs from ``expected`` by more than
    ``rtol`` relative (``atol``: half the last digit the log prints), as readable lines."""
    problems = []
    by_step = {line["step"]: line for line in got}
    for want in expected:
        have = by_step.get(want["step"])
        if have is None:
            problems.append(f"step {want['step']}: not in the new log")
            continue
        for key in LOG_FIELDS:
            a, b = want[key], have.get(key)
            if a is None or b is None:
                if a is not b:
                    problems.append(f"step {want['step']} {key}: {b} instead of {a}")
            elif abs(a - b) > atol + rtol * abs(a):
                problems.append(f"step {want['step']} {key}: {b} instead of {a} "
                                f"(relative difference {abs(a - b) / max(abs(a), 1e-300):.2e})")
    return problems


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def freeze_run(run_dir: str | os.PathLike, dest_dir: str | os.PathLike | None, name: str, *,
               command: str, early_steps: int = 20) -> dict[str, Any]:
    """Write ``dest_dir/name.pt`` (the run's generator) and ``dest_dir/name.json`` (its record);
    returns the record. ``command`` is the exact command line that trained the run;
    ``dest_dir`` None is the package's assets (where shipped weight files live)."""
    from vidbench.models.weights import ASSETS

    run_dir, dest_dir = Path(run_dir), Path(ASSETS if dest_dir is None else dest_dir)
    _, pt, meta = read_run_generator(run_dir)
    config = json.loads((run_dir / "config.json").read_text())
    lines = read_log(run_dir / "log.jsonl")
    last = max(line["step"] for line in lines)
    if last != meta.get("step"):
        raise BadInputError(run_dir, f"the log ends at step {last} but generator.pt is from "
                                     f"step {meta.get('step')}")
    dest_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(dest_dir / f"{name}.pt") as tmp:
        shutil.copyfile(pt, tmp)
    steps = [0] + [line["step"] for line in lines]      # sec_per_step averages since the last line
    seconds = sum(line.get("sec_per_step", 0.0) * (s - prev)
                  for line, prev, s in zip(lines, steps, steps[1:]))
    record = {
        "format": RECORD_FORMAT, "name": name, "file": f"{name}.pt",
        "sha256": sha256_file(dest_dir / f"{name}.pt"),
        "size": (dest_dir / f"{name}.pt").stat().st_size,
        "command": command, "seed": config["config"]["seed"], "steps": meta["step"],
        "images_seen": meta.get("images_seen"), "world_size": config.get("world_size", 1),
        "generator": {k: meta[k] for k in ("format", "key", "kwargs")},
        "config": config["config"], "data": config.get("data", {}).get("source"),
        "provenance": config.get("provenance"),
        "machine": {"cpu": _cpu_model(), "cores": os.cpu_count()},
        "training_seconds": round(seconds, 1),
        "early_log": early_log(lines, early_steps),
    }
    atomic_write_text(dest_dir / f"{name}.json", json.dumps(record, indent=1) + "\n")
    return record
