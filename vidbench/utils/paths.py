"""Where vidbench keeps files: ``$VIDBENCH_HOME`` (default ``~/.cache/vidbench``).

``weights/`` holds published weight files, ``cache/`` reference statistics. Nothing is ever
written into the installed package or the system temp directory.
"""
from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    env = os.environ.get("VIDBENCH_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "vidbench"


def weights_dir() -> Path:
    return home() / "weights"


def cache_dir() -> Path:
    return home() / "cache"
