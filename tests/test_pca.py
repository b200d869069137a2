"""PCA of W (docs/official-code.md, *PCA basis*) against numpy.linalg.svd on the same samples."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch

from _motion_fixtures import make_tiny_generator, one_thread  # noqa: F401 (autouse fixture)
from vidbench.cli import main
from vidbench.utils.errors import BadInputError
from vidbench.train.image_generator import load_image_generator
from vidbench.train.pca import compute_pca, fit_pca, load_pca, save_pca, svd_flip_rows


def _svd_reference(x: np.ndarray):
    """Exact PCA by SVD of the centred data, signs as sklearn's svd_flip(u_based_decision=False)."""
    mean = x.mean(0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    idx = np.argmax(np.abs(vt), axis=1)
    vt = vt * np.sign(vt[np.arange(len(vt)), idx])[:, None]
    var = s ** 2 / (len(x) - 1)
    return vt, var, mean


def _correlated(n: int, d: int, seed: int, offset: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scales = np.geomspace(5.0, 0.1, d)
    mix = np.linalg.qr(rng.normal(size=(d, d)))[0]
    return rng.normal(size=(n, d)) * scales @ mix.T + offset + rng.normal(size=d)


@pytest.mark.parametrize("offset", [0.0, 1000.0])
def test_fit_pca_equals_svd(offset):
    x = _correlated(3000, 12, seed=1, offset=offset)
    res = fit_pca(x)
    vt, var, mean = _svd_reference(x)
    np.testing.assert_allclose(res.components, vt, atol=1e-9)
    np.testing.assert_allclose(res.variance, var, rtol=1e-9)
    np.testing.assert_allclose(res.stdev, np.sqrt(var), rtol=1e-9)
    np.testing.assert_allclose(res.var_ratio, var / var.sum(), rtol=1e-9)
    np.testing.assert_allclose(res.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(res.feature_var, x.var(0, ddof=1), rtol=1e-9)
    assert np.all(np.diff(res.variance) <= 0)
    np.testing.assert_allclose(res.components @ res.components.T, np.eye(12), atol=1e-10)


def test_svd_flip_rows_makes_largest_entry_positive():
    comp = np.array([[0.1, -0.9, 0.3], [-0.5, 0.2, 0.4], [0.0, 0.0, -1.0]])
    out = svd_flip_rows(comp)
    np.testing.assert_array_equal(out, [[-0.1, 0.9, -0.3], [0.5, -0.2, -0.4], [0.0, 0.0, 1.0]])


def test_compute_pca_streams_the_generator_samples(tmp_path):
    adapter = load_image_generator(make_tiny_generator(tmp_path / "g.pt")).adapter
    res = compute_pca(adapter, 1000, seed=3, batch_size=300, progress=False)
    rng = torch.Generator().manual_seed(3)
    with torch.no_grad():
        w = torch.cat([adapter.sample_latents(n, rng) for n in (300, 300, 300, 100)])
    vt, var, mean = _svd_reference(w.double().numpy())
    np.testing.assert_allclose(res.components, vt, atol=1e-7)
    np.testing.assert_allclose(res.variance, var, rtol=1e-7)
    np.testing.assert_allclose(res.mean, mean, atol=1e-10)
    assert res.num_samples == 1000


def test_pca_command_writes_files_and_provenance(tmp_path, capsys):
    gen = make_tiny_generator(tmp_path / "g.pt")
    assert main(["pca", "--generator", str(gen), "--num-samples", "500", "--batch-size", "200",
                 "--seed", "1", "--no-progress", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    out = tmp_path / "g_pca"                     # default: <stem>_pca next to the generator
    assert summary["out"] == str(out)
    meta = json.loads((out / "pca.json").read_text())
    assert meta["generator"]["sha256"] == hashlib.sha256(gen.read_bytes()).hexdigest()
    assert (meta["num_samples"], meta["seed"]) == (500, 1)
    for name in ("pca_comp.npy", "pca_stdev.npy", "pca_var_ratio.npy", "style_mean.npy"):
        arr = np.load(out / name)
        assert arr.dtype == np.float32
        assert meta["files"][name] == hashlib.sha256((out / name).read_bytes()).hexdigest()
    assert np.load(out / "pca_comp.npy").shape == (64, 64)
    basis = load_pca(out, expected_hashes={"pca_comp.npy": meta["files"]["pca_comp.npy"]})
    assert basis.components.shape == (64, 64) and basis.mean.shape == (64,)
    with pytest.raises(BadInputError, match="another PCA basis"):
        load_pca(out, expected_hashes={"pca_comp.npy": "0" * 64})


def test_pca_rejects_a_wrong_generator_size(tmp_path):
    gen = make_tiny_generator(tmp_path / "g.pt")
    assert main(["pca", "--generator", str(gen), "--size", "64", "--num-samples", "10",
                 "--no-progress"]) == 2


def test_save_pca_roundtrip(tmp_path):
    res = fit_pca(_correlated(200, 6, seed=2))
    save_pca(res, tmp_path / "p", {"seed": 0})
    basis = load_pca(tmp_path / "p")
    np.testing.assert_allclose(basis.components.numpy(), res.components, atol=1e-6)
    np.testing.assert_allclose(basis.stdev.numpy(), res.stdev, rtol=1e-6)
