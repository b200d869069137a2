"""Run under torchrun (gloo, CPU) by the tests; rank 0 writes what the test checks.

``stats OUT CACHE``: feature statistics of a fixed source on every rank, then a cache miss and
a cache hit through StatsCache; rank 0 writes an .npz.
``cli OUT_PREFIX ARGS...``: ``vidbench`` with the fast test protocol registered; each rank's
stdout goes to ``OUT_PREFIX.rank<r>.txt`` (the CLI joins the process group itself).
``torchmetrics OUT``: each rank updates ``vidbench.torchmetrics.FrechetVideoDistance`` (fast
test protocol) with its half of :func:`metric_clips`; every rank writes its ``compute()``.
"""
import contextlib
import json
import os
import sys

import numpy as np
import torch

from vidbench.metrics.cache import StatsCache, make_key
from vidbench.utils.distributed import dist_info
from vidbench.metrics.extractors import RandomProjectionExtractor
from vidbench.metrics.stats import compute_feature_stats
from vidbench.data.base import ArraySource


def fixed_source(n: int = 37) -> ArraySource:
    rng = np.random.default_rng(123)
    return ArraySource(rng.integers(0, 256, (n, 4, 8, 8, 3), dtype=np.uint8), name="fixed")


def run_stats(out: str, cache_root: str) -> None:
    dist = torch.distributed
    dist.init_process_group("gloo")
    rank, world = dist_info()
    ext = RandomProjectionExtractor(dim=6, seed=5)
    stats = compute_feature_stats(fixed_source(), ext, batch_size=4, capture_all=True,
                                  progress=False)
    key, key_obj = make_key({"test": "ddp"})
    calls = []

    def compute():
        calls.append(1)
        return compute_feature_stats(fixed_source(), ext, batch_size=3, progress=False)

    cache = StatsCache(cache_root)
    _, hit1 = cache.get_or_compute(key, key_obj, compute)
    again, hit2 = cache.get_or_compute(key, key_obj, compute)
    if rank == 0:
        np.savez(out, sum=stats.sum, sum_outer=stats.sum_outer, n=stats.num_items,
                 features=stats.all_features(), cached_sum=again.sum,
                 info=json.dumps({"world": world, "hits": [hit1, hit2], "calls": len(calls)}))
    dist.barrier()
    dist.destroy_process_group()


def metric_clips() -> tuple[np.ndarray, np.ndarray]:
    """(fake, real) uint8 clips [12, 8, 16, 16, 3] for the torchmetrics DDP test."""
    rng = np.random.default_rng(7)
    fake = rng.integers(0, 256, (12, 8, 16, 16, 3), dtype=np.uint8)
    real = (rng.random((12, 8, 16, 16, 3)) ** 2 * 255).astype(np.uint8)
    return fake, real


def run_torchmetrics(out: str) -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from fvd_helpers import TEST_PROTOCOL

    from vidbench.torchmetrics import FrechetVideoDistance

    dist = torch.distributed
    dist.init_process_group("gloo")
    rank, world = dist_info()
    fake, real = metric_clips()
    half = slice(0, 6) if rank == 0 else slice(6, 12)
    metric = FrechetVideoDistance(TEST_PROTOCOL)
    metric.update(fake[half], real=False)
    metric.update(real[half], real=True)
    value = float(metric.compute())
    with open(f"{out}.rank{rank}.json", "w") as fh:
        json.dump({"world": world, "value": value,
                   "local_fake": float(metric.fake_num)}, fh)
    dist.barrier()
    dist.destroy_process_group()


def run_cli(prefix: str, argv: list[str]) -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from fvd_helpers import TEST_PROTOCOL

    from vidbench.metrics.protocols import PROTOCOLS
    from vidbench.cli import main

    PROTOCOLS[TEST_PROTOCOL.name] = TEST_PROTOCOL  # this process only
    rank = os.environ["RANK"]
    with open(f"{prefix}.rank{rank}.txt", "w") as fh, contextlib.redirect_stdout(fh):
        code = main(argv)
    sys.exit(code)


if __name__ == "__main__":
    torch.set_num_threads(1)
    if sys.argv[1] == "stats":
        run_stats(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "torchmetrics":
        run_torchmetrics(sys.argv[2])
    else:
        run_cli(sys.argv[2], sys.argv[3:])
