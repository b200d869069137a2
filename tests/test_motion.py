"""Motion generator G_M (docs/official-code.md, *Motion generator*): official state-dict keys,
initialisation, the forward pass against a hand-written LSTM loop, the residual bound, the
ablation, MI loss."""
from __future__ import annotations

import pytest
import torch

from vidbench.models.motion import MotionGenerator, load_motion_generator, mi_loss
from vidbench.models.state_io import load_strict
from vidbench.utils.errors import BadInputError

OFFICIAL_MODELR = {  # official modelR keys, n_pca = 384
    "enc_cell.weight_ih": (1536, 512), "enc_cell.weight_hh": (1536, 384),
    "enc_cell.bias_ih": (1536,), "enc_cell.bias_hh": (1536,),
    "cell.weight_ih": (1536, 512), "cell.weight_hh": (1536, 384),
    "cell.bias_ih": (1536,), "cell.bias_hh": (1536,),
    "w": (384, 384), "b": (384,), "fc1.weight": (512, 768), "fc1.bias": (512,),
    "fc2.weight": (512, 512), "fc2.bias": (512,),
}


def _pca(d: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    comp = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))[0].T.float()
    stdev = torch.sort(torch.rand(d, generator=g) + 0.1, descending=True).values
    return comp, stdev, torch.randn(d, generator=g)


def test_state_dict_equals_official_modelR_and_loads(tmp_path):
    m = MotionGenerator(generator=torch.Generator().manual_seed(0))
    assert {k: tuple(v.shape) for k, v in m.state_dict().items()} == OFFICIAL_MODELR
    assert {"pca_comp", "pca_stdev", "pca_mean"} <= {n for n, _ in m.named_buffers()}
    state = {k: torch.randn(s) for k, s in OFFICIAL_MODELR.items()}
    load_strict(m, state, tmp_path / "modelR_epoch_0.pth", "modelR")
    assert torch.equal(m.w, state["w"])
    path = tmp_path / "modelR_latest.pth"
    small = {k: v for k, v in MotionGenerator(16, 12, 8).state_dict().items()}
    torch.save(small, path)
    comp, stdev, _ = _pca(16)
    loaded = load_motion_generator(path, comp, stdev)
    assert (loaded.latent_dim, loaded.hidden_dim, loaded.n_pca) == (16, 12, 8)
    assert loaded(torch.randn(2, 16), 3, generator=torch.Generator()).latents.shape == (2, 3, 16)
    small["pca_comp"] = comp                        # an extra key is refused
    torch.save(small, path)
    with pytest.raises(BadInputError, match="pca_comp"):
        load_motion_generator(path, comp, stdev)


def test_initialisation_follows_spec():
    m = MotionGenerator(generator=torch.Generator().manual_seed(1))
    for cell in (m.enc_cell, m.cell):
        for weight in (cell.weight_ih, cell.weight_hh):
            for gate in weight.detach().split(384):                 # rows orthonormal per gate
                torch.testing.assert_close(gate @ gate.t(), torch.eye(384), atol=1e-4, rtol=0)
            assert not torch.allclose(weight[:384] @ weight[384:768].t(), torch.zeros(384, 384),
                                      atol=1e-3)                    # blocks drawn separately
        assert cell.bias_ih.abs().max() == 0 and cell.bias_hh.abs().max() == 0
    fc1 = m.fc1.weight.detach()                                     # 512 x 768
    torch.testing.assert_close(fc1 @ fc1.t(), torch.eye(512), atol=1e-4, rtol=0)
    assert m.fc1.bias.abs().max() <= 768 ** -0.5 and m.fc1.bias.abs().max() > 0
    assert m.w.std().item() == pytest.approx(0.02, rel=0.02) and m.b.abs().max() == 0
    again = MotionGenerator(generator=torch.Generator().manual_seed(1)).state_dict()
    assert all(torch.equal(v, again[k]) for k, v in m.state_dict().items())


def _reference_forward(m: MotionGenerator, w1, eps, lam, residual=True):
    """Eqns. 1-3 with the LSTM equations written out (gate order i, f, g, o)."""
    def lstm(cell, x, h, c):
        gates = x @ cell.weight_ih.t() + cell.bias_ih + h @ cell.weight_hh.t() + cell.bias_hh
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c

    zeros = torch.zeros(w1.shape[0], m.hidden_dim)
    h, c = lstm(m.enc_cell, w1, zeros, zeros)
    basis = m.pca_comp * m.pca_stdev[:, None]
    ws, rec = [w1], []
    for t in range(eps.shape[1]):
        h, c = lstm(m.cell, eps[:, t], h, c)
        if residual:
            ws.append(ws[-1] + lam * torch.tanh(h @ m.w + m.b) @ basis)
        else:
            ws.append(m.pca_mean + (h @ m.w + m.b) @ basis)
        rec.append(m.fc2(torch.relu(m.fc1(torch.cat([h, c], 1)))))
    return torch.stack(ws, 1), torch.stack(rec, 1)


