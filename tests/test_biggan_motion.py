"""BigGAN as MoCoGAN-HD's image generator, end to end (paper §3): a small random generator
saved as BigGAN-PyTorch's ``G_ema.pth`` with its ``biggan.json``; `vidbench pca`, `train
motion` and `sample` open it through the same door as StyleGAN2; the sampled frames are the
BigGAN's own forward pass on the walked z with the configured class; wrong files are refused
by key."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from _motion_fixtures import make_tiny_generator, one_thread  # noqa: F401 (autouse fixture)
from vidbench.cli import main
from vidbench.data.convert import to_uint8
from vidbench.models.biggan import BigGANGenerator
from vidbench.sample.generate import draw_inputs, generate_videos, load_video_model
from vidbench.train.checkpoint import read_export
from vidbench.train.image_generator import load_image_generator
from vidbench.utils.errors import BadInputError

# A BigGAN-PyTorch run's settings (its option names): 32², G_ch 4, shared embedding of 3
# classes, hierarchical z, self-attention at 16² — every part of the layout appears.
CONFIG = {"resolution": 32, "n_classes": 3, "G_ch": 4, "dim_z": 20, "G_shared": True,
          "shared_dim": 6, "hier": True, "G_attn": "16", "BN_eps": 1e-5, "SN_eps": 1e-6,
          "num_G_SVs": 1, "num_G_SV_itrs": 1, "class_index": 2}


def biggan_pytorch_keys(cfg: dict) -> dict[str, tuple]:
    """``Generator(**cfg).state_dict()`` shapes of ajbrock/BigGAN-PyTorch (``G_param='SN'``,
    ``norm_style='bn'``; with or without ``G_shared`` and ``hier``), written out from its
    ``BigGAN.py``/``layers.py`` independently of vidbench's module."""
    ch, res = cfg["G_ch"], cfg["resolution"]
    assert res == 32                                   # G_arch[32]: 3 blocks of 4·ch channels
    ins, outs, block_res = [4 * ch] * 3, [4 * ch] * 3, [8, 16, 32]
    chunk = cfg["dim_z"] // (len(ins) + 1) if cfg["hier"] else cfg["dim_z"]
    shared_dim = cfg["shared_dim"] or cfg["dim_z"]
    cond = shared_dim + (chunk if cfg["hier"] else 0)
    attn = [int(r) for r in cfg["G_attn"].split("_")]
    keys: dict[str, tuple] = {}
    if cfg["G_shared"]:
        keys["shared.weight"] = (cfg["n_classes"], shared_dim)

    def sn(prefix, shape, bias=True):
        keys[prefix + ".weight"] = shape
        if bias:
            keys[prefix + ".bias"] = (shape[0],)
        keys[prefix + ".u0"], keys[prefix + ".sv0"] = (1, shape[0]), (1,)

    sn("linear", (ins[0] * 16, chunk))
    for i, (cin, cout, r) in enumerate(zip(ins, outs, block_res)):
        p = f"blocks.{i}.0."
        sn(p + "conv1", (cout, cin, 3, 3))
        sn(p + "conv2", (cout, cout, 3, 3))
        sn(p + "conv_sc", (cout, cin, 1, 1))
        for bn, c in (("bn1", cin), ("bn2", cout)):
            if cfg["G_shared"]:
                sn(p + bn + ".gain", (c, cond), bias=False)
                sn(p + bn + ".bias", (c, cond), bias=False)
            else:                                      # nn.Embedding(n_classes, c)
                keys[p + bn + ".gain.weight"] = keys[p + bn + ".bias.weight"] = \
                    (cfg["n_classes"], c)
            keys[p + bn + ".stored_mean"] = keys[p + bn + ".stored_var"] = (c,)
        if r in attn:
            p = f"blocks.{i}.1."
            for name, shape in (("theta", (cout // 8, cout, 1, 1)), ("phi", (cout // 8, cout, 1, 1)),
                                ("g", (cout // 2, cout, 1, 1)), ("o", (cout, cout // 2, 1, 1))):
                sn(p + name, shape, bias=False)
            keys[p + "gamma"] = ()
    for name in ("gain", "bias", "stored_mean", "stored_var"):
        keys[f"output_layer.0.{name}"] = (outs[-1],)
    sn("output_layer.2", (3, outs[-1], 3, 3))
    return keys


def random_state(cfg: dict, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    state = {k: torch.randn(s, generator=g) for k, s in biggan_pytorch_keys(cfg).items()}
    for k in state:
        if k.endswith("stored_var"):
            state[k] = state[k].abs() + 0.5
    return state


def reference_generator(state: dict[str, torch.Tensor]) -> BigGANGenerator:
    g = BigGANGenerator(32, 4, 20, n_classes=3, shared=True, shared_dim=6, hier=True,
                        attention=(16,), bn_eps=1e-5, sn_eps=1e-6)
    g.load_state_dict(state, strict=True)
    return g.eval()


@pytest.fixture(scope="module")
def biggan_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("biggan")
    torch.save(random_state(CONFIG), folder / "G_ema.pth")    # as train.py's save_weights
    (folder / "biggan.json").write_text(json.dumps(CONFIG))
    return folder


@pytest.fixture(scope="module")
def trained(biggan_dir):
    """`vidbench pca` and `vidbench train motion` (2 iterations) on the BigGAN file."""
    gen = biggan_dir / "G_ema.pth"
    assert main(["pca", "--generator", str(gen), "--num-samples", "400", "--batch-size", "150",
                 "--no-progress"]) == 0
    run = biggan_dir / "run"
    assert main(["train", "motion", "--generator", str(gen), "--preset", "tiny",
                 "--dataset", "shapes:num_videos=4,length=12,resolution=32", "--steps", "2",
                 "--batch-size", "2", "--set", "data.n_frames=4", "--set", "g_steps=1",
                 "--set", "motion.n_pca=8", "--set", "motion.hidden_dim=16", "--out", str(run),
                 "--no-progress", "--threads", "1"]) == 0
    return gen, biggan_dir / "G_ema_pca", run


def test_pca_and_training_walk_z_of_the_biggan(trained):
    gen, pca_dir, run = trained
    meta = json.loads((pca_dir / "pca.json").read_text())
    assert meta["space"] == "z" and meta["latent_dim"] == 20
    assert meta["generator"]["kind"] == "biggan" and meta["generator"]["config"]["n_classes"] == 3
    # z ~ N(0, I): the PCA of 400 draws has variances near 1 (W of a StyleGAN2 would not)
    stdev = np.load(pca_dir / "pca_stdev.npy")
    assert stdev.shape == (20,) and 0.7 < stdev.min() < stdev.max() < 1.4
    _, export = read_export(run / "modelR_latest.pth")
    assert export["step"] == 2 and export["constructor"]["latent_dim"] == 20
    recorded = export["image_generator"]
    assert recorded["kind"] == "biggan" and recorded["config"] == {**CONFIG}
    assert recorded["config_file"] == str(gen.parent / "biggan.json")


def test_sample_renders_the_walked_z_with_biggans_own_forward_pass(trained, tmp_path):
    gen, _, run = trained
    out = tmp_path / "samples"
    assert main(["sample", "--checkpoint", str(run), "--num-videos", "2", "--num-frames", "3",
                 "--out", str(out), "--no-progress"]) == 0
    clips = np.load(out / "samples.npy")
    assert clips.shape == (2, 3, 32, 32, 3)
    model = load_video_model(run)
    _, latents = generate_videos(model, [0, 1], n_frames=3, return_latents=True)
    for i in range(2):                   # each walk starts at the sample's own z ~ N(0, I)
        assert torch.equal(latents[i, 0], draw_inputs(model, 0, i, 3)[0][0])
    assert (latents[:, 1:] - latents[:, :1]).abs().amax() > 0        # and moves
    ref = reference_generator(torch.load(gen, weights_only=True))
    with torch.no_grad():
        classes = torch.full((3,), CONFIG["class_index"])
        frames = torch.stack([ref(latents[i], ref.shared(classes)) for i in range(2)])
        other = torch.stack([ref(latents[i], ref.shared(torch.zeros(3, dtype=torch.long)))
                             for i in range(2)])
    want = to_uint8(frames.permute(0, 1, 3, 4, 2), "round").numpy()
    assert np.abs(clips.astype(int) - want.astype(int)).max() <= 1
    assert (clips == want).mean() > 0.99
    wrong_class = to_uint8(other.permute(0, 1, 3, 4, 2), "round").numpy()
    assert np.abs(clips.astype(int) - wrong_class.astype(int)).max() > 10   # the class matters
    assert clips[:, 0].std() > 5 and np.abs(np.diff(clips.astype(int), axis=1)).max() > 0


def test_sample_refuses_changed_biggan_settings(trained, tmp_path):
    _, _, run = trained
    changed = tmp_path / "other.json"
    changed.write_text(json.dumps({**CONFIG, "SN_eps": 1e-8}))
    with pytest.raises(BadInputError, match="SN_eps"):
        load_video_model(run, generator_config=str(changed))


def test_wrong_files_and_configs_are_refused_by_name(biggan_dir, tmp_path, capsys):
    state = random_state(CONFIG, seed=1)
    renamed = dict(state)
    renamed["blocks.1.0.conv_one.weight"] = renamed.pop("blocks.1.0.conv1.weight")
    folder = tmp_path / "renamed"
    folder.mkdir()
    torch.save(renamed, folder / "G.pth")
    (folder / "biggan.json").write_text(json.dumps(CONFIG))
    with pytest.raises(BadInputError) as err:
        load_image_generator(folder / "G.pth")
    msg = str(err.value)
    assert "blocks.1.0.conv1.weight" in msg and "blocks.1.0.conv_one.weight" in msg
    assert "G.pth or G_ema.pth" in msg and str(folder / "G.pth") in msg
    # the same refusal on the command line: exit 2, the key named, no traceback
    assert main(["pca", "--generator", str(folder / "G.pth"), "--num-samples", "10",
                 "--no-progress"]) == 2
    cli_err = capsys.readouterr().err
    assert "blocks.1.0.conv_one.weight" in cli_err and "Traceback" not in cli_err

    gen = biggan_dir / "G_ema.pth"
    wrong_dim = tmp_path / "dim.json"            # dim_z 24: z chunks of 6, not 5
    wrong_dim.write_text(json.dumps({**CONFIG, "dim_z": 24}))
    with pytest.raises(BadInputError, match=r"shape mismatches \(file != model\): "
                                            r"blocks\.0\.0\.bn1\.bias\.weight \(16, 11\) != "
                                            r"\(16, 12\)"):
        load_image_generator(gen, config=wrong_dim)
    no_attn = {**CONFIG, "G_attn": "0"}
    with pytest.raises(BadInputError, match=r"13 unexpected keys: blocks\.1\.1\.g\.sv0"):
        load_image_generator(gen, config=no_attn)
    with pytest.raises(BadInputError, match="unknown BigGAN config key.*G_chan"):
        load_image_generator(gen, config={**CONFIG, "G_chan": 4})
    with pytest.raises(BadInputError, match="G_param 'SVD' is not supported"):
        load_image_generator(gen, config={**CONFIG, "G_param": "SVD"})
    with pytest.raises(BadInputError, match="class_index 3"):
        load_image_generator(gen, config={**CONFIG, "class_index": 3})

    bare = tmp_path / "bare"
    bare.mkdir()
    torch.save(state, bare / "G_ema.pth")        # no biggan.json beside it
    with pytest.raises(BadInputError, match="biggan.json beside it, or pass --generator-config"):
        load_image_generator(bare / "G_ema.pth")
    disc = {"linear.weight": torch.zeros(1, 4), "embed.weight": torch.zeros(3, 4),
            "blocks.0.0.conv1.weight": torch.zeros(4, 3, 3, 3)}
    torch.save(disc, bare / "D.pth")
    with pytest.raises(BadInputError, match="discriminator.*give the generator G_ema.pth"):
        load_image_generator(bare / "D.pth")
    torch.save({"state": {}, "param_groups": []}, bare / "G_optim.pth")
    with pytest.raises(BadInputError, match="optimiser state"):
        load_image_generator(bare / "G_optim.pth")
    sg = make_tiny_generator(tmp_path / "sg.pt")
    with pytest.raises(BadInputError, match="StyleGAN2 checkpoint; a BigGAN config"):
        load_image_generator(sg, config=CONFIG)
    assert load_image_generator(sg).kind == "stylegan2"     # recognised without a config


@pytest.mark.parametrize("shared,hier", [(False, False), (True, False)])
def test_other_biggan_pytorch_layouts_load_and_condition_on_the_class(tmp_path, shared, hier):
    """train.py's own defaults (no G_shared, no hier: per-layer class embeddings) and a shared
    embedding with a flat z: strict load from the independent key list, class matters."""
    cfg = {**CONFIG, "G_shared": shared, "hier": hier, "shared_dim": 0, "class_index": 1}
    state = random_state(cfg, seed=3)
    torch.save(state, tmp_path / "G.pth")
    loaded = load_image_generator(tmp_path / "G.pth", config=cfg)
    assert loaded.kind == "biggan" and loaded.adapter.latent_dim == 20
    g = loaded.adapter.g
    assert {k: tuple(v.shape) for k, v in g.state_dict().items()} == biggan_pytorch_keys(cfg)
    z = torch.randn(2, 20, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        img = loaded.adapter.render(z)
        ones = torch.ones(2, dtype=torch.long)
        assert torch.equal(img, g(z, g.shared(ones) if shared else ones))
        assert not torch.allclose(img, g(z, g.class_input(torch.zeros(2, dtype=torch.long))))
    assert img.shape == (2, 3, 32, 32) and img.abs().max() <= 1
    with pytest.raises(BadInputError, match="hier without G_shared"):
        load_image_generator(tmp_path / "G.pth", config={**cfg, "G_shared": False, "hier": True})
