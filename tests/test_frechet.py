"""Fréchet distance: closed forms, agreement of the square-root forms, pytorch-fid, scipy."""
import warnings

import numpy as np
import pytest
import scipy.linalg

from vidbench.metrics.frechet import (SQRT_METHODS, FewSamplesWarning, covariance, frechet_distance,
                                      few_samples_expected, mean_from_sums, trace_sqrt_product)
from vidbench.utils.errors import VidbenchError


def _stats(x, ddof=1):
    return x.mean(0), np.cov(x, rowvar=False, ddof=ddof)


@pytest.fixture(scope="module")
def activations():
    """Two sets of 2048 x 400 activations with different means and correlated covariances."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2048, 400))
    b = rng.standard_normal((2048, 400)) @ (0.1 * rng.standard_normal((400, 400))) + 0.3
    return _stats(a), _stats(b)


def _numpy_reference(mu1, s1, mu2, s2):
    """Plain FD with the eigenvalues of sqrt(S1) S2 sqrt(S1) (symmetric eigh)."""
    w, v = np.linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    lam = np.linalg.eigvalsh(root1 @ s2 @ root1)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2)
                 - 2 * np.sqrt(np.clip(lam, 0, None)).sum())


def test_three_forms_agree(activations):
    (mu1, s1), (mu2, s2) = activations
    values = {m: frechet_distance(mu1, s1, mu2, s2, method=m) for m in SQRT_METHODS}
    ref = values["svd"]
    assert ref > 100
    for m, v in values.items():
        assert v == pytest.approx(ref, rel=1e-10), (m, values)
    assert _numpy_reference(mu1, s1, mu2, s2) == pytest.approx(ref, rel=1e-10)


def test_agrees_with_pytorch_fid_and_scipy(activations):
    from pytorch_fid.fid_score import calculate_frechet_distance

    (mu1, s1), (mu2, s2) = activations
    with warnings.catch_warnings():  # pytorch-fid passes sqrtm's deprecated `disp`
        warnings.simplefilter("ignore", DeprecationWarning)
        theirs = float(calculate_frechet_distance(mu1, s1, mu2, s2))
    root = scipy.linalg.sqrtm(s1 @ s2)
    direct = float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2)
                   - 2 * np.trace(np.real(root)))
    for m in SQRT_METHODS:
        ours = frechet_distance(mu1, s1, mu2, s2, method=m)
        assert ours == pytest.approx(theirs, rel=1e-8)
        assert ours == pytest.approx(direct, rel=1e-8)


def test_closed_form_diagonal():
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0.1, 3, 50), rng.uniform(0.1, 3, 50)
    mu1, mu2 = rng.standard_normal(50), rng.standard_normal(50)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    for m in SQRT_METHODS:
        got = frechet_distance(mu1, np.diag(a), mu2, np.diag(b), method=m)
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_hand_worked_case():
    # 1-D Gaussians N(0, 4) and N(3, 1): FD = 9 + (2 - 1)^2 = 10.
    for m in SQRT_METHODS:
        assert frechet_distance([0.0], [[4.0]], [3.0], [[1.0]], method=m) == pytest.approx(10.0)


def test_identical_and_zero_covariance():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((500, 20))
    mu, s = _stats(x)
    for m in SQRT_METHODS:
        assert abs(frechet_distance(mu, s, mu, s, method=m)) < 1e-9 * np.trace(s)
    # every sample identical in each set: both covariances 0, FD = |mu1 - mu2|^2
    z = np.zeros((20, 20))
    assert frechet_distance(np.ones(20), z, np.zeros(20), z) == pytest.approx(20.0)


def test_trace_sqrt_product_svd_leaves_tiny_singular_values_unrooted():
    # A singular value below 1e-10 is kept as is (TF-GAN), not square-rooted: sqrt(S1) is
    # diag(2, 1e-12), the inner product diag(4, 1e-24), its root's trace 2 + 1e-24; the
    # eigenvalue form roots 1e-12 and gets 2 + 1e-6.
    s1, s2 = np.diag([4.0, 1e-12]), np.eye(2)
    assert trace_sqrt_product(s1, s2, "svd") == pytest.approx(2.0, abs=1e-15)
    assert trace_sqrt_product(s1, s2, "eig") == pytest.approx(2.0 + 1e-6, abs=1e-12)


def test_covariance_from_sums_matches_numpy():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 7)) * 3 + 5
    total, outer = x.sum(0), x.T @ x
    np.testing.assert_allclose(mean_from_sums(total, 300), x.mean(0), rtol=1e-13)
    for ddof in (0, 1):
        np.testing.assert_allclose(covariance(total, outer, 300, ddof),
                                   np.cov(x, rowvar=False, ddof=ddof), rtol=1e-10, atol=1e-12)


def test_too_few_samples():
    x = np.ones((1, 4))
    with pytest.raises(VidbenchError, match="at least 2 samples"):
        covariance(x.sum(0), x.T @ x, 1, 1)
    rng = np.random.default_rng(4)
    y = rng.standard_normal((5, 8))
    with pytest.warns(FewSamplesWarning, match="rank at most 4"):
        covariance(y.sum(0), y.T @ y, 5, 1)
    z = rng.standard_normal((9, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        covariance(z.sum(0), z.T @ z, 9, 1)  # full rank possible: no warning


def test_few_samples_expected_hides_only_that_warning():
    y = np.random.default_rng(5).standard_normal((5, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with few_samples_expected():
            covariance(y.sum(0), y.T @ y, 5, 1)              # rank-deficient: not raised
            with pytest.warns(UserWarning, match="other"):
                warnings.warn("other", UserWarning)           # any other warning still shows
        with pytest.raises(FewSamplesWarning):                # the filter ends with the block
            covariance(y.sum(0), y.T @ y, 5, 1)


def test_bad_inputs():
    with pytest.raises(VidbenchError, match="unknown square-root method"):
        frechet_distance([0.0], [[1.0]], [0.0], [[1.0]], method="cholesky")
    with pytest.raises(VidbenchError, match="NaN"):
        frechet_distance([np.nan], [[1.0]], [0.0], [[1.0]])
    with pytest.raises(ValueError, match="do not match"):
        frechet_distance(np.zeros(3), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="dimensions differ"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
