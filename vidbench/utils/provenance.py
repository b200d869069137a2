"""How a number was made: git commit, package versions, device, time.

Stored with every result line (docs/protocols.md, *Result records and provenance*).
"""
from __future__ import annotations

import datetime as _dt
import functools
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

_PACKAGES = ("vidbench", "torch", "torchvision", "numpy", "scipy", "scikit-image", "decord",
             "facenet-pytorch", "pandas")


# Committed outputs (the demo's pictures, benchmark figures): a run that rewrites them has not
# changed the code, so they do not make the checkout dirty.
OUTPUT_DIRS = ("results",)


# The folder a source checkout of vidbench has at its top (pyproject.toml, vidbench/, models/,
# metrics/): vidbench/utils/provenance.py is two folders below it.
CHECKOUT = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=4)
def git_state(root: Path | None = None) -> dict[str, Any]:
    """Commit of the checkout vidbench runs from (or ``root``) and whether its tracked files,
    outside :data:`OUTPUT_DIRS`, differ from it (None outside a checkout)."""
    root = root or CHECKOUT
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                 ".", *(f":(exclude){d}" for d in OUTPUT_DIRS)],
                                cwd=root, capture_output=True, text=True, timeout=10,
                                check=True).stdout.strip()
        return {"git_commit": commit, "git_dirty": bool(status)}
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "git_dirty": None}


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    out["python"] = platform.python_version()
    return out


def device_description(device: Any = "cpu") -> str:
    """A human description of the device: the GPU name or the CPU model and thread count."""
    import torch

    dev = torch.device(device)
    if dev.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(dev)}"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"cpu:{cpu} ({torch.get_num_threads()} threads)"


def provenance(device: Any = "cpu") -> dict[str, Any]:
    return {**git_state(), "versions": versions(), "device": device_description(device),
            "timestamp": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
