"""StyleGAN2 generator: rosinality checkpoint layout (docs/official-code.md,
*Image-generator checkpoint layout*), native ops against scipy, modulated convs against a
per-sample reference, strict loading."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F

from vidbench.models.stylegan2 import StyleGAN2Generator, load_stylegan2, stylegan2_channels
from vidbench.models.stylegan2_layers import ModulatedConv2d
from vidbench.models.stylegan2_ops import fused_leaky_relu, upfirdn2d
from vidbench.utils.errors import BadInputError


def table_channels(r: int, cm: int) -> int:
    """rosinality's channels: 4–32 → 512; 64 → 256·cm; 128 → 128·cm; 256 → 64·cm; 512 → 32·cm;
    1024 → 16·cm."""
    return 512 if r <= 32 else {64: 256, 128: 128, 256: 64, 512: 32, 1024: 16}[r] * cm


def expected_g_ema(size: int, cm: int = 2, sd: int = 512, n_mlp: int = 8,
                   channels: int | None = None) -> dict[str, tuple]:
    """The ``g_ema`` keys and shapes for output size ``size``, written out independently of the
    model."""
    L = int(math.log2(size))
    C = (lambda r: channels) if channels else (lambda r: table_channels(r, cm))
    keys: dict[str, tuple] = {}
    for i in range(1, n_mlp + 1):
        keys[f"style.{i}.weight"], keys[f"style.{i}.bias"] = (sd, sd), (sd,)
    c4 = C(4)
    keys["input.input"] = (1, c4, 4, 4)
    keys.update({"conv1.conv.weight": (1, c4, c4, 3, 3), "conv1.conv.modulation.weight": (c4, sd),
                 "conv1.conv.modulation.bias": (c4,), "conv1.noise.weight": (1,),
                 "conv1.activate.bias": (c4,), "to_rgb1.conv.weight": (1, 3, c4, 1, 1),
                 "to_rgb1.conv.modulation.weight": (c4, sd), "to_rgb1.conv.modulation.bias": (c4,),
                 "to_rgb1.bias": (1, 3, 1, 1)})
    for k in range(2 * (L - 2)):
        r = 2 ** (3 + k // 2)
        cin, cout = (C(r // 2) if k % 2 == 0 else C(r)), C(r)
        p = f"convs.{k}."
        keys.update({p + "conv.weight": (1, cout, cin, 3, 3), p + "conv.modulation.weight": (cin, sd),
                     p + "conv.modulation.bias": (cin,), p + "noise.weight": (1,),
                     p + "activate.bias": (cout,)})
        if k % 2 == 0:
            keys[p + "conv.blur.kernel"] = (4, 4)
    for j in range(L - 2):
        c = C(2 ** (3 + j))
        p = f"to_rgbs.{j}."
        keys.update({p + "conv.weight": (1, 3, c, 1, 1), p + "conv.modulation.weight": (c, sd),
                     p + "conv.modulation.bias": (c,), p + "bias": (1, 3, 1, 1),
                     p + "upsample.kernel": (4, 4)})
    for i in range(2 * (L - 2) + 1):
        s = 2 ** ((i + 5) // 2)
        keys[f"noises.noise_{i}"] = (1, 1, s, s)
    return keys


def test_key_table_size_256_cm2_matches_spec_example():
    keys = expected_g_ema(256)
    assert len({k.split(".")[1] for k in keys if k.startswith("convs.")}) == 12
    assert len({k.split(".")[1] for k in keys if k.startswith("to_rgbs.")}) == 6
    assert sum(k.startswith("noises.") for k in keys) == 13
    blurred = sorted(int(k.split(".")[1]) for k in keys if k.endswith("blur.kernel"))
    assert blurred == [0, 2, 4, 6, 8, 10]
    with torch.device("meta"):                 # shapes only, no memory or time
        g = StyleGAN2Generator(256, channel_multiplier=2)
    got = {k: tuple(v.shape) for k, v in g.state_dict().items()}
    assert got == keys
    assert (g.n_latent, g.num_layers) == (14, 13)


def test_channel_table_and_overrides():
    assert stylegan2_channels(1024, 2) == {r: table_channels(r, 2) for r in
                                           (4, 8, 16, 32, 64, 128, 256, 512, 1024)}
    assert stylegan2_channels(64, 1)[64] == 256
    assert set(stylegan2_channels(32, 2, channels=48).values()) == {48}
    assert stylegan2_channels(64, 2, max_channels=100) == dict.fromkeys((4, 8, 16, 32, 64), 100)
    assert stylegan2_channels(64, 2, channels={64: 16})[64] == 16
    with pytest.raises(ValueError):
        stylegan2_channels(64, 2, channels={128: 16})
    for bad in (4, 48):
        with pytest.raises(ValueError):
            StyleGAN2Generator(bad)


def _random_state(keys: dict[str, tuple], seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {k: torch.randn(shape, generator=g) for k, shape in keys.items()}


@pytest.mark.parametrize("size,channels", [(32, 32), (64, 16)])
def test_random_checkpoint_in_spec_layout_loads_strictly(tmp_path, size, channels):
    state = _random_state(expected_g_ema(size, sd=64, n_mlp=3, channels=channels), seed=size)
    path = tmp_path / "g.pt"
    torch.save({"g_ema": state, "latent_avg": torch.zeros(64)}, path)
    g = load_stylegan2(path, size, style_dim=64, n_mlp=3, channels=channels)
    loaded = g.state_dict()
    assert set(loaded) == set(state)
    assert all(torch.equal(loaded[k], state[k]) for k in state)
    assert not g.training and not any(p.requires_grad for p in g.parameters())
    img = g(torch.randn(2, 64), noise="const")
    assert img.shape == (2, 3, size, size) and torch.isfinite(img).all()


def test_strict_load_names_the_file_and_the_keys(tmp_path):
    state = _random_state(expected_g_ema(32, sd=64, n_mlp=2, channels=16), seed=1)
    state.pop("convs.1.noise.weight")
    state["convs.1.extra"] = torch.zeros(1)
    path = tmp_path / "wrong.pt"
    torch.save({"g_ema": state}, path)
    with pytest.raises(BadInputError) as err:
        load_stylegan2(path, 32, style_dim=64, n_mlp=2, channels=16)
    msg = str(err.value)
    assert "wrong.pt" in msg and "convs.1.noise.weight" in msg and "convs.1.extra" in msg
    with pytest.raises(BadInputError, match="shape"):       # a 64 px file read as 32 px
        torch.save({"g_ema": _random_state(expected_g_ema(32, sd=64, n_mlp=2, channels=8), 2)},
                   path)
        load_stylegan2(path, 32, style_dim=64, n_mlp=2, channels=16)
    torch.save({"g": state}, path)
    with pytest.raises(BadInputError, match="g_ema"):
        load_stylegan2(path, 32, style_dim=64, n_mlp=2, channels=16)
    with pytest.raises(BadInputError, match="no such file"):
        load_stylegan2(tmp_path / "absent.pt", 32)


def _upfirdn_reference(x: np.ndarray, k: np.ndarray, up: int, down: int, pad: tuple[int, int]):
    """Zero insertion, zero padding (negative crops), true 2-D convolution, decimation."""
    h, w = x.shape
    u = np.zeros((h * up, w * up))
    u[::up, ::up] = x
    p0, p1 = pad
    u = np.pad(u, ((max(p0, 0), max(p1, 0)), (max(p0, 0), max(p1, 0))))
    u = u[max(-p0, 0): u.shape[0] - max(-p1, 0), max(-p0, 0): u.shape[1] - max(-p1, 0)]
    return scipy.signal.convolve2d(u, k, mode="valid")[::down, ::down]


@pytest.mark.parametrize("up,down,pad", [(1, 1, (1, 1)), (2, 1, (2, 1)), (1, 2, (1, 1)),
                                         (2, 2, (0, -1)), (1, 1, (-1, 2))])
def test_upfirdn2d_matches_scipy(up, down, pad):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 7))
    k = rng.standard_normal((4, 4))                      # asymmetric: the flip matters
    got = upfirdn2d(torch.tensor(x), torch.tensor(k), up=up, down=down, pad=pad).numpy()
    for n in range(2):
        for c in range(3):
            np.testing.assert_allclose(got[n, c], _upfirdn_reference(x[n, c], k, up, down, pad),
                                       atol=1e-10)


def test_fused_leaky_relu_and_mapping_formula():
    x, b = torch.randn(3, 5, 2, 2), torch.randn(5)
    y = x + b.view(1, 5, 1, 1)
    ref = torch.where(y >= 0, y, 0.2 * y) * math.sqrt(2)
    torch.testing.assert_close(fused_leaky_relu(x, b), ref)

    g = StyleGAN2Generator(8, style_dim=16, n_mlp=1, channels=8,
                           generator=torch.Generator().manual_seed(0))
    lin = g.style[1]
    z = torch.randn(4, 16)
    zn = z / torch.sqrt((z ** 2).mean(1, keepdim=True) + 1e-8)
    pre = zn @ (lin.weight * 0.01 / 4).t() + lin.bias * 0.01          # lr_mul 0.01, 1/√16
    ref = torch.where(pre >= 0, pre, 0.2 * pre) * math.sqrt(2)
    torch.testing.assert_close(g.mapping(z), ref)
    assert g.convs[0].conv.blur.pad == (1, 1) and g.to_rgbs[0].upsample.pad == (2, 1)  # rosinality
    assert torch.equal(g.convs[0].conv.blur.kernel,
                       torch.outer(torch.tensor([1., 3, 3, 1]), torch.tensor([1., 3, 3, 1])) / 16)


@pytest.mark.parametrize("upsample,demodulate", [(False, True), (True, True), (False, False)])
def test_modulated_conv_matches_per_sample_reference(upsample, demodulate):
    torch.manual_seed(0)
    conv = ModulatedConv2d(4, 5, 3, style_dim=6, demodulate=demodulate, upsample=upsample)
    x, style = torch.randn(3, 4, 8, 8), torch.randn(3, 6)
    got = conv(x, style)
    blur = torch.outer(torch.tensor([1., 3, 3, 1]), torch.tensor([1., 3, 3, 1])) / 64 * 4
    for n in range(3):
        s = conv.modulation(style[n:n + 1])[0]                       # [Cin]
        wgt = conv.weight[0] * s.view(1, 4, 1, 1) / math.sqrt(4 * 9)  # [Cout, Cin, 3, 3]
        if demodulate:
            wgt = wgt / torch.sqrt((wgt ** 2).sum((1, 2, 3), keepdim=True) + 1e-8)
        if upsample:
            ref = F.conv_transpose2d(x[n:n + 1], wgt.transpose(0, 1), stride=2)
            ref = upfirdn2d(ref, blur, pad=(1, 1))
            assert ref.shape[-1] == 16
        else:
            ref = F.conv2d(x[n:n + 1], wgt, padding=1)
        torch.testing.assert_close(got[n:n + 1], ref, atol=1e-5, rtol=1e-5)


@pytest.fixture(scope="module")
def tiny_g() -> StyleGAN2Generator:
    g = StyleGAN2Generator(32, style_dim=32, n_mlp=2, channels=16,
                           generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        for name, p in g.named_parameters():
            if name.endswith("noise.weight"):
                p.fill_(0.5)               # make the noise visible (it initialises at 0)
    return g


def test_broadcast_w_noise_modes_and_seeding(tiny_g):
    g = tiny_g
    w = g.mapping(torch.randn(2, 32))
    img = g.synthesis(w)
    assert img.shape == (2, 3, 32, 32)
    torch.testing.assert_close(g.synthesis(w[:, None].expand(-1, g.n_latent, -1)), img)
    per_slot = w[:, None].repeat(1, g.n_latent, 1)
    per_slot[:, -1] += 1.0                           # the last ToRGB's slot
    assert not torch.allclose(g.synthesis(per_slot), img)
    zeros = [torch.zeros(1, 1, s, s) for s in g.noise_sides()]
    torch.testing.assert_close(g.synthesis(w, noise=zeros), img)
    a = g.synthesis(w, noise="random", generator=torch.Generator().manual_seed(5))
    b = g.synthesis(w, noise="random", generator=torch.Generator().manual_seed(5))
    c = g.synthesis(w, noise="random", generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.allclose(a, c) and not torch.allclose(a, img)
    assert not torch.allclose(g.synthesis(w, noise="const"), img)
    with pytest.raises(ValueError, match="Generator"):
        g.synthesis(w, noise="random")
    with pytest.raises(ValueError):
        g.synthesis(torch.randn(2, 31))


def test_seeded_init_is_reproducible():
    def build(seed):
        return StyleGAN2Generator(16, style_dim=8, n_mlp=1, channels=8,
                                  generator=torch.Generator().manual_seed(seed)).state_dict()
    a, b, c = build(1), build(1), build(2)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["convs.0.conv.weight"], c["convs.0.conv.weight"])
