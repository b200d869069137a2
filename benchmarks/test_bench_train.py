"""Motion-generator training at the ``tiny`` preset: seconds per iteration on the CPU.

Figure ``train.motion.tiny`` (ratio built in ``benchmarks/ratios.py``): each round is
``vidbench.train.motion.train_motion`` (the loop ``vidbench train motion`` runs) for
``STEPS`` iterations of the preset ``tiny`` (``vidbench.train.motion_config.resolve_config("tiny")``:
batch 4 of 16-frame clips at 32x32 from ``shapes``, ``g_steps`` = 5 generator steps then one
step of each discriminator per iteration) in a fresh run folder, on the random image
generator of ``benchmarks/_tiny_models.py``; its seconds per iteration therefore include
the run's setup and its final checkpoint, spread over ``STEPS`` iterations (the loop's own
per-iteration times, from ``log.jsonl``, are recorded too: ``step_seconds_min``).

Peer timed in its rounds (``benchmarks/_common.py``): ``image.render_batch.tiny``, one
no-grad render by the image generator of the frames one generator step draws (4 clips x 16
frames, per-video noise maps, as training renders them), so the ratio is an iteration in
units of that render: (g_steps + 1) renders forward, g_steps backward, the discriminators and
the optimisers.
"""
from __future__ import annotations

import itertools
import json
import math

import torch

from benchmarks._common import Peer
from benchmarks._tiny_models import motion_config

STEPS = 2       # iterations per round
ROUNDS = 3


def test_motion_training_iteration(pedantic_with_peers, record_figure, tiny_setup, tmp_path):
    from vidbench.models.generator_api import render_video
    from vidbench.train.image_generator import load_image_generator
    from vidbench.train.motion import train_motion

    gen, pca = tiny_setup
    cfg = motion_config(gen, pca, steps=STEPS, checkpoint_every=STEPS, log_every=1)
    runs = (tmp_path / f"run{i}" for i in itertools.count())

    def train() -> dict:
        return train_motion(cfg, next(runs), progress=False)

    image = load_image_generator(gen).adapter
    batch, frames = cfg.batch_size, cfg.data.n_frames
    g = torch.Generator().manual_seed(5)
    latents = image.sample_latents(batch * frames, g).view(batch, frames, -1)

    def render() -> torch.Tensor:
        with torch.no_grad():
            return render_video(image, latents, noise="per_video",
                                generator=torch.Generator().manual_seed(6))
    peers = {"image.render_batch.tiny": Peer(render, "batches", 1)}
    summary, nearby = pedantic_with_peers(train, (), ROUNDS, peers)
    assert summary["step"] == STEPS and all(math.isfinite(v) for v in summary["losses"].values())
    assert render().shape == (batch, frames, 3, cfg.disc.frame_size, cfg.disc.frame_size)
    step_times = [json.loads(line)["step_time"]
                  for run in tmp_path.glob("run*")
                  for line in (run / "log.jsonl").read_text().splitlines()
                  if '"step_time"' in line]
    assert len(step_times) == STEPS * (ROUNDS + 1)          # rounds and the warm-up round
    record_figure("train.motion.tiny", unit="iterations", items_per_round=STEPS,
                  nearby=nearby, preset="tiny", batch_size=batch, n_frames=frames,
                  frame_size=cfg.disc.frame_size, g_steps=cfg.g_steps, mode=cfg.mode,
                  frames_rendered_per_iteration=(cfg.g_steps + 1) * batch * frames,
                  step_seconds_min=min(step_times))
