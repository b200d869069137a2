"""Motion training SIGKILLed at five seeded-random points (inside a step, while sampling fake
clips, while writing a checkpoint) and resumed each time ends with exactly the weights,
optimiser and RNG states of a run that was never interrupted; the checkpoint on disk is never
half-written, and the run folder records every step it resumed from."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from _faults import child_env, kill_at, run, vidbench_cmd
from _motion_fixtures import make_tiny_setup
from vidbench.train.checkpoint import LATEST, load_training_state

STEPS, EVERY = 8, 2
CHECKPOINT_WRITE = r"write=^checkpoint-latest\.pt$"


def _args(gen, pca, out, *extra) -> tuple:
    return ("train", "motion", "--generator", gen, "--pca", pca, "--preset", "tiny",
            "--steps", STEPS, "--batch-size", 2, "--set", "data.n_frames=8",
            "--checkpoint-every", EVERY, "--deterministic", "--no-progress", "--out", out,
            *extra)


def kill_points(g_steps: int, seed: int = 20240607) -> list[tuple[str, int, int]]:
    """Five points ``(phase, step, j)`` in execution order, from a seeded RNG, covering the
    three phases; all after the first checkpoint (before it there is nothing to resume)."""
    candidates = []
    for s in range(EVERY + 1, STEPS + 1):
        candidates += [("train-sample", s, j) for j in range(g_steps + 1)]  # G steps, then D
        candidates.append(("train-step", s, 0))
        if s % EVERY == 0:
            candidates.append(("checkpoint", s, 0))
    rng = np.random.default_rng(seed)
    while True:
        picked = sorted(rng.choice(len(candidates), 5, replace=False))
        points = [candidates[i] for i in picked]
        if len({p[0] for p in points}) == 3:
            return points


def occurrence(point: tuple[str, int, int], resumed_from: int, g_steps: int) -> tuple[str, int]:
    """(driver fault point, N) of ``point`` in a process that resumes at ``resumed_from``."""
    phase, step, j = point
    if phase == "train-sample":
        return phase, (step - resumed_from - 1) * (g_steps + 1) + j + 1
    if phase == "train-step":
        return phase, step - resumed_from
    return CHECKPOINT_WRITE, (step - resumed_from) // EVERY


def _same(a, b, where=""):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert set(a) == set(b), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


@pytest.mark.slow
def test_five_kills_and_resumes_equal_an_uninterrupted_run(tmp_path):
    gen, pca = make_tiny_setup(tmp_path, num_samples=1000)
    env = child_env(tmp_path / "home")
    ref_dir, run_dir = tmp_path / "reference", tmp_path / "interrupted"
    done = run(vidbench_cmd(*_args(gen, pca, ref_dir)), env)
    assert done.returncode == 0, done.stderr[-3000:]
    g_steps = json.loads((ref_dir / "config.json").read_text())["g_steps"]
    points = kill_points(g_steps)

    resumed_from, history = 0, []
    for k, point in enumerate(points):
        fault, n = occurrence(point, resumed_from, g_steps)
        extra = ("--resume",) if k else ()
        info = kill_at(_args(gen, pca, run_dir, *extra), pause=f"{fault}:{n}", env=env,
                       tmp=tmp_path, name=f"kill{k}")
        # The checkpoint under its final name is always a whole one: the last committed step.
        state = load_training_state(run_dir / LATEST)
        phase, step, _ = point
        committed = step - EVERY if phase == "checkpoint" else EVERY * ((step - 1) // EVERY)
        assert int(state["step"]) == committed, (point, info)
        if phase == "checkpoint":   # killed between writing the new file and renaming it
            assert Path(info["tmp"]).is_file() and Path(info["path"]) == run_dir / LATEST
            assert int(load_training_state(info["tmp"])["step"]) == step
        history.append(committed)
        resumed_from = committed

    done = run(vidbench_cmd(*_args(gen, pca, run_dir, "--resume")), env)
    assert done.returncode == 0, done.stderr[-3000:]
    ref, got = load_training_state(ref_dir / LATEST), load_training_state(run_dir / LATEST)
    assert int(ref["step"]) == int(got["step"]) == STEPS
    for key in ("models", "optimizers", "rng", "data"):
        _same(ref[key], got[key], key)
    _same(torch.load(ref_dir / "modelR_latest.pth", weights_only=True),
          torch.load(run_dir / "modelR_latest.pth", weights_only=True), "export")

    # The run folder says where each resume started.
    resumes = json.loads((run_dir / "resume.json").read_text())["resumes"]
    assert [r["from_step"] for r in resumes] == history
    log = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    assert [r["from_step"] for r in log if r.get("event") == "resume"] == history
    assert max(r.get("step", 0) for r in log) == STEPS


def test_kill_points_are_seeded_and_cover_every_phase():
    points = kill_points(5)
    assert points == kill_points(5) and len(points) == 5
    assert {p[0] for p in points} == {"train-sample", "train-step", "checkpoint"}
    order = [(s, j if ph == "train-sample" else (6 if ph == "train-step" else 7))
             for ph, s, j in points]
    assert order == sorted(order) and len(set(order)) == 5
