"""Data-parallel image training: the process launcher, gradient averaging, replicas, resume."""
from __future__ import annotations

import json
import time

import pytest
import torch

from vidbench.utils import distributed as ddp
from vidbench.utils.errors import BadInputError, VidbenchError
from vidbench.train.image_config import ImageTrainConfig
from vidbench.train.image import train_image
from _weights import one_thread  # noqa: F401

SMALL = dict(dataset="shapes:num_videos=4,length=4,resolution=32", size=16, style_dim=16,
             n_mlp=2, channels=8, batch=4, steps=4, lr=0.002, r1_gamma=1.0, r1_every=2,
             ema_half_life=100.0, ema_rampup=0.05, checkpoint_every=2, log_every=1,
             sample_grid=2, seed=3)


def _one_thread() -> None:
    torch.set_num_threads(1)


# ----------------------------------------------------------- functions run in every rank
def _rank_info() -> tuple[int, int, float]:
    rank, world = ddp.dist_info()
    t = torch.tensor([float(rank + 1)])
    torch.distributed.all_reduce(t)
    return rank, world, float(t)


def _a_path() -> object:
    from pathlib import Path

    return Path("/somewhere")


def _fail_on_rank_one() -> None:
    if ddp.dist_info()[0] == 1:
        raise VidbenchError("rank one refuses")
    ddp.barrier()            # rank 0 would wait here for ever without the launcher


