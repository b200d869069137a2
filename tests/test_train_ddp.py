"""Data-parallel motion training under torchrun (2 CPU processes, gloo)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from _motion_fixtures import make_tiny_setup, one_thread  # noqa: F401 (autouse fixture)
from vidbench.train.checkpoint import load_training_state


@pytest.mark.slow
def test_two_process_gloo_run(tmp_path):
    gen, pca = make_tiny_setup(tmp_path, num_samples=1000)
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "vidbench", "train", "motion", "--generator", str(gen), "--pca", str(pca),
           "--preset", "tiny", "--mode", "cross-domain", "--steps", "2", "--batch-size", "2",
           "--set", "data.n_frames=8", "--no-progress", "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    state = load_training_state(out / "checkpoint-latest.pt")
    assert state["step"] == 2 and state["world_size"] == 2
    for name, sd in state["models"].items():
        for key, t in sd.items():
            if t.is_floating_point():
                assert torch.isfinite(t).all(), (name, key)
    # every rank drew its own latents and augmentations
    for name in ("latent", "aug"):
        assert len(state["rng"][name]) == 2
        assert not torch.equal(state["rng"][name][0], state["rng"][name][1])
    # queues got the projections of both ranks: 2 iterations x 5 G steps x global batch 2
    assert int(state["models"]["image_disc"]["q_ptr"]) == 20
    log = [json.loads(s) for s in (out / "log.jsonl").read_text().splitlines()]
    checkpoints = [r for r in log if r.get("event") == "checkpoint"]
    assert checkpoints and all(len(r["motion_sha256"]) == 2 for r in checkpoints)
    assert all(len(set(r["motion_sha256"])) == 1 for r in checkpoints), \
        "the ranks' motion generators differ"
    assert json.loads((out / "run.json").read_text())["world_size"] == 2
