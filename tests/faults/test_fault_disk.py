"""A full disk while writing a checkpoint, a results line or cached statistics: the previous
good file survives byte for byte, no temporary file is left, and the error says "disk full
while writing PATH" (a user error: no traceback from the CLI).

Two ways to fill the disk: a real 256 KiB tmpfs (``mount -t tmpfs``, needs root and the right
to mount; skipped otherwise) and, everywhere, a write that raises ``OSError(ENOSPC)`` after
writing part of its data (monkeypatched)."""
from __future__ import annotations

import errno
import os
import re
import subprocess
import types
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch

from _motion_fixtures import make_tiny_setup
from _system import require_programs
from vidbench.metrics.cache import StatsCache, make_key
from vidbench.metrics.stats import FeatureStats
from vidbench.evaluation import records as R
from vidbench.train.checkpoint import LATEST, load_training_state, save_training_state
from vidbench.utils.errors import DiskFullError

PROV = {"timestamp": "2024-01-01T00:00:00+00:00", "git_commit": "abc", "git_dirty": False,
        "versions": {"torch": "x"}, "device": "cpu"}


def _enospc(path) -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def _simulate_full_disk(monkeypatch) -> None:
    """From now on, a file write (``Path.write_bytes``, the results store's ``os.write``)
    writes part of its data and then raises ENOSPC, as a full disk does to a large write."""
    real_write_bytes, real_write = Path.write_bytes, os.write

    def write_bytes(self, data):
        real_write_bytes(self, bytes(memoryview(data)[:len(data) // 2]))
        raise _enospc(self)

    def write(fd, data):
        real_write(fd, bytes(memoryview(data)[:len(data) // 3]))
        raise _enospc(f"fd {fd}")
    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    names = {k: getattr(os, k) for k in dir(os) if not k.startswith("__")}
    monkeypatch.setattr(R, "os", types.SimpleNamespace(**{**names, "write": write}))


def _fill(folder: Path) -> None:
    """Leave about 8 KiB free on the tmpfs ``folder``."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    (folder / f"filler-{uuid.uuid4().hex}").write_bytes(b"\0" * max(0, free - 8192))


@pytest.fixture(params=["simulated", "tmpfs"])
def full_disk(request, tmp_path, monkeypatch):
    """(folder, fill): after ``fill()`` a large write into ``folder`` hits ENOSPC."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if request.param == "simulated":
        yield folder, lambda: _simulate_full_disk(monkeypatch)
        return
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the simulated variant runs everywhere)")
    require_programs("mount", "umount")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()})")
    try:
        yield folder, lambda: _fill(folder)
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)


def test_checkpoint_write_on_a_full_disk(full_disk):
    folder, fill = full_disk
    path = folder / LATEST
    save_training_state(path, {"step": 2, "w": torch.arange(1000.0)})
    before = path.read_bytes()
    fill()
    with pytest.raises(DiskFullError, match=re.escape(f"disk full while writing {path}")) as err:
        save_training_state(path, {"step": 4, "w": torch.arange(40000.0)})
    assert err.value.path == str(path)
    assert path.read_bytes() == before and int(load_training_state(path)["step"]) == 2
    assert _leftovers(folder) == []


def test_results_line_on_a_full_disk(full_disk):
    folder, fill = full_disk
    path = folder / "fvd.jsonl"
    R.append_result(path, {"metric": "fvd", "protocol": "p", "value": 1.0, "cell": "a", **PROV})
    before = path.read_bytes()
    fill()
    big = {"metric": "fvd", "protocol": "p", "value": 2.0, "cell": "b", "pad": "x" * 60000,
           **PROV}
    with pytest.raises(DiskFullError, match=re.escape(f"disk full while writing {path}")):
        R.append_result(path, big)
    assert path.read_bytes() == before                 # the partial line was taken back
    records, problems = R.read_results(path)
    assert [r["cell"] for r in records] == ["a"] and problems == []


def test_cached_statistics_on_a_full_disk(full_disk):
    folder, fill = full_disk
    cache = StatsCache(folder)
    key, key_obj = make_key({"kind": "feature-stats", "source_fingerprint": "ab" * 32})
    small = FeatureStats()
    small.append(np.random.default_rng(0).standard_normal((20, 4)))
    cache.store(key, key_obj, small)
    before = (folder / f"{key}.npz").read_bytes()
    fill()
    big = FeatureStats()
    big.append(np.random.default_rng(1).standard_normal((20, 120)))
    with pytest.raises(DiskFullError, match="disk full while writing"):
        cache.store(key, key_obj, big)
    assert (folder / f"{key}.npz").read_bytes() == before
    assert cache.load(key, key_obj).dim == 4 and _leftovers(folder) == []


def test_training_stops_with_a_clear_message_when_the_disk_fills(tmp_path, monkeypatch, capsys):
    """`vidbench train motion`: the second checkpoint write fails; the first survives."""
    from vidbench.cli import main

    gen, pca = make_tiny_setup(tmp_path, num_samples=200)
    out = tmp_path / "run"
    calls = []
    real = Path.write_bytes

    def write_bytes(self, data):
        if self.name.startswith(f".{LATEST}."):
            calls.append(self.name)
            if len(calls) == 2:
                real(self, bytes(memoryview(data)[:len(data) // 2]))
                raise _enospc(self)
        return real(self, data)
    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    code = main(["train", "motion", "--generator", str(gen), "--pca", str(pca), "--preset",
                 "tiny", "--steps", "4", "--batch-size", "2", "--set", "data.n_frames=8",
                 "--checkpoint-every", "2", "--no-progress", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and len(calls) == 2
    assert f"vidbench: error: disk full while writing {out / LATEST}" in err
    assert "Traceback" not in err
    assert int(load_training_state(out / LATEST)["step"]) == 2 and _leftovers(out) == []
