"""Exact resume (docs/official-code.md, *Optimiser state saved for resuming*): a run killed with
SIGKILL after a checkpoint and resumed ends with the same weights, optimiser states and RNG
states as a run that was never interrupted."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from _motion_fixtures import make_tiny_setup, one_thread  # noqa: F401 (autouse fixture)
from vidbench.train.checkpoint import load_training_state

STEPS = 6


def _command(gen, pca, out, *extra):
    return [sys.executable, "-m", "vidbench", "train", "motion", "--generator", str(gen),
            "--pca", str(pca), "--preset", "tiny", "--steps", str(STEPS), "--batch-size", "2",
            "--set", "data.n_frames=8", "--checkpoint-every", "2", "--deterministic",
            "--no-progress", "--out", str(out), *extra]


def _env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _assert_same(a, b, where=""):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert set(a) == set(b), where
        for k in a:
            _assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def _wait_for_checkpoint(proc, path, timeout=120.0) -> int:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, "the run ended before it could be killed"
        if path.is_file():
            try:
                return int(torch.load(path, map_location="cpu", weights_only=True)["step"])
            except (RuntimeError, EOFError, KeyError):
                pass
        time.sleep(0.05)
    raise AssertionError("no checkpoint appeared")


@pytest.mark.slow
def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path):
    gen, pca = make_tiny_setup(tmp_path, num_samples=1000)
    ref_dir, cut_dir = tmp_path / "reference", tmp_path / "interrupted"
    subprocess.run(_command(gen, pca, ref_dir), env=_env(), check=True, capture_output=True)

    proc = subprocess.Popen(_command(gen, pca, cut_dir), env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        killed_at = _wait_for_checkpoint(proc, cut_dir / "checkpoint-latest.pt")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert 2 <= killed_at < STEPS
    state = load_training_state(cut_dir / "checkpoint-latest.pt")
    resumed_from = int(state["step"])

    done = subprocess.run(_command(gen, pca, cut_dir, "--resume"), env=_env(),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    ref = load_training_state(ref_dir / "checkpoint-latest.pt")
    got = load_training_state(cut_dir / "checkpoint-latest.pt")
    assert ref["step"] == got["step"] == STEPS
    for key in ("models", "optimizers", "rng", "data"):
        _assert_same(ref[key], got[key], key)
    assert (ref_dir / "modelR_latest.pth").read_bytes() != b""
    ref_export = torch.load(ref_dir / "modelR_latest.pth", weights_only=True)
    got_export = torch.load(cut_dir / "modelR_latest.pth", weights_only=True)
    _assert_same(ref_export, got_export, "export")

    resumes = json.loads((cut_dir / "resume.json").read_text())["resumes"]
    assert [r["from_step"] for r in resumes] == [resumed_from]
    log = [json.loads(s) for s in (cut_dir / "log.jsonl").read_text().splitlines()]
    assert {"event": "resume", "from_step": resumed_from}.items() <= \
        next(r for r in log if r.get("event") == "resume").items()
    assert max(r.get("step", 0) for r in log) == STEPS


def test_resume_needs_a_checkpoint(tmp_path):
    from vidbench.cli import main

    assert main(["train", "motion", "--out", str(tmp_path / "none"), "--resume",
                 "--no-progress"]) == 2
