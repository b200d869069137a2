"""``vidbench eval fvd`` end to end: clips/s and peak memory of the command, next to the bare
network.

Figure ``fvd.e2e.N`` (ratios built in ``benchmarks/ratios.py``): one run of
``vidbench.cli.main(["eval", "fvd", ...])`` in a fresh child process
(``benchmarks/_fvd_cli.py``) under the ``mocogan-hd`` protocol (the command's default) on N
clips in all, N/2 fake and N/2 real, of the built-in ``shapes`` set (two seeds, 128x128, 32 frames per video:
real clips take 16 frames at stride 2 from a seeded random start, fakes the first 16), with
the command's defaults otherwise (batch 16, no DataLoader workers) and ``--no-cache``, so no
statistics are read from or written to the cache. Its clips/s counts the N clips through
I3D over the child's whole life (interpreter start, imports, weights, both sides, the
Fréchet distance); its peak RSS is the child's own ``ru_maxrss``.

Peer timed in its round (``benchmarks/_common.py``): ``i3d.prepared``, the same network
(``load_i3d()``) on one batch of 16 clips already prepared by the extractor (shapes clips
decoded, resized and scaled as the command does), so e2e / network is the share of the
network in the command's time: what decoding, resizing and everything else add.

N is 256 and 2048 by default; ``VIDBENCH_BENCH_FVD_CLIPS="16,64"`` sets other (even) counts
(a quick smoke run). Each count runs once (``rounds=1``, no warm-up: 2048 clips through I3D
take about 25 minutes on two cores), its peer ``PEER_RUNS`` times before it.
"""
from __future__ import annotations

import math
import os

import numpy as np
import pytest
import torch

from benchmarks._common import Peer, run_network
from benchmarks._fvd_cli import fvd_args, run_fvd_cli

CLIPS_ENV = "VIDBENCH_BENCH_FVD_CLIPS"
DEFAULT_CLIPS = (256, 2048)
PROTOCOL, RESOLUTION, LENGTH = "mocogan-hd", 128, 32
BATCH = 16                      # `vidbench eval` --batch-size default
PEER_RUNS = 3


def clip_counts() -> tuple[int, ...]:
    text = os.environ.get(CLIPS_ENV, "").strip()
    if not text:
        return DEFAULT_CLIPS
    counts = tuple(int(c) for c in text.split(","))
    if any(c < 4 or c % 2 for c in counts):
        raise ValueError(f"{CLIPS_ENV}={text!r}: every count must be even and >= 4 "
                         f"(half fake, half real)")
    return counts


@pytest.fixture(scope="module")
def prepared_batch() -> torch.Tensor:
    """float32 [16, 3, 16, 224, 224]: 16 real clips as the command prepares them for I3D."""
    from vidbench.metrics.registry import build_extractor
    from vidbench.metrics.protocols import get_protocol
    from vidbench.evaluation.draws import open_drawn_source

    proto = get_protocol(PROTOCOL)
    source = open_drawn_source(f"shapes:seed=2,num_videos={BATCH},resolution={RESOLUTION},"
                               f"length={LENGTH}", proto.real, seed=0)
    clips = torch.from_numpy(np.stack([source[i] for i in range(BATCH)]))
    return build_extractor(proto.extractor, **proto.extractor_kwargs()).preprocess(clips)


@pytest.mark.parametrize("clips", clip_counts(), ids=lambda n: f"n{n}")
def test_fvd_end_to_end(pedantic_with_peers, record_figure, i3d_ours, prepared_batch,
                        tmp_path, clips):
    per_side = clips // 2
    args = fvd_args(per_side, protocol=PROTOCOL, resolution=RESOLUTION, length=LENGTH,
                    batch_size=BATCH)
    peers = {"i3d.prepared": Peer(lambda: run_network(i3d_ours, prepared_batch), "clips",
                                  BATCH)}
    report, nearby = pedantic_with_peers(run_fvd_cli, (args, tmp_path / "report.json"),
                                         rounds=1, peers=peers, warmup_rounds=0,
                                         peer_runs=PEER_RUNS)
    record = report["record"]
    assert report["status"] == 0 and record["protocol"] == PROTOCOL
    assert record["num_fake"] == record["num_real"] == per_side
    assert math.isfinite(record["value"]) and record["real"]["cached"] is False
    assert record["real"]["cache_key"] is None     # --no-cache: the cache was not consulted
    record_figure(f"fvd.e2e.{clips}", unit="clips", items_per_round=clips,
                  nearby=nearby, clips_per_side=per_side, protocol=PROTOCOL,
                  source=f"shapes {RESOLUTION}x{RESOLUTION}, {LENGTH} frames per video",
                  batch_size=BATCH, workers=0, command="vidbench " + " ".join(args),
                  peak_rss_bytes=report["peak_rss_bytes"],
                  main_seconds=report["main_seconds"],
                  record_seconds=record["seconds"], fvd=record["value"])
