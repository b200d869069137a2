"""Image-generator training at the ``tiny`` preset: one process against two (data parallel).

Figure ``train.image.tiny.2proc``: each round is ``vidbench.utils.distributed.run_ranks`` starting two
processes of one torch thread each that run ``vidbench.train.image.train_image`` (the loop
``torchrun … vidbench train image`` runs) for ``STEPS`` steps of the preset ``tiny`` (global
batch 16 at 32x32, 8 per process, gradients averaged every step) on a small ``shapes`` set, in
a fresh run folder. Peer timed in its rounds: ``train.image.tiny.1proc``, the same run through
``run_ranks`` with one process (the same set-up costs: a spawned interpreter, the data, the
checkpoint). Ratio ``train.image_2proc_vs_1proc`` (``benchmarks/ratios.py``): steps/s of the
two-process run / the one-process run, set-up included.
"""
from __future__ import annotations

import itertools

import torch

from benchmarks._common import Peer

STEPS = 200
ROUNDS = 2
DATA = "shapes:num_videos=16,length=40,resolution=32,scale=2,colour=white,background=black"


def _one_thread() -> None:
    torch.set_num_threads(1)


def _train(out: str) -> str:
    from vidbench.train.image_config import preset
    from vidbench.train.image import train_image

    config = preset("tiny", dataset=DATA, steps=STEPS, checkpoint_every=STEPS, log_every=50)
    return str(train_image(config, out, progress=False))


def test_image_training_two_processes(pedantic_with_peers, record_figure, tmp_path):
    from vidbench.utils.distributed import run_ranks

    runs = (str(tmp_path / f"run{i}") for i in itertools.count())

    def train(world: int) -> str:
        return run_ranks(_train, world, (next(runs),), initializer=_one_thread)

    peers = {"train.image.tiny.1proc": Peer(lambda: train(1), "steps", STEPS)}
    path, nearby = pedantic_with_peers(train, (2,), ROUNDS, peers)
    assert path.endswith("generator.pt")
    record_figure("train.image.tiny.2proc", unit="steps", items_per_round=STEPS, nearby=nearby,
                  preset="tiny", batch=16, processes=2, threads_per_process=1)
