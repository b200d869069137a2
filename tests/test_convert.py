"""to_uint8 on hand-worked values for each convention (docs/protocols.md, *Float to uint8
conversion*)."""
import numpy as np
import pytest
import torch

from vidbench.data.convert import CONVENTIONS, to_uint8
from vidbench.utils.errors import VidbenchError

X = [-3.0, -1.0, -0.999, -0.5, 0.0, 0.5, 0.99, 1.0, 2.0]
CASES = {
    # floor(clip(x*127.5 + 128, 0, 255)): 0 -> 128 (127.5 rounds up), -0.5 -> 64.25 -> 64
    "round": [0, 0, 0, 64, 128, 191, 254, 255, 255],
    # floor((clip(x,-1,1)+1)/2*255): 0 -> 127.5 -> 127, -0.999 -> 0.1275 -> 0, 0.99 -> 253.7
    "truncate-01": [0, 0, 0, 63, 127, 191, 253, 255, 255],
    # floor(clip(x*128 + 128, 0, 255)): 0.99 -> 254.72 -> 254, 1 -> 256 -> 255
    "tgan": [0, 0, 0, 64, 128, 192, 254, 255, 255],
}


@pytest.mark.parametrize("convention", sorted(CASES))
def test_hand_worked_values(convention):
    x = np.array(X, np.float32)
    np.testing.assert_array_equal(to_uint8(x, convention), CASES[convention])
    t = to_uint8(torch.tensor(X), convention)
    assert t.dtype == torch.uint8
    assert t.tolist() == CASES[convention]


def test_truncate_255():
    x = np.array([-0.1, 0.0, 0.5, 0.999, 1.0, 1.5], np.float32)
    np.testing.assert_array_equal(to_uint8(x, "truncate-255"), [0, 0, 127, 254, 255, 255])


def test_round_vs_truncate_differ_by_at_most_one():
    x = np.random.default_rng(0).uniform(-1, 1, 10_000).astype(np.float32)
    diff = to_uint8(x, "round").astype(int) - to_uint8(x, "truncate-01").astype(int)
    assert set(np.unique(diff)) <= {0, 1} and diff.any()


def test_numpy_and_torch_agree_and_keep_shape():
    x = np.random.default_rng(1).uniform(-1.2, 1.2, (2, 3, 4, 5, 3)).astype(np.float32)
    for convention in CONVENTIONS:
        a = to_uint8(x, convention)
        b = to_uint8(torch.from_numpy(x), convention).numpy()
        assert a.shape == x.shape and a.dtype == np.uint8
        np.testing.assert_array_equal(a, b)


def test_arithmetic_runs_in_the_input_float_type():
    # float32(-0.6) + 1 = 0.39999998 -> 50.99999 -> 50; in float64 0.4/2*255 = 51.000000000000007
    assert to_uint8(np.array([-0.6], np.float32), "truncate-01")[0] == 50
    assert to_uint8(torch.tensor([-0.6]), "truncate-01").item() == 50
    assert to_uint8(np.array([-0.6], np.float64), "truncate-01")[0] == 51
    assert to_uint8(torch.tensor([-0.6], dtype=torch.float64), "truncate-01").item() == 51
    assert to_uint8(np.array([-0.6], np.float16), "truncate-01")[0] == \
        np.floor((np.float32(np.float16(-0.6)) + 1) / 2 * 255)


def test_errors():
    with pytest.raises(VidbenchError, match="valid: round"):
        to_uint8(np.zeros(3, np.float32), "clip")
    with pytest.raises(VidbenchError, match="float"):
        to_uint8(np.zeros(3, np.uint8))
    with pytest.raises(VidbenchError, match="NaN"):
        to_uint8(np.array([np.nan], np.float32))
