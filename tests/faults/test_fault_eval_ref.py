"""`vidbench eval fvd` and `vidbench ref compute` SIGKILLed mid-way, and two processes
computing the same reference statistics at once: no partial statistics file is ever used,
the next run recomputes (or reuses a complete entry), the numbers are those of an
uninterrupted run, and the cache holds one valid entry."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest

from _faults import child_env, driver_cmd, kill_at, run, start, wait_for_marker
from fvd_helpers import TEST_PROTOCOL, shapes
from vidbench.metrics.cache import read_stats_file
from vidbench.evaluation.fvd import evaluate_fvd
from vidbench.evaluation.reference import list_references

KEY_NPZ = r"write=^[0-9a-f]{64}\.npz$"
KEY_JSON = r"write=^[0-9a-f]{64}\.json$"
FAKE, REAL = shapes(1, n=20), shapes(2, n=20)


def _eval_args(*extra) -> tuple:
    return ("eval", "fvd", "--fake", FAKE, "--real", REAL, "--protocol", TEST_PROTOCOL.name,
            "--batch-size", 4, "--no-progress", "--json", *extra)


def _ref_args(out, *extra) -> tuple:
    return ("ref", "compute", "--dataset", REAL, "--protocol", TEST_PROTOCOL.name,
            "--batch-size", 4,
            "--no-progress", "--json", "--out", out, *extra)


def _files(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _entries(monkeypatch, home) -> list[dict]:
    monkeypatch.setenv("VIDBENCH_HOME", str(home))
    return list_references()


@pytest.fixture
def reference_value(tmp_path, monkeypatch) -> float:
    """FVD of an uninterrupted run (in this process, its own empty home, no cache)."""
    monkeypatch.setenv("VIDBENCH_HOME", str(tmp_path / "clean_home"))
    return evaluate_fvd(FAKE, REAL, protocol=TEST_PROTOCOL, batch_size=4, use_cache=False,
                        progress=False)["value"]


def test_eval_killed_mid_way_never_uses_partial_statistics(tmp_path, monkeypatch,
                                                           reference_value):
    home = tmp_path / "home"
    env, stats = child_env(home), home / "cache" / "stats"
    # 1. killed while extracting the real clips' features: nothing in the cache
    kill_at(_eval_args(), pause="extract:2", env=env, tmp=tmp_path, name="extract")
    assert not [f for f in _files(stats) if f.endswith((".npz", ".json"))]
    # 2. killed after the entry's temporary file is complete, before its rename: the next
    #    run computed again (it reached the write), and still no entry under a key name
    info = kill_at(_eval_args(), pause=f"{KEY_NPZ}:1", env=env, tmp=tmp_path, name="npz")
    key = re.match(r"[0-9a-f]{64}", info["path"].rsplit("/", 1)[1]).group(0)
    assert f"{key}.npz" not in _files(stats) and info["tmp"].rsplit("/", 1)[1] in _files(stats)
    assert _entries(monkeypatch, home) == []          # a temporary file is never an entry
    # 3. killed between the entry and its sidecar: the entry is whole and is listed
    info = kill_at(_eval_args(), pause=f"{KEY_JSON}:1", env=env, tmp=tmp_path, name="json")
    assert f"{key}.npz" in _files(stats) and f"{key}.json" not in _files(stats)
    assert read_stats_file(stats / f"{key}.npz")[0] == key
    assert [e["key"] for e in _entries(monkeypatch, home)] == [key]
    # 4. the next run reuses the complete entry and gives the uninterrupted number
    done = run(driver_cmd(*_eval_args()), env)
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads(done.stdout)
    assert record["real"]["cached"] is True and record["real"]["cache_key"] == key
    assert record["value"] == pytest.approx(reference_value, rel=1e-9, abs=1e-12)
    assert [e["key"] for e in _entries(monkeypatch, home)] == [key]


def test_ref_compute_killed_while_exporting(tmp_path, monkeypatch):
    home, out = tmp_path / "home", tmp_path / "shared" / "ref.npz"
    env = child_env(home)
    info = kill_at(_ref_args(out), pause=r"write=^ref\.npz$:1", env=env, tmp=tmp_path,
                   name="export")
    assert not out.exists() and info["path"] == str(out)
    done = run(driver_cmd(*_ref_args(out)), env)
    assert done.returncode == 0, done.stderr[-3000:]
    rec = json.loads(done.stdout)
    assert rec["cached"] is True                      # the cache entry was complete
    key, _, exported = read_stats_file(out)
    _, _, cached = read_stats_file(home / "cache" / "stats" / f"{key}.npz")
    assert key == rec["key"] and exported.num_items == cached.num_items == 20
    np.testing.assert_array_equal(exported.sum_outer, cached.sum_outer)
    assert [e["key"] for e in _entries(monkeypatch, home)] == [key]


def _waits_on_a_lock(pid: int, timeout: float = 120.0) -> bool:
    """True once ``pid`` is blocked waiting for a file lock (``->`` lines of /proc/locks)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            if "->" in fields and fields[fields.index("->") + 4] == str(pid):
                return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("locked", [True, False], ids=["lock", "rename-only"])
def test_two_processes_compute_the_same_reference_at_once(tmp_path, locked):
    """Process a is held inside its feature extraction while b starts. With the cache's lock,
    b waits for a's lock and then reads a's entry; without it (``--no-lock``) both compute at
    the same time and the atomic renames still leave one valid entry. Both get the same
    numbers."""
    if locked and not Path("/proc/locks").is_file():
        pytest.skip("needs /proc/locks to see a process wait for a lock (Linux)")
    home, go = tmp_path / "home", tmp_path / "go"
    env = child_env(home)
    procs = {}
    for name in ("a", "b"):
        marker, log = tmp_path / f"{name}.marker", tmp_path / f"{name}.log"
        hold = f"extract:{go}" if (name == "a" or not locked) else None
        proc = start(driver_cmd(*_ref_args(tmp_path / f"{name}.npz"), hold=hold, marker=marker,
                                no_lock=not locked), env, log)
        procs[name] = (proc, log)
        if hold:
            wait_for_marker(proc, marker, log)      # inside the extraction, waiting for go
    if locked:
        assert _waits_on_a_lock(procs["b"][0].pid), procs["b"][1].read_text()[-3000:]
    go.touch()
    records = {}
    for name, (proc, log) in procs.items():
        assert proc.wait(180) == 0, log.read_text()[-3000:]
        records[name] = json.loads(log.read_text().strip().splitlines()[-1])
    key = records["a"]["key"]
    assert records["b"]["key"] == key
    assert [records[n]["cached"] for n in "ab"] == ([False, True] if locked else [False, False])
    stats = home / "cache" / "stats"
    assert _files(stats) == sorted([f"{key}.json", f"{key}.npz"] + [f"{key}.lock"] * locked)
    entry = read_stats_file(stats / f"{key}.npz")[2]
    for name in "ab":
        got = read_stats_file(tmp_path / f"{name}.npz")[2]
        assert got.num_items == entry.num_items == 20
        np.testing.assert_array_equal(got.sum, entry.sum)
        np.testing.assert_array_equal(got.sum_outer, entry.sum_outer)
