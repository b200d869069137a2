"""C3D (TGANv2's Chainer files), its input modes and the C3D extractor, on random weights."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vidbench.metrics.c3d_extractor import C3DExtractor
from vidbench.metrics.stats import compute_feature_stats
from vidbench.models.c3d import (C3D, c3d_state_dict, load_c3d, mean_clip, prepare_input,
                                 read_mean_clip)
from vidbench.data.shapes import make_shapes
from vidbench.utils.errors import BadInputError, MissingWeightsError, VidbenchError

# The layout Chainer's save_npz writes for C3DVersion1UCF101: ConvolutionND W is
# (out, in, kd, kh, kw), Linear W is (out, in); every link has a bias b.
CHAINER_LAYOUT = {
    "conv1a": (64, 3, 3, 3, 3), "conv2a": (128, 64, 3, 3, 3),
    "conv3a": (256, 128, 3, 3, 3), "conv3b": (256, 256, 3, 3, 3),
    "conv4a": (512, 256, 3, 3, 3), "conv4b": (512, 512, 3, 3, 3),
    "conv5a": (512, 512, 3, 3, 3), "conv5b": (512, 512, 3, 3, 3),
    "fc6": (4096, 8192), "fc7": (4096, 4096), "fc8": (101, 4096),
}


def random_chainer_arrays(seed=0):
    rng = np.random.default_rng(seed)
    arrays = {}
    for link, shape in CHAINER_LAYOUT.items():
        std = np.sqrt(2.0 / np.prod(shape[1:])) * (0.02 if link == "fc8" else 1.0)
        arrays[f"{link}/W"] = (rng.standard_normal(shape, dtype=np.float32) * std).astype(np.float32)
        arrays[f"{link}/b"] = (rng.standard_normal(shape[0], dtype=np.float32) * 0.01).astype(np.float32)
    return arrays


@pytest.fixture(scope="module")
def c3d_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("c3d")
    arrays = random_chainer_arrays()
    np.savez(folder / "conv3d_deepnetA_ucf.npz", **arrays)
    rng = np.random.default_rng(1)
    mean_v2 = rng.normal(100, 20, (3, 16, 128, 128)).astype(np.float32)
    np.savez(folder / "mean2.npz", mean=mean_v2)
    mean_v1 = rng.normal(100, 20, (3, 16, 128, 171)).astype(np.float32)
    np.savez(folder / "mean2_v1.npz", mean=mean_v1)
    return {"weights": folder / "conv3d_deepnetA_ucf.npz", "mean": folder / "mean2.npz",
            "mean_v1": folder / "mean2_v1.npz", "arrays": arrays, "mean_v2": mean_v2,
            "mean_v1_raw": mean_v1}


# --- independent NumPy references ---------------------------------------------------------

def cover_all_pool(x, k):
    """Chainer max_pooling_nd(cover_all=True, stride=k, pad=0) in plain NumPy."""
    out_shape = [(n - kk + kk - 1) // kk + 1 for n, kk in zip(x.shape[2:], k)]
    out = np.empty(x.shape[:2] + tuple(out_shape), x.dtype)
    for idx in np.ndindex(*out_shape):
        sl = tuple(slice(i * kk, min(i * kk + kk, n)) for i, kk, n in zip(idx, k, x.shape[2:]))
        out[(slice(None), slice(None)) + idx] = x[(slice(None), slice(None)) + sl].max(axis=(2, 3, 4))
    return out


def chainer_bilinear_matrix(n_in, n_out):
    """Chainer 6 resize_images along one axis: points linspace(0, in-1, out)."""
    v = np.linspace(0, n_in - 1, n_out)
    v0 = np.clip(np.floor(v).astype(int), 0, n_in - 2)
    m = np.zeros((n_out, n_in))
    m[np.arange(n_out), v0] += v0 + 1 - v
    m[np.arange(n_out), v0 + 1] += v - v0
    return m


def cv2_cubic_matrix(n_in, n_out, a=-0.75):
    """OpenCV INTER_CUBIC along one axis: half-pixel centres, replicated border."""
    def w(d):
        d = abs(d)
        return ((a + 2) * d ** 3 - (a + 3) * d ** 2 + 1 if d <= 1
                else a * d ** 3 - 5 * a * d ** 2 + 8 * a * d - 4 * a if d < 2 else 0.0)
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        x = (i + 0.5) * n_in / n_out - 0.5
        x0 = int(np.floor(x))
        for tap in range(x0 - 1, x0 + 3):
            m[i, min(max(tap, 0), n_in - 1)] += w(x - tap)
    return m


def resize_np(u, m_rows, m_cols):
    """Separable resize of [..., H, W] by row and column matrices."""
    return m_rows @ u @ m_cols.T


# --- network and reader -------------------------------------------------------------------

def test_loads_chainer_layout_and_outputs_probabilities(c3d_files):
    model = load_c3d(c3d_files["weights"], c3d_files["mean"])
    arrays = c3d_files["arrays"]
    for link in CHAINER_LAYOUT:
        assert np.array_equal(getattr(model.net, link).weight.numpy(), arrays[f"{link}/W"])
        assert np.array_equal(getattr(model.net, link).bias.numpy(), arrays[f"{link}/b"])
    assert not model.training and not any(p.requires_grad for p in model.parameters())

    pools = []
    hook = lambda mod, inp, out: pools.append(tuple(out.shape[2:]))  # noqa: E731
    x = torch.from_numpy(np.random.default_rng(2).normal(0, 60, (2, 3, 16, 112, 112)).astype(np.float32))
    with torch.no_grad():
        feats = model.net.forward_features(x)
        probs = model.net.probabilities(x)
    assert tuple(feats.shape) == (2, 512, 1, 4, 4)
    assert probs.shape == (2, 101) and torch.all(probs >= 0)
    assert torch.allclose(probs.sum(1), torch.ones(2, dtype=torch.float32), atol=1e-6)

    # independent forward: functional ops straight from the npz arrays, ceil pooling done by
    # padding with -inf up to a multiple of the window
    h = x
    for link, pool in (("conv1a", (1, 2, 2)), ("conv2a", (2, 2, 2)), ("conv3a", None),
                       ("conv3b", (2, 2, 2)), ("conv4a", None), ("conv4b", (2, 2, 2)),
                       ("conv5a", None), ("conv5b", (2, 2, 2))):
        h = F.relu(F.conv3d(h, torch.from_numpy(arrays[f"{link}/W"]),
                            torch.from_numpy(arrays[f"{link}/b"]), padding=1))
        if pool:
            pad = [p for n, k in reversed(list(zip(h.shape[2:], pool))) for p in (0, (-n) % k)]
            h = F.max_pool3d(F.pad(h, pad, value=-np.inf), pool)
            pools.append(tuple(h.shape[2:]))
    h = h.flatten(1)
    for link in ("fc6", "fc7", "fc8"):
        h = F.linear(h, torch.from_numpy(arrays[f"{link}/W"]), torch.from_numpy(arrays[f"{link}/b"]))
        h = F.relu(h) if link != "fc8" else torch.softmax(h, 1)
    assert torch.allclose(probs, h, atol=1e-5, rtol=1e-4)
    assert pools == [(16, 56, 56), (8, 28, 28), (4, 14, 14), (2, 7, 7), (1, 4, 4)]


def test_ceil_mode_pool_equals_chainer_cover_all():
    x = np.random.default_rng(3).normal(size=(1, 2, 5, 7, 9)).astype(np.float32)
    for k in ((2, 2, 2), (1, 2, 2)):
        ours = F.max_pool3d(torch.from_numpy(x), k, ceil_mode=True).numpy()
        assert np.array_equal(ours, cover_all_pool(x, k))


def test_strict_reader_lists_every_problem():
    arrays = {f"{link}/{p}": np.broadcast_to(np.float32(0), shape if p == "W" else shape[:1])
              for link, shape in CHAINER_LAYOUT.items() for p in ("W", "b")}
    del arrays["fc7/b"]
    arrays["fc6/W"] = np.broadcast_to(np.float32(0), (4096, 4608))
    arrays["conv0/W"] = np.zeros(1, np.float32)
    with pytest.raises(BadInputError) as err:
        c3d_state_dict(arrays, C3D(), "weights.npz")
    msg = str(err.value)
    assert "weights.npz" in msg and "fc7/b" in msg and "conv0/W" in msg and "fc6/W: (4096, 4608)" in msg


def test_missing_weights_name_file_and_source(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDBENCH_HOME", str(tmp_path))
    with pytest.raises(MissingWeightsError, match="conv3d_deepnetA_ucf.npz.*rezoo/tgan2"):
        load_c3d()


# --- input modes against NumPy --------------------------------------------------------------

def test_mean_clip_layouts(c3d_files):
    v2 = read_mean_clip(c3d_files["mean"], "tganv2")
    assert np.array_equal(v2, c3d_files["mean_v2"][:, :, 8:120, 8:120])
    v1 = read_mean_clip(c3d_files["mean_v1"], "tgan-v1")
    assert np.array_equal(v1, c3d_files["mean_v1_raw"].reshape(3, 1, 16, 128, 171)[:, 0, :, :, 21:149])
    per_channel = np.arange(3 * 128 * 128, dtype=np.float32).reshape(3, 1, 128, 128)
    assert mean_clip(per_channel, "tganv2").shape == (3, 16, 112, 112)
    with pytest.raises(BadInputError, match="TGANv2 mean"):
        mean_clip(np.zeros((3, 16, 100, 100), np.float32), "tganv2")
    with pytest.raises(BadInputError, match="v1 mean"):
        mean_clip(np.zeros((3, 16, 128, 128), np.float32), "tgan-v1")


@pytest.mark.parametrize("mode", ["tganv2", "mocogan-hd", "mocogan-hd-v1crop", "tgan-v1"])
def test_input_modes_match_numpy(c3d_files, mode):
    h, w = 48, 60
    u = np.random.default_rng(4).integers(0, 256, (1, 3, 16, h, w)).astype(np.float64)
    mean = read_mean_clip(c3d_files["mean_v1" if mode == "tgan-v1" else "mean"], mode)
    got = prepare_input(torch.from_numpy(u.astype(np.float32)), torch.from_numpy(mean), mode).numpy()

    bgr = u[:, ::-1]
    if mode != "tganv2":
        bgr = resize_np(bgr, cv2_cubic_matrix(h, 128), cv2_cubic_matrix(w, 128))
    if mode == "tgan-v1":
        ref = (bgr - mean[None].astype(np.float64))[..., 8:120, 8:120]
    else:
        if mode == "mocogan-hd-v1crop":
            bgr = bgr[..., 8:120, 8:120]
        n_h, n_w = bgr.shape[-2:]
        ref = resize_np(bgr - 128, chainer_bilinear_matrix(n_h, 112),
                        chainer_bilinear_matrix(n_w, 112)) + (128 - mean[None].astype(np.float64))
    assert got.shape == (1, 3, 16, 112, 112)
    assert np.abs(got - ref).max() < 2e-3


def test_prepare_input_rejects_wrong_frames(c3d_files):
    mean = torch.from_numpy(read_mean_clip(c3d_files["mean"], "tganv2"))
    with pytest.raises(VidbenchError, match="16"):
        prepare_input(torch.zeros(1, 3, 8, 64, 64), mean, "tganv2")
    with pytest.raises(VidbenchError, match="unknown C3D input mode"):
        prepare_input(torch.zeros(1, 3, 16, 64, 64), mean, "bilinear")


# --- the extractor --------------------------------------------------------------------------

def test_extractor_on_shapes_clips(c3d_files):
    source = make_shapes(num_videos=2, length=16, resolution=64, seed=3)
    ex = C3DExtractor(mode="mocogan-hd", weights_path=str(c3d_files["weights"]),
                      mean_path=str(c3d_files["mean"]))
    stats = compute_feature_stats(source, ex, batch_size=2, capture_all=True, progress=False)
    probs = stats.all_features()
    assert probs.shape == (2, 101) and np.allclose(probs.sum(1), 1, atol=1e-5)
    clips = torch.from_numpy(np.stack([source[0], source[1]]))
    with torch.no_grad():
        direct = ex.network()(clips.permute(0, 4, 1, 2, 3).float()).double().numpy()
    assert np.allclose(probs, direct, atol=1e-7)
    contract = ex.contract()
    assert contract["preprocessing"]["mode"] == "mocogan-hd"
    assert len(contract["weights_sha256"]) == 64 and len(contract["preprocessing"]["mean_sha256"]) == 64
    with pytest.raises(VidbenchError, match="16 frames"):
        ex(torch.zeros(1, 17, 64, 64, 3, dtype=torch.uint8))
    with pytest.raises(VidbenchError, match="at least 16"):
        ex(torch.zeros(1, 8, 64, 64, 3, dtype=torch.uint8))


def test_cubic_resize_matches_opencv_inter_cubic():
    import cv2

    from vidbench.models.c3d import resize_cubic

    rng = np.random.default_rng(5)
    for h, w in ((48, 60), (256, 256), (200, 90)):
        frame = rng.uniform(0, 255, (h, w, 3)).astype(np.float32)
        ref = cv2.resize(frame, (128, 128), interpolation=cv2.INTER_CUBIC)
        ours = resize_cubic(torch.from_numpy(frame).permute(2, 0, 1)[None, :, None], 128)
        assert np.abs(ours[0, :, 0].permute(1, 2, 0).numpy() - ref).max() < 2e-4
