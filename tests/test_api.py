"""The Python API (vidbench.fvd, ...) and the torchmetrics classes.

Values are checked against the evaluation functions the command line runs
(``vidbench.evaluation``) on ``ArraySource`` inputs, against the google-research FVD example
(slow, real I3D weights), and across two DDP ranks (gloo, CPU).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import vidbench
from vidbench.data.base import ArraySource
from vidbench.evaluation import evaluate_fvd
from vidbench.metrics.extractors import RandomProjectionExtractor
from vidbench.torchmetrics import FrechetVideoDistance
from vidbench.utils.errors import VidbenchError

from _weights import needs_i3d
from ddp_worker import metric_clips
from fvd_helpers import TEST_PROTOCOL

HERE = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # too few clips for the features: expected here
        yield


def _fvd(fake, real, **kw):
    return vidbench.fvd(fake, real, protocol=TEST_PROTOCOL, use_cache=False, progress=False,
                        **kw)


def test_fvd_of_arrays_equals_the_evaluation_of_array_sources():
    fake, real = metric_clips()
    res = _fvd(fake, real)
    record = evaluate_fvd(ArraySource(fake), ArraySource(real), TEST_PROTOCOL, use_cache=False,
                          progress=False)
    assert isinstance(res, vidbench.Result)
    assert res.metric == "fvd" and res.protocol == "test-random"
    assert res.value == pytest.approx(record["value"], rel=1e-12) and res.value > 0
    d = res.to_dict()
    assert d["value"] == res.value and d["num_fake"] == d["num_real"] == 12
    for key in ("git_commit", "versions", "device", "weights_sha256", "seed"):
        assert key in d
    assert d["fake"]["fingerprint"] == record["fake"]["fingerprint"]
    d["value"] = -1.0  # a copy: the result is unchanged
    assert res.to_dict()["value"] == res.value


def test_float_tensors_with_layout_and_range_equal_the_uint8_clips():
    fake, real = metric_clips()
    want = _fvd(fake, real).value
    # NCTHW in [0, 1] (torch) and NTCHW in [-1, 1] (numpy): the same uint8 values after to_uint8
    f = torch.from_numpy(fake).permute(0, 4, 1, 2, 3).double() / 255
    r = real.transpose(0, 1, 4, 2, 3).astype(np.float32) / 127.5 - 1
    got_f = _fvd(f, ArraySource(real), layout="NCTHW", value_range=(0, 1)).value
    got_r = _fvd(ArraySource(fake), r, layout="NTCHW", value_range=(-1, 1)).value
    assert got_f == pytest.approx(want, rel=1e-12)
    assert got_r == pytest.approx(want, rel=1e-12)


def test_an_iterable_of_batches_is_the_concatenated_clips():
    fake, real = metric_clips()
    want = _fvd(fake, real).value
    got = _fvd((b for b in np.split(fake, [5, 9])), [torch.from_numpy(real)]).value
    assert got == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("kwargs, needle", [
    ({}, "needs layout= and value_range="),
    ({"layout": "NTHWC"}, "needs layout= and value_range="),
    ({"layout": "THWC", "value_range": (0, 1)}, "layout='THWC' is not one of"),
    ({"layout": "NTHWC", "value_range": (0, 2)}, "value_range=(0, 2) is not one of"),
])
def test_float_input_is_never_guessed(kwargs, needle):
    fake, real = metric_clips()
    with pytest.raises(VidbenchError, match="^fake: ") as err:
        _fvd(fake.astype(np.float32) / 255, real, **kwargs)
    assert needle in str(err.value)


def test_bad_shapes_name_the_argument_and_the_fix():
    fake, real = metric_clips()
    with pytest.raises(VidbenchError, match=r"^real: expected 5 dimensions.*x\[None\]"):
        _fvd(fake, real[0])
    with pytest.raises(VidbenchError, match=r"^fake: shape .* pass layout="):
        _fvd(fake.transpose(0, 1, 4, 2, 3), real)
    with pytest.raises(VidbenchError, match="^fake: int64 is not videos|^fake: expected uint8"):
        _fvd(fake.astype(np.int64), real)
    with pytest.raises(VidbenchError, match="^fake: int is not videos"):
        _fvd(3, real)


def test_torchmetrics_fvd_equals_vidbench_fvd_and_resets():
    fake, real = metric_clips()
    want = _fvd(fake, real).value
    metric = FrechetVideoDistance(TEST_PROTOCOL)
    for part in np.split(fake, [7]):
        metric.update(part, real=False)
    for part in np.split(real, [4]):
        metric.update(torch.from_numpy(part), real=True)
    assert float(metric.compute()) == pytest.approx(want, rel=1e-9)
    metric.reset()
    with pytest.raises(VidbenchError, match="no fake clips"):
        metric.update(real, real=True)
        metric.compute()
    with pytest.raises(VidbenchError, match="8-frame fake clips; these have 5"):
        metric.update(fake[:, :5], real=False)


def test_torchmetrics_fvd_two_ddp_ranks_equal_one_process(tmp_path):
    fake, real = metric_clips()
    one = FrechetVideoDistance(TEST_PROTOCOL)
    one.update(fake[:6], real=False)
    one.update(fake[6:], real=False)
    one.update(real[:6], real=True)
    one.update(real[6:], real=True)
    want = float(one.compute())
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(HERE.parent)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(HERE / "ddp_worker.py"), "torchmetrics", str(tmp_path / "tm")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for rank in (0, 1):
        got = json.loads((tmp_path / f"tm.rank{rank}.json").read_text())
        assert got["world"] == 2 and got["local_fake"] == 6  # each rank saw half the clips
        assert got["value"] == pytest.approx(want, rel=1e-9)


@pytest.mark.slow
@needs_i3d
def test_the_google_research_example_through_the_api_and_the_metric_class(vidbench_home):
    a = np.zeros((16, 15, 64, 64, 3), np.uint8)
    res = vidbench.fvd(a, a + 255, protocol="tf-reference", batch_size=8, use_cache=False,
                       progress=False)
    assert res.value == pytest.approx(133.908, abs=1e-3)  # google-research's published example
    metric = FrechetVideoDistance("tf-reference", batch_size=8)
    for half in (a[:8], a[8:]):
        metric.update(half, real=False)
        metric.update(half + 255, real=True)
    assert float(metric.compute()) == pytest.approx(res.value, rel=1e-6)


class _SoftmaxProjection(RandomProjectionExtractor):
    """Stands in for C3D (no weights here): class probabilities from a seeded projection."""

    name = "softmax-projection"

    def _forward(self, clips: torch.Tensor) -> torch.Tensor:
        return torch.softmax(super()._forward(clips) * 4.0, dim=1)


def test_torchmetrics_is_equals_vidbench_inception_score(monkeypatch):
    import vidbench.evaluation.is_acd as is_acd
    import vidbench.torchmetrics as tm

    stand_in = lambda name, **kw: _SoftmaxProjection(dim=12, seed=3)  # noqa: E731
    monkeypatch.setattr(is_acd, "build_extractor", stand_in)
    monkeypatch.setattr(tm, "build_extractor", stand_in)
    rng = np.random.default_rng(11)
    clips = rng.integers(0, 256, (20, 18, 16, 16, 3), dtype=np.uint8)  # 18 frames: IS uses 16
    want = vidbench.inception_score(clips, "tganv2", num_samples=2, progress=False)
    assert want.protocol == "tganv2" and want.record["num_runs"] == 10
    metric = tm.InceptionScore("tganv2", batch_size=3)
    for part in np.split(clips, [8, 13]):
        metric.update(part)
    assert float(metric.compute()) == pytest.approx(want.value, rel=1e-9)
    assert want.std == pytest.approx(float(np.std(want.record["runs"])), rel=1e-12)
    with pytest.raises(VidbenchError, match="do not split into 10 equal runs"):
        metric.reset()
        metric.update(clips[:7])
        metric.compute()
