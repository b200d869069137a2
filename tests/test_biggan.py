"""Unconditional BigGAN generator: BigGAN-PyTorch state-dict layout, strict loading, its own
spectral norm (u0/sv0 buffers), conditional batch norm and hierarchical z."""
from __future__ import annotations

import pytest
import torch

from vidbench.models.biggan import BigGANGenerator, ConditionalBN, SNLinear, load_biggan
from vidbench.models.generator_api import BigGANAdapter
from vidbench.utils.errors import BadInputError

# BigGAN-PyTorch G_arch channel multipliers (in, out) per resolution.
G_ARCH = {32: ([4, 4, 4], [4, 4, 4]), 64: ([16, 16, 8, 4], [16, 8, 4, 2]),
          128: ([16, 16, 8, 4, 2], [16, 8, 4, 2, 1])}


def expected_keys(res: int, ch: int, dim_z: int, bw: int = 4) -> dict[str, tuple]:
    """G.state_dict() of BigGAN-PyTorch's Generator (SN, hier, no attention, no embedding)."""
    ins, outs = ([ch * m for m in ms] for ms in G_ARCH[res])
    chunk = dim_z // (len(ins) + 1)
    keys: dict[str, tuple] = {}

    def sn(prefix, weight_shape, bias=True):
        keys[prefix + ".weight"] = weight_shape
        if bias:
            keys[prefix + ".bias"] = (weight_shape[0],)
        keys[prefix + ".u0"], keys[prefix + ".sv0"] = (1, weight_shape[0]), (1,)

    sn("linear", (ins[0] * bw * bw, chunk))
    for i, (cin, cout) in enumerate(zip(ins, outs)):
        p = f"blocks.{i}.0."
        sn(p + "conv1", (cout, cin, 3, 3))
        sn(p + "conv2", (cout, cout, 3, 3))
        sn(p + "conv_sc", (cout, cin, 1, 1))
        for bn, c in (("bn1", cin), ("bn2", cout)):
            sn(p + bn + ".gain", (c, chunk), bias=False)
            sn(p + bn + ".bias", (c, chunk), bias=False)
            keys[p + bn + ".stored_mean"] = keys[p + bn + ".stored_var"] = (c,)
    c = outs[-1]
    for name in ("gain", "bias", "stored_mean", "stored_var"):
        keys[f"output_layer.0.{name}"] = (c,)
    sn("output_layer.2", (3, c, 3, 3))
    return keys


def test_paper_size_layout_shapes():
    with torch.device("meta"):
        g = BigGANGenerator(128, ch=96, dim_z=120)
    assert {k: tuple(v.shape) for k, v in g.state_dict().items()} == expected_keys(128, 96, 120)
    assert (g.num_slots, g.z_chunk, g.dim_z) == (6, 20, 120)


@pytest.mark.parametrize("res,ch,dim_z", [(32, 4, 40), (64, 2, 50)])
def test_random_state_dict_in_layout_loads_strictly(tmp_path, res, ch, dim_z):
    gen = torch.Generator().manual_seed(res)
    state = {k: torch.randn(s, generator=gen) for k, s in expected_keys(res, ch, dim_z).items()}
    for k in state:
        if k.endswith("stored_var"):
            state[k] = state[k].abs() + 0.5
    plain, nested = tmp_path / "G.pth", tmp_path / "nested.pth"
    torch.save(state, plain)
    torch.save({"G": state}, nested)
    for path, key in ((plain, None), (nested, "G")):
        g = load_biggan(path, res, ch, dim_z, key=key)
        assert all(torch.equal(g.state_dict()[k], v) for k, v in state.items())
        assert not g.training
        z = torch.randn(3, g.dim_z, generator=gen)
        img = g(z)
        assert img.shape == (3, 3, res, res) and img.abs().max() <= 1
        assert torch.equal(g.state_dict()["linear.u0"], state["linear.u0"])  # eval: u kept
    state["shared.weight"] = torch.zeros(1, 128)
    del state["blocks.0.0.bn1.gain.u0"]
    torch.save(state, plain)
    with pytest.raises(BadInputError) as err:
        load_biggan(plain, res, ch, dim_z)
    assert "G.pth" in str(err.value) and "shared.weight" in str(err.value)
    assert "blocks.0.0.bn1.gain.u0" in str(err.value)


def test_sn_power_iteration_converges_to_top_singular_value():
    torch.manual_seed(0)
    lin = SNLinear(7, 5)
    sigma = torch.linalg.matrix_norm(lin.weight.detach(), ord=2)
    u_before = lin.u0.clone()
    lin.eval()
    lin(torch.randn(2, 7))
    assert torch.equal(lin.u0, u_before) and lin.sv0.item() == 1.0     # eval: nothing stored
    lin.train()
    for _ in range(200):
        lin(torch.randn(2, 7))
    assert lin.sv0.item() == pytest.approx(sigma.item(), rel=1e-4)
    w_sn = lin.normalized_weight()
    assert torch.linalg.matrix_norm(w_sn.detach(), ord=2).item() == pytest.approx(1.0, rel=1e-4)
    x = torch.randn(4, 7)
    torch.testing.assert_close(lin(x), x @ (lin.weight / sigma).t() + lin.bias, rtol=1e-4,
                               atol=1e-5)


def test_conditional_bn_eval_formula():
    bn = ConditionalBN(3, 2, eps=1e-5).eval()
    with torch.no_grad():
        bn.stored_mean.copy_(torch.tensor([0.5, -1.0, 2.0]))
        bn.stored_var.copy_(torch.tensor([4.0, 1.0, 0.25]))
    x, y = torch.randn(2, 3, 2, 2), torch.randn(2, 2)
    gain = 1 + y @ bn.gain.normalized_weight().t()
    bias = y @ bn.bias.normalized_weight().t()
    norm = (x - bn.stored_mean.view(1, 3, 1, 1)) / torch.sqrt(bn.stored_var.view(1, 3, 1, 1) + 1e-5)
    ref = norm * gain.view(2, 3, 1, 1) + bias.view(2, 3, 1, 1)
    torch.testing.assert_close(bn(x, y), ref)


def test_hierarchical_z_and_adapter():
    g = BigGANGenerator(32, ch=4, dim_z=41, generator=torch.Generator().manual_seed(0)).eval()
    assert (g.num_slots, g.z_chunk, g.dim_z) == (4, 10, 40)            # rounded down
    z = torch.randn(2, 40)
    base = g(z)
    for slot in range(4):                                               # every chunk is used
        z2 = z.clone()
        z2[:, slot * 10:(slot + 1) * 10] += 1.0
        assert not torch.allclose(g(z2), base)
    with pytest.raises(ValueError):
        g(torch.randn(2, 41))
    ad = BigGANAdapter(g)
    lat = ad.sample_latents(3, torch.Generator().manual_seed(1))
    assert lat.shape == (3, 40) and ad.sample_noise(3, torch.Generator()) == []
    torch.testing.assert_close(ad.render(lat), g(lat))
    assert (ad.latent_dim, ad.resolution) == (40, 32)
    with pytest.raises(ValueError):
        BigGANGenerator(48)


def test_orthogonal_init_is_seeded():
    a = BigGANGenerator(32, ch=2, dim_z=20, generator=torch.Generator().manual_seed(4))
    b = BigGANGenerator(32, ch=2, dim_z=20, generator=torch.Generator().manual_seed(4))
    sa, sb = a.state_dict(), b.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    w = sa["blocks.0.0.conv1.weight"].flatten(1)                        # 8 x 72: rows orthonormal
    torch.testing.assert_close(w @ w.t(), torch.eye(8), atol=1e-5, rtol=0)