def _averaged_linear_grad(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error of a linear model on this rank's half of (x, y), gradients averaged."""
    rank, world = ddp.dist_info()
    model = torch.nn.Linear(x.shape[1], 1, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.arange(x.shape[1], dtype=torch.float32)[None] / 10)
    lo, hi = len(x) * rank // world, len(x) * (rank + 1) // world
    ((model(x[lo:hi])[:, 0] - y[lo:hi]) ** 2).mean().backward()
    ddp.allreduce_grads(model.parameters())
    return model.weight.grad.clone()


def _train(config: dict, out: str, resume: bool, replicas: str) -> str:
    """Train, and at every checkpoint save this rank's own g, d and g_ema to ``replicas``."""
    import vidbench.train.image as T

    original = T._save_checkpoint
    rank = ddp.dist_info()[0]

    def save(path, c, step, g, d, g_ema, *rest):
        torch.save({k: m.state_dict() for k, m in (("g", g), ("d", d), ("g_ema", g_ema))},
                   f"{replicas}/step{step}-rank{rank}.pt")
        return original(path, c, step, g, d, g_ema, *rest)

    T._save_checkpoint = save
    try:
        return str(train_image(ImageTrainConfig(**config), out, resume=resume, progress=False))
    finally:
        T._save_checkpoint = original


# ---------------------------------------------------------------------------------- tests
def test_run_ranks_forms_a_group():
    assert ddp.run_ranks(_rank_info, 2, initializer=_one_thread) == (0, 2, 3.0)


def test_run_ranks_returns_only_plain_data():
    """Results are read back with torch.load(weights_only=True): no arbitrary pickles."""
    with pytest.raises(VidbenchError, match="not made of tensors"):
        ddp.run_ranks(_a_path, 2, initializer=_one_thread)


def test_run_ranks_raises_a_rank_failure_and_stops_the_others():
    start = time.time()
    with pytest.raises(VidbenchError, match="rank one refuses"):
        ddp.run_ranks(_fail_on_rank_one, 2, initializer=_one_thread, timeout_s=120)
    assert time.time() - start < 60      # not the collective's 120 s time-out


def test_averaged_gradients_equal_the_whole_batch_gradient():
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(8, 3, generator=gen), torch.randn(8, generator=gen)
    got = ddp.run_ranks(_averaged_linear_grad, 2, (x, y), initializer=_one_thread)
    w = (torch.arange(3, dtype=torch.float32) / 10)[None]
    expected = 2 / len(x) * ((x @ w.T)[:, 0] - y) @ x      # d/dw mean (xw - y)²
    torch.testing.assert_close(got[0], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_two_process_training_keeps_replicas_equal_and_resumes(tmp_path):
    keep = tmp_path / "replicas"
    keep.mkdir()
    full = tmp_path / "full"
    ddp.run_ranks(_train, 2, (SMALL, str(full), False, str(keep)), initializer=_one_thread)
    for step in (2, 4):                     # every rank holds the same networks
        a, b = (torch.load(keep / f"step{step}-rank{r}.pt", weights_only=True) for r in (0, 1))
        for key in ("g", "d", "g_ema"):
            for name, t in a[key].items():
                assert torch.equal(t, b[key][name]), (step, key, name)
    ckpt = torch.load(full / "checkpoint.pt", weights_only=True)
    assert ckpt["step"] == 4 and ckpt["world_size"] == 2
    rngs = ckpt["train_rng_ranks"]
    assert len(rngs) == 2 and not torch.equal(rngs[0], rngs[1])   # own latents per rank
    assert torch.equal(ckpt["train_rng"], rngs[0])
    lines = [json.loads(ln) for ln in (full / "log.jsonl").read_text().splitlines()]
    assert [ln["step"] for ln in lines] == [1, 2, 3, 4]          # rank 0 alone writes
    assert json.loads((full / "config.json").read_text())["world_size"] == 2
    assert (full / "generator.pt").is_file() and (full / "samples" / "step_000004.png").is_file()

    # one process: the same images per step, but rank 1's latents are its own, so other weights
    one = torch.load(train_image(ImageTrainConfig(**SMALL), tmp_path / "one", progress=False),
                     weights_only=True)["g_ema"]
    assert any(not torch.equal(t, ckpt["g_ema"][name]) for name, t in one.items())

    # stopped at step 2 and resumed on two processes = the uninterrupted two-process run
    split = tmp_path / "split"
    ddp.run_ranks(_train, 2, ({**SMALL, "steps": 2}, str(split), False, str(keep)),
                  initializer=_one_thread)
    ddp.run_ranks(_train, 2, (SMALL, str(split), True, str(keep)), initializer=_one_thread)
    resumed = torch.load(split / "checkpoint.pt", weights_only=True)
    for key in ("g", "d", "g_ema"):
        for name, t in ckpt[key].items():
            assert torch.equal(t, resumed[key][name]), (key, name)
    with pytest.raises(BadInputError, match="written by 2 process"):
        train_image(ImageTrainConfig(**{**SMALL, "steps": 6}), split, resume=True,
                    progress=False)


def test_batch_must_split_over_processes():
    from vidbench.train.image import _rank_batch

    assert _rank_batch(16, 2) == 8 and _rank_batch(16, 1) == 16 and _rank_batch(6, 2) == 3
    with pytest.raises(VidbenchError, match="does not split over 3"):
        _rank_batch(16, 3)
    with pytest.raises(VidbenchError, match="stddev group"):
        _rank_batch(12, 2)     # 6 per process, group 4


@pytest.mark.slow
def test_cli_under_torchrun_equals_run_ranks(tmp_path):
    """`torchrun … vidbench train image` (what the README shows) trains the same weights as
    the demo's launcher, :func:`vidbench.utils.distributed.run_ranks`."""
    import os
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "vidbench", "train", "image", "--dataset", SMALL["dataset"], "--size", "16",
           "--channels", "8", "--batch", "4", "--steps", "2", "--checkpoint-every", "2",
           "--seed", "3", "--threads", "1", "--no-progress", "--out", str(tmp_path / "cli")]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("generator:") == 1            # rank 0 alone prints
    cli = torch.load(tmp_path / "cli" / "checkpoint.pt", weights_only=True)
    assert cli["world_size"] == 2

    config = json.loads((tmp_path / "cli" / "config.json").read_text())["config"]
    keep = tmp_path / "replicas"
    keep.mkdir()
    ddp.run_ranks(_train, 2, (config, str(tmp_path / "ranks"), False, str(keep)),
                  initializer=_one_thread)
    ranks = torch.load(tmp_path / "ranks" / "checkpoint.pt", weights_only=True)
    for key in ("g", "d", "g_ema"):
        for name, t in cli[key].items():
            assert torch.equal(t, ranks[key][name]), (key, name)
