"""StyleGAN2 discriminator: rosinality key layout, minibatch stddev, downsampling conv layer."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.signal import convolve2d, correlate2d

from vidbench.models.stylegan2 import stylegan2_channels
from vidbench.models.stylegan2_disc import ConvLayer, StyleGAN2Discriminator, minibatch_stddev
from _weights import one_thread  # noqa: F401




def rosinality_d_layout(size: int, cm: int = 2, **kw) -> dict[str, tuple[int, ...]]:
    """Keys and shapes of rosinality's ``Discriminator(size, cm).state_dict()``, written out
    from its ``model.py`` structure (ConvLayer = Sequential[Blur?, EqualConv2d, FusedLReLU?])."""
    ch = stylegan2_channels(size, cm, **kw)
    out = {"convs.0.0.weight": (ch[size], 3, 1, 1), "convs.0.1.bias": (ch[size],)}
    in_c = ch[size]
    for j, i in enumerate(range(int(math.log2(size)), 2, -1), start=1):
        out_c = ch[2 ** (i - 1)]
        p = f"convs.{j}."
        out.update({p + "conv1.0.weight": (in_c, in_c, 3, 3), p + "conv1.1.bias": (in_c,),
                    p + "conv2.0.kernel": (4, 4), p + "conv2.1.weight": (out_c, in_c, 3, 3),
                    p + "conv2.2.bias": (out_c,), p + "skip.0.kernel": (4, 4),
                    p + "skip.1.weight": (out_c, in_c, 1, 1)})
        in_c = out_c
    c4 = ch[4]
    out.update({"final_conv.0.weight": (c4, in_c + 1, 3, 3), "final_conv.1.bias": (c4,),
                "final_linear.0.weight": (c4, c4 * 16), "final_linear.0.bias": (c4,),
                "final_linear.1.weight": (1, c4), "final_linear.1.bias": (1,)})
    return out


@pytest.mark.parametrize("size,kw", [(64, {}), (32, {"channels": 16}), (16, {"max_channels": 8})])
def test_key_layout_matches_rosinality(size, kw, tmp_path):
    layout = rosinality_d_layout(size, **kw)
    d = StyleGAN2Discriminator(size, channels=kw.get("channels"),
                               max_channels=kw.get("max_channels"),
                               generator=torch.Generator().manual_seed(0))
    own = {k: tuple(v.shape) for k, v in d.state_dict().items()}
    assert own == layout
    # A random state dict in that layout, saved as rosinality's train.py does, loads strictly.
    gen = torch.Generator().manual_seed(1)
    state = {k: torch.randn(shape, generator=gen) for k, shape in layout.items()}
    torch.save({"d": state, "args": {"size": size}}, tmp_path / "ckpt.pt")
    loaded = torch.load(tmp_path / "ckpt.pt", weights_only=True)["d"]
    d.load_state_dict(loaded, strict=True)
    assert torch.equal(d.final_linear[1].weight, state["final_linear.1.weight"])


def test_blur_kernels_and_init():
    d = StyleGAN2Discriminator(16, channels=8, generator=torch.Generator().manual_seed(0))
    taps = np.array([1, 3, 3, 1], float)
    expected = np.outer(taps, taps) / 64
    sd = d.state_dict()
    for key in ("convs.1.conv2.0.kernel", "convs.1.skip.0.kernel"):
        np.testing.assert_allclose(sd[key].numpy(), expected, rtol=0, atol=1e-7)
    assert torch.count_nonzero(sd["convs.1.conv2.2.bias"]) == 0
    again = StyleGAN2Discriminator(16, channels=8, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(v, again.state_dict()[k]) for k, v in sd.items())


def test_forward_shape_and_input_check():
    d = StyleGAN2Discriminator(32, channels=8, generator=torch.Generator().manual_seed(0))
    x = torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    assert d(x).shape == (8, 1)
    with pytest.raises(ValueError, match="3, 32, 32"):
        d(torch.zeros(2, 3, 16, 16))


def test_minibatch_stddev_against_numpy():
    x = torch.randn(8, 6, 3, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    out = minibatch_stddev(x, group_size=4).numpy()
    xn = x.numpy()
    assert out.shape == (8, 7, 3, 3)
    np.testing.assert_array_equal(out[:, :6], xn)
    m = 8 // 4
    for b in range(8):
        members = xn[b % m::m]  # samples b mod m, b mod m + m, ... form b's group
        assert len(members) == 4
        expected = np.sqrt(members.var(axis=0) + 1e-8).mean()
        np.testing.assert_allclose(out[b, 6], expected, rtol=1e-12)
    # a batch smaller than the group uses the whole batch
    small = minibatch_stddev(x[:3], group_size=4).numpy()
    np.testing.assert_allclose(small[0, 6], np.sqrt(xn[:3].var(axis=0) + 1e-8).mean(), rtol=1e-12)
    with pytest.raises(ValueError, match="not divisible"):
        minibatch_stddev(x[:6], group_size=4)


def test_downsampling_conv_layer_against_scipy():
    """Blur [1,3,3,1] (pad 2,2) then a 3x3 stride-2 equalised conv, then lrelu·√2 + bias."""
    torch.manual_seed(0)
    layer = ConvLayer(2, 3, 3, downsample=True).double()
    with torch.no_grad():
        layer[2].bias.copy_(torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64))
    x = torch.randn(1, 2, 8, 8, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    got = layer(x).detach().numpy()[0]
    taps = np.array([1, 3, 3, 1], float)
    k = np.outer(taps, taps) / 64
    w = layer[1].weight.detach().double().numpy() / math.sqrt(2 * 9)
    blurred = [convolve2d(np.pad(x.numpy()[0, c], 2), k, mode="valid") for c in range(2)]
    expected = np.zeros((3, 4, 4))
    for o in range(3):
        acc = sum(correlate2d(blurred[c], w[o, c], mode="valid") for c in range(2))[::2, ::2]
        v = acc + [0.1, -0.2, 0.3][o]
        expected[o] = np.where(v >= 0, v, 0.2 * v) * math.sqrt(2)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
