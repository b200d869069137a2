"""Streaming feature statistics: equal to one batch, invariant to batch size, workers and DDP."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from vidbench.utils.distributed import shard_bounds, tf32_disabled
from vidbench.metrics.extractors import RandomProjectionExtractor
from vidbench.metrics.stats import FeatureStats, compute_feature_stats
from vidbench.data.base import ArraySource
from vidbench.utils.errors import VidbenchError

HERE = Path(__file__).resolve().parent


def _source(n=40, t=4, seed=0):
    rng = np.random.default_rng(seed)
    return ArraySource(rng.integers(0, 256, (n, t, 8, 8, 3), dtype=np.uint8), name="rand")


def _assert_same(a: FeatureStats, b: FeatureStats, rtol=1e-9):
    assert a.num_items == b.num_items
    np.testing.assert_allclose(a.sum, b.sum, rtol=rtol, atol=0)
    np.testing.assert_allclose(a.sum_outer, b.sum_outer, rtol=rtol, atol=0)
    np.testing.assert_allclose(a.cov(1), b.cov(1), rtol=rtol, atol=rtol * np.abs(a.cov(1)).max())


def test_streaming_equals_one_batch_and_numpy():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((103, 5)) * 2 + 1
    stats = FeatureStats(capture_all=True)
    for lo in range(0, 103, 10):
        stats.append(x[lo:lo + 10].astype(np.float32) if lo == 0 else x[lo:lo + 10])
    x[:10] = x[:10].astype(np.float32)
    np.testing.assert_allclose(stats.mean(), x.mean(0), rtol=1e-12)
    for ddof in (0, 1):
        np.testing.assert_allclose(stats.cov(ddof), np.cov(x, rowvar=False, ddof=ddof),
                                   rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(stats.all_features(), x)
    assert stats.sum.dtype == np.float64


def test_merge_and_save_load(tmp_path):
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((20, 4)), rng.standard_normal((13, 4))
    a, b, both = FeatureStats(capture_all=True), FeatureStats(capture_all=True), FeatureStats()
    a.append(x), b.append(torch.from_numpy(y)), both.append(np.concatenate([x, y]))
    merged = a.merge(b)
    _assert_same(merged, both, rtol=1e-12)
    np.testing.assert_array_equal(merged.all_features(), np.concatenate([x, y]))
    merged.save(tmp_path / "s.npz")
    back = FeatureStats.load(tmp_path / "s.npz")
    _assert_same(back, merged, rtol=0)
    np.testing.assert_array_equal(back.all_features(), merged.all_features())
    assert [p.name for p in tmp_path.iterdir()] == ["s.npz"]  # no temp file left


def test_bad_features_and_empty():
    stats = FeatureStats()
    with pytest.raises(VidbenchError, match="NaN or inf"):
        stats.append(np.array([[1.0, np.inf], [0.0, 0.0]]))
    with pytest.raises(VidbenchError, match="no features"):
        stats.mean()
    with pytest.raises(ValueError, match=r"\[B, D\]"):
        stats.append(np.zeros(3))


def test_nan_from_extractor_is_an_error():
    class Broken(RandomProjectionExtractor):
        def _forward(self, clips):
            out = super()._forward(clips)
            out[0, 0] = float("nan")
            return out

    with pytest.raises(VidbenchError, match="NaN or inf"):
        compute_feature_stats(_source(5), Broken(dim=3), batch_size=2, progress=False)


@pytest.fixture(scope="module")
def reference_stats():
    return compute_feature_stats(_source(), RandomProjectionExtractor(dim=12, seed=3),
                                 batch_size=40, progress=False)


@pytest.mark.parametrize("batch_size", [1, 7, 32])
def test_batch_size_invariance(reference_stats, batch_size):
    got = compute_feature_stats(_source(), RandomProjectionExtractor(dim=12, seed=3),
                                batch_size=batch_size, progress=False)
    _assert_same(got, reference_stats)


def test_worker_invariance(reference_stats):
    got = compute_feature_stats(_source(), RandomProjectionExtractor(dim=12, seed=3),
                                batch_size=5, num_workers=2, progress=False)
    _assert_same(got, reference_stats)


def test_float32_extractor_agrees_to_float32_rounding():
    # A float32 network (like I3D) may round differently per batch size; the float64 sums
    # then agree to ~1e-6 relative, not to 1e-9.
    ext = lambda: RandomProjectionExtractor(dim=12, seed=3, dtype=torch.float32)  # noqa: E731
    a = compute_feature_stats(_source(), ext(), batch_size=1, progress=False)
    b = compute_feature_stats(_source(), ext(), batch_size=32, progress=False)
    for x, y in ((a.mean(), b.mean()), (a.cov(1), b.cov(1))):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-5 * np.abs(x).max())


def test_max_items_and_capture_all():
    src = _source(10)
    ext = RandomProjectionExtractor(dim=4)
    part = compute_feature_stats(src, ext, batch_size=3, max_items=6, capture_all=True,
                                 progress=False)
    assert part.num_items == 6
    direct = ext(torch.from_numpy(np.stack([src[i] for i in range(6)]))).numpy()
    np.testing.assert_allclose(part.all_features(), direct, rtol=1e-12)


def test_clip_shape_mismatch_and_worker_errors_are_user_errors():
    clips = [np.zeros((4, 8, 8, 3), np.uint8)] * 3 + [np.zeros((5, 8, 8, 3), np.uint8)]
    src = ArraySource(clips, name="ragged")
    for bs in (1, 4):
        with pytest.raises(VidbenchError, match="differ in shape"):
            compute_feature_stats(src, RandomProjectionExtractor(dim=2), batch_size=bs,
                                  progress=False)
    bad = ArraySource([np.zeros((4, 8, 8, 3), np.float32)], name="floaty")
    with pytest.raises(VidbenchError, match=r"floaty\[0\].*uint8"):
        compute_feature_stats(bad, RandomProjectionExtractor(dim=2), num_workers=1,
                              progress=False)
    with pytest.raises(VidbenchError, match="no clips"):
        compute_feature_stats(ArraySource(np.zeros((0, 4, 8, 8, 3), np.uint8)),
                              RandomProjectionExtractor(dim=2), progress=False)


def test_shard_bounds_cover_in_order():
    for n in (0, 1, 5, 37):
        for world in (1, 2, 3, 8):
            parts = [range(*shard_bounds(n, r, world)) for r in range(world)]
            assert [i for p in parts for i in p] == list(range(n))


def test_tf32_context_restores():
    old = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = True
    try:
        with tf32_disabled():
            assert not torch.backends.cuda.matmul.allow_tf32
            assert not torch.backends.cudnn.allow_tf32
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
        with tf32_disabled(False):
            assert torch.backends.cuda.matmul.allow_tf32
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def test_ddp_two_processes_equal_one(tmp_path):
    sys.path.insert(0, str(HERE))
    try:
        from ddp_worker import fixed_source
    finally:
        sys.path.remove(str(HERE))
    out = tmp_path / "ddp.npz"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(HERE.parent)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(HERE / "ddp_worker.py"), "stats", str(out), str(tmp_path / "cache")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    got = np.load(out)
    info = json.loads(str(got["info"]))
    assert info == {"world": 2, "hits": [False, True], "calls": 1}
    one = compute_feature_stats(fixed_source(), RandomProjectionExtractor(dim=6, seed=5),
                                batch_size=4, capture_all=True, progress=False)
    assert int(got["n"]) == one.num_items == 37
    np.testing.assert_allclose(got["sum"], one.sum, rtol=1e-9)
    np.testing.assert_allclose(got["sum_outer"], one.sum_outer, rtol=1e-9)
    np.testing.assert_allclose(got["cached_sum"], one.sum, rtol=1e-9)
    np.testing.assert_allclose(got["features"], one.all_features(), rtol=1e-12)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1


def test_dataset_is_picklable_for_spawned_workers():
    import pickle

    from vidbench.metrics.stats import _ClipDataset
    from vidbench.data.sources import open_source

    for src in (_source(5), open_source("shapes:num_videos=4,length=6,resolution=32,seed=3")):
        ds = _ClipDataset(src, range(len(src)))
        back = pickle.loads(pickle.dumps(ds))
        np.testing.assert_array_equal(back[3], ds[3])