@pytest.mark.parametrize("residual", [True, False])
def test_forward_matches_hand_written_loop(residual):
    m = MotionGenerator(12, 10, 6, residual_scale=0.3, residual=residual,
                        generator=torch.Generator().manual_seed(2))
    comp, stdev, mean = _pca(12)
    m.set_pca(comp, stdev, mean=mean)
    w1, eps = torch.randn(3, 12), torch.randn(3, 7, 12)
    out = m(w1, 8, eps=eps)
    ref_w, ref_rec = _reference_forward(m, w1, eps, 0.3, residual)
    assert out.latents.shape == (3, 8, 12) and out.eps_hat.shape == (3, 7, 12)
    torch.testing.assert_close(out.latents, ref_w)
    torch.testing.assert_close(out.eps_hat, ref_rec)
    assert torch.equal(out.eps, eps) and torch.equal(out.latents[:, 0], w1)
    assert [k for k in m.state_dict()] == [k for k in MotionGenerator(12, 10, 6).state_dict()]


def test_residual_step_is_bounded_along_each_component():
    m = MotionGenerator(16, 8, 5, generator=torch.Generator().manual_seed(3))
    comp, stdev, _ = _pca(16)
    m.set_pca(comp, stdev)
    with torch.no_grad():
        m.w.mul_(500.0)                                   # saturate tanh
    lat = m(torch.randn(4, 16), 6, generator=torch.Generator().manual_seed(0)).latents
    coords = (lat[:, 1:] - lat[:, :-1]) @ comp.t()       # step along every component
    assert (coords[..., :5].abs() <= 0.2 * stdev[:5] * (1 + 1e-4)).all()
    assert coords[..., :5].abs().max() > 0.19 * stdev[:5].min()
    assert coords[..., 5:].abs().max() < 1e-4           # unused components do not move


def test_noise_seeding_flattening_and_errors():
    m = MotionGenerator(8, 6, 4, generator=torch.Generator().manual_seed(4))
    with pytest.raises(RuntimeError, match="set_pca"):
        m(torch.randn(2, 8), 3, generator=torch.Generator())
    comp, stdev, _ = _pca(8)
    m.set_pca(comp, stdev)
    w1 = torch.randn(2, 8)
    a = m(w1, 5, generator=torch.Generator().manual_seed(9))
    b = m(w1, 5, generator=torch.Generator().manual_seed(9))
    c = m(w1, 5, generator=torch.Generator().manual_seed(10))
    assert torch.equal(a.latents, b.latents) and not torch.allclose(a.latents, c.latents)
    flat = MotionGenerator.flatten(a.latents)
    assert torch.equal(flat[4], a.latents[0, 4]) and torch.equal(flat[5], a.latents[1, 0])
    assert m(w1, 1, generator=torch.Generator()).latents.shape == (2, 1, 8)
    with pytest.raises(ValueError, match="Generator"):
        m(w1, 5)
    with pytest.raises(ValueError):
        m(w1, 5, eps=torch.randn(2, 5, 8))
    with pytest.raises(ValueError):
        m.set_pca(comp[:3], stdev)
    ablation = MotionGenerator(8, 6, 4, residual=False)
    ablation.set_pca(comp, stdev)
    with pytest.raises(RuntimeError, match="mean"):
        ablation(w1, 3, generator=torch.Generator())


def test_mi_loss_hand_cases_and_gradient_to_the_head():
    eps = torch.tensor([[[1.0, 0.0], [0.0, 2.0]]])
    assert mi_loss(eps, eps).item() == pytest.approx(-1.0)
    assert mi_loss(-eps, eps).item() == pytest.approx(1.0)
    hat = torch.tensor([[[0.0, 3.0], [1.0, 1.0]]])          # cos 0 and 1/√2
    assert mi_loss(hat, eps).item() == pytest.approx(-(0 + 2 ** -0.5) / 2)
    m = MotionGenerator(8, 6, 4, generator=torch.Generator().manual_seed(5))
    comp, stdev, _ = _pca(8)
    m.set_pca(comp, stdev)
    out = m(torch.randn(2, 8), 4, generator=torch.Generator().manual_seed(0))
    mi_loss(out.eps_hat, out.eps).backward()
    assert m.fc2.weight.grad.abs().sum() > 0 and m.cell.weight_ih.grad.abs().sum() > 0
    assert m.w.grad is None or m.w.grad.abs().sum() == 0    # A only feeds the trajectory
