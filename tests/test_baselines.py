"""Baseline adapters: tiny fake outputs in each baseline's layout, recovered exactly."""
from __future__ import annotations

import dataclasses
import io
import os
import subprocess

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from vidbench import baselines
from vidbench.baselines import dtvnet, mdgan, minmax, tganv2
from vidbench.baselines.reported import MEASURED, ORIGINS, QUOTED, REPORTED, UNSTATED, reported
from vidbench.data.base import ClipSource
from vidbench.data.clips import ClipSpec
from vidbench.data.naturalsort import natural_sorted
from vidbench.utils.errors import BadInputError, VidbenchError


def rng(seed=0):
    return np.random.default_rng(seed)


def save_png(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path)


def all_clips(source: ClipSource) -> np.ndarray:
    return np.stack([source[i] for i in range(len(source))])


# ---------------------------------------------------------------- TGANv2

def tgan_reference_uint8(x: np.ndarray) -> np.ndarray:
    """tgan2/visualizers.py generate_video, then NCTHW -> NTHWC."""
    u = np.clip(x * 128.0 + 128.0, 0, 255).astype(np.uint8)
    return u.transpose(0, 2, 3, 4, 1)


def test_tganv2_float_array(tmp_path):
    x = rng().uniform(-1, 1, (3, 3, 4, 8, 8)).astype(np.float32)
    x[0, :, 0, 0, :4] = np.array([-1.0, 0.0, 0.5, 1.0], np.float32)   # 0, 128, 192, 255
    path = tmp_path / "samples.npy"
    np.save(path, x)
    source = baselines.open_baseline_spec(f"baselines:tganv2:{path}")
    got = all_clips(source)
    assert got.shape == (3, 4, 8, 8, 3)
    np.testing.assert_array_equal(got, tgan_reference_uint8(x))
    assert list(got[0, 0, 0, :4, 0]) == [0, 128, 192, 255]   # not the (x+1)*127.5 rounding
    steps = source.meta["conversions"]
    assert {"step": "layout", "from": "NCTHW", "to": "NTHWC"} in steps
    assert any(s.get("convention") == "tgan" for s in steps)
    assert source.meta["baseline"] == "tganv2" and source.name == "tganv2:samples.npy"


def test_tganv2_npz_key_layout_and_uint8(tmp_path):
    u = rng(1).integers(0, 256, (2, 5, 6, 7, 3), dtype=np.uint8)            # NTHWC uint8
    x = rng(2).uniform(-1, 1, (2, 4, 6, 6, 3)).astype(np.float32)           # NTHWC float
    path = tmp_path / "s.npz"
    np.savez(path, fake=u, other=x)
    src = tganv2.open_baseline(str(path), layout="NTHWC", key="fake")
    np.testing.assert_array_equal(all_clips(src), u)
    assert src.meta["conversions"][-1]["convention"] == "none"
    src = baselines.open_baseline_spec(f"baselines:tganv2:{path}:layout=NTHWC,key=other")
    np.testing.assert_array_equal(all_clips(src), tgan_reference_uint8(x.transpose(0, 4, 1, 2, 3)))
    with pytest.raises(VidbenchError):
        tganv2.open_baseline(str(path))                     # two members, no key


def tgan_save_video_frames(u_ncthw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """tgan2/visualizers.py save_video's tiling (before the writer)."""
    n, c, f, h, w = u_ncthw.shape
    x = u_ncthw.reshape(rows, cols, c, f, h, w).transpose(3, 0, 4, 1, 5, 2)
    return np.ascontiguousarray(x.reshape(f, rows * h, cols * w, c))


def write_lossless_mp4(path, frames, ffmpeg):
    t, h, w, _ = frames.shape
    cmd = [ffmpeg, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{w}x{h}", "-framerate", "15", "-i", "pipe:0", "-c:v", "libx264rgb",
           "-qp", "0", "-pix_fmt", "rgb24", str(path)]
    subprocess.run(cmd, input=frames.tobytes(), check=True)


def test_tganv2_grid_video(tmp_path, ffmpeg_exe):
    u = rng(3).integers(0, 256, (6, 3, 4, 16, 16), dtype=np.uint8)        # N=6, NCTHW
    frames = tgan_save_video_frames(u, 2, 3)
    path = tmp_path / "grid.mp4"
    write_lossless_mp4(path, frames, ffmpeg_exe)
    src = baselines.open_baseline_spec(f"baselines:tganv2:{path}:rows=2,cols=3")
    assert len(src) == 6
    np.testing.assert_array_equal(all_clips(src), u.transpose(0, 2, 3, 4, 1))
    assert src.meta["grid"] == {"rows": 2, "cols": 3, "padding": 0}
    assert src.meta["caveats"] and "grid" in src.meta["caveats"][0]
    with pytest.raises(BadInputError, match="rows"):
        tganv2.open_baseline(str(path), rows=5, cols=3)     # 32 rows of pixels are not 5 tiles
    # the usual lossy mp4 (H.264 4:2:0) still gives the right tiles, approximately
    from vidbench.data.writers import write_video
    smooth = np.repeat(np.repeat(u.transpose(0, 2, 3, 4, 1)[:, :, ::4, ::4], 4, 2), 4, 3)
    lossy = tmp_path / "lossy.mp4"
    write_video(lossy, tgan_save_video_frames(smooth.transpose(0, 4, 1, 2, 3), 2, 3), crf=0)
    got = all_clips(tganv2.open_baseline(str(lossy), rows=2, cols=3)).astype(int)
    assert np.abs(got - smooth).mean() < 12


def test_tganv2_preview_png(tmp_path):
    u = rng(4).integers(0, 256, (3, 3, 5, 8, 8), dtype=np.uint8)            # NCTHW
    # tgan2/visualizers.py save_image: (N*H, F*W, C)
    image = u.transpose(0, 3, 2, 4, 1).reshape(3 * 8, 5 * 8, 3)
    path = tmp_path / "image00001000.png"
    save_png(str(path), image)
    src = tganv2.open_baseline(str(path), frames=5)
    np.testing.assert_array_equal(all_clips(src), u.transpose(0, 2, 3, 4, 1))
    with pytest.raises(BadInputError):
        tganv2.open_baseline(str(path), frames=3)


# ---------------------------------------------------------------- DTVNet

def write_dtvnet(root, epoch, side, clips, names):
    for clip, name in zip(clips, names):
        for t, frame in enumerate(clip):
            save_png(os.path.join(root, f"{epoch}_{side}", name, f"{t:04d}.png"), frame)


def test_dtvnet_clip_folders(tmp_path):
    results = tmp_path / "results"
    fake = rng(5).integers(0, 256, (3, 32, 16, 16, 3), dtype=np.uint8)
    real = rng(6).integers(0, 256, (3, 32, 16, 16, 3), dtype=np.uint8)
    names = ["07U1fSrk9oI_1_4", "0Rn5D2-kMTY_1_6", "5C9ehMEUZdI_1_4"]
    write_dtvnet(results, 200, "f", fake, names)
    write_dtvnet(results, 200, "r", real, names)
    os.makedirs(results / "200_f_v")                      # the mp4 folders are not read
    order = [names.index(n) for n in natural_sorted(names)]   # sources list videos naturally
    fake, real, names = fake[order], real[order], [names[i] for i in order]
    src = baselines.open_baseline_spec(f"baselines:dtvnet:{results}:size=16")
    np.testing.assert_array_equal(all_clips(src), fake)
    step = src.meta["conversions"][0]
    assert step["kind"] == "per-frame min-max" and step["invertible"] is False
    src_r = dtvnet.open_baseline(str(results), which="real", size=16)
    np.testing.assert_array_equal(all_clips(src_r), real)
    np.testing.assert_array_equal(all_clips(dtvnet.open_baseline(str(results / "200_f"), size=16)), fake)
    # several epochs: choose one
    write_dtvnet(results, 100, "f", fake[:1], names[:1])
    with pytest.raises(BadInputError, match="epoch="):
        dtvnet.open_baseline(str(results), size=16)
    assert len(dtvnet.open_baseline(str(results), epoch=100, size=16)) == 1
    # a clip with a missing frame is an error, or skipped and listed
    os.remove(results / "200_f" / names[1] / "0031.png")
    with pytest.raises(BadInputError, match="0031.png"):
        dtvnet.open_baseline(str(results), epoch=200, size=16)
    src = dtvnet.open_baseline(str(results), epoch=200, size=16, skip_bad=True)
    assert len(src) == 2 and len(src.skipped) == 1 and names[1] in src.skipped[0][0]
    with pytest.raises(BadInputError, match="16x16"):
        dtvnet.open_baseline(str(results), epoch=100)       # default size 128


def torchvision_06_save_image_frame(frame_uint8: np.ndarray) -> np.ndarray:
    """DTVNet's path in torch: ToTensor + Normalize(0.5, 0.5), then torchvision 0.6.1's
    make_grid(normalize=True) on one frame and save_image's rounding."""
    from torchvision import transforms

    x = transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))(
        transforms.ToTensor()(Image.fromarray(frame_uint8)))
    lo, hi = float(x.min()), float(x.max())
    x = x.clamp(min=lo, max=hi).add(-lo).div(hi - lo + 1e-5)
    return x.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8).numpy()


def test_dtvnet_normalisation_matches_torch():
    clip = rng(7).integers(20, 200, (4, 10, 12, 3), dtype=np.uint8)
    got = dtvnet.normalise_clip(clip)
    want = np.stack([torchvision_06_save_image_frame(f) for f in clip])
    np.testing.assert_array_equal(got, want)
    assert (got.reshape(4, -1).min(1) == 0).all() and (got.reshape(4, -1).max(1) == 255).all()
    # lazily as a source, with a new fingerprint
    from vidbench.data.base import ArraySource
    base = ArraySource(clip[None])
    norm = dtvnet.normalised_source(base)
    np.testing.assert_array_equal(norm[0], got)
    assert norm.fingerprint != base.fingerprint and norm.meta["conversions"][-1]["invertible"] is False


def test_current_torchvision_save_image_convention(tmp_path):
    x = rng(8).uniform(-0.7, 0.9, (3, 9, 11)).astype(np.float32)
    buf = io.BytesIO()
    torchvision.utils.save_image(torch.from_numpy(x), buf, format="png", normalize=True)
    want = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    got = minmax.save_image_minmax(x, "torchvision-current").transpose(1, 2, 0)
    np.testing.assert_array_equal(got, want)
    # torchvision 0.2 truncated instead of rounding: never above, at most one level below
    old = minmax.save_image_minmax(x, "torchvision-0.2").transpose(1, 2, 0).astype(int)
    assert (old <= want).all() and (want - old).max() == 1
    with pytest.raises(VidbenchError):
        minmax.save_image_minmax(x, "torchvision-9")


# ---------------------------------------------------------------- MDGAN

def write_mdgan(folder, which, clips, nrow=8, normalize=False):
    """test.py's writer: one save_image grid per frame (torchvision's own make_grid)."""
    n, t = clips.shape[:2]
    for k in range(t):
        frame = torch.from_numpy(clips[:, k].transpose(0, 3, 1, 2).astype(np.float32))
        frame = frame * 2 / 255 - 1 if normalize else frame / 255
        torchvision.utils.save_image(frame, os.path.join(folder, f"samples_{which}_frame_{k:03d}.png"),
                                     nrow=nrow, normalize=normalize)


def test_mdgan_per_frame_grids(tmp_path):
    clips = rng(9).integers(1, 256, (16, 5, 12, 12, 3), dtype=np.uint8)
    write_mdgan(tmp_path, "s2", clips)
    write_mdgan(tmp_path, "real", clips[::-1].copy())
    src = baselines.open_baseline_spec(f"baselines:mdgan:{tmp_path}")
    assert len(src) == 16 and src.meta["grid"]["rows"] == 2 and src.meta["grid"]["tile"] == 12
    np.testing.assert_array_equal(all_clips(src), clips)
    np.testing.assert_array_equal(all_clips(mdgan.open_baseline(str(tmp_path), which="real")),
                                  clips[::-1])
    kinds = [s["step"] for s in src.meta["conversions"]]
    assert kinds == ["normalisation", "split-grid"] and src.meta["caveats"]
    with pytest.raises(BadInputError, match="padding"):
        mdgan.open_baseline(str(tmp_path), size=4, padding=2, per_row=8)   # 12 = 4 + 2 + 4 + 2
    with pytest.raises(BadInputError, match="no samples_s1"):
        mdgan.open_baseline(str(tmp_path), which="s1")


def test_mdgan_incomplete_last_row_and_missing_frame(tmp_path):
    clips = rng(10).integers(1, 256, (10, 3, 8, 8, 3), dtype=np.uint8)
    write_mdgan(tmp_path, "s1", clips)
    src = mdgan.open_baseline(str(tmp_path), which="s1", num_clips=10)
    np.testing.assert_array_equal(all_clips(src), clips)
    assert len(mdgan.open_baseline(str(tmp_path), which="s1")) == 16   # every tile by default
    with pytest.raises(VidbenchError, match="num_clips"):
        mdgan.open_baseline(str(tmp_path), which="s1", num_clips=8)
    os.remove(tmp_path / "samples_s1_frame_001.png")
    with pytest.raises(BadInputError, match="missing"):
        mdgan.open_baseline(str(tmp_path), which="s1")


def test_mdgan_grid_normalisation_matches_torchvision(tmp_path):
    clips = rng(11).integers(30, 220, (8, 2, 6, 6, 3), dtype=np.uint8)
    write_mdgan(tmp_path, "real", clips, normalize=True)
    got = all_clips(mdgan.open_baseline(str(tmp_path), which="real"))
    np.testing.assert_array_equal(got, minmax.minmax_uint8_grid(clips, "torchvision-current"))
    # one min and one max over all clips of a frame, not per clip
    assert got[:, 0].min() == 0 and got[:, 0].max() == 255
    assert not all(c.min() == 0 for c in got[:, 0])
    old = mdgan.normalise_clips(clips)
    assert old.shape == clips.shape and np.abs(old.astype(int) - got).max() <= 1


# ---------------------------------------------------------------- registry and specs

def test_registry_and_spec_errors(tmp_path):
    assert set(baselines.BASELINES) == {"tganv2", "dtvnet", "mdgan"}
    clips = rng(12).integers(1, 256, (8, 4, 6, 6, 3), dtype=np.uint8)
    (tmp_path / "out").mkdir()
    write_mdgan(tmp_path / "out", "s2", clips)
    src = baselines.open_baseline_spec("baselines:mdgan:out:size=6", root=str(tmp_path),
                                       clip=ClipSpec(length=2, stride=2))
    np.testing.assert_array_equal(all_clips(src), clips[:, ::2])
    with pytest.raises(VidbenchError, match="unknown baseline"):
        baselines.open_baseline_spec(f"baselines:nope:{tmp_path}")
    with pytest.raises(VidbenchError, match="unknown option"):
        baselines.open_baseline_spec(f"baselines:mdgan:{tmp_path / 'out'}:colour=red")
    with pytest.raises(VidbenchError, match="needs a path"):
        baselines.open_baseline_spec("baselines:mdgan")
    assert baselines.baseline_options("dtvnet") == ["which", "epoch", "frames", "size"]


# ---------------------------------------------------------------- reported numbers

def test_reported_entries():
    (is_tganv2,) = reported("tab2-ucf101", "isv", "tganv2")
    assert (is_tganv2.value, is_tganv2.pm, is_tganv2.printed) == (26.60, 0.47, "26.60 ± .47")
    assert is_tganv2.origin == UNSTATED and is_tganv2.higher_is_better
    (fvd_ours,) = reported("tab2-ucf101", "fvd", "mocogan-hd")
    assert (fvd_ours.value, fvd_ours.pm, fvd_ours.origin) == (700.0, 24.0, MEASURED)
    (gt,) = reported("tab2-faceforensics", "fvd", "gt")
    assert gt.value == 9.02 and gt.pm is None and not gt.higher_is_better
    assert reported("tab3-sky", "psnr", "dtvnet")[0].value == 21.953
    assert reported("tab3-sky", "ssim", "up-b")[0].value == 0.781
    assert reported("tab3-sky", "fvd", "up-b") == []                   # "–" in the paper
    assert reported("tab5-ablation-ucf101", "fvd", "full-256")[0].printed == "700.00"
    assert reported("tab5-cross-domain", "acd", "full")[0].value == 0.4353
    assert [r.value for r in reported("tab7-fid")] == [45.63, 10.99, 10.80, 7.85]
    assert {r.row for r in REPORTED if r.origin == QUOTED} == {
        "VGAN", "TGAN", "MoCoGAN", "ProgressiveVGAN", "LDVD-GAN", "DVD-GAN"}
    assert len(reported("tab2-ucf101")) == 10 and len(reported("tab5-ablation-ucf101")) == 10
    with pytest.raises(dataclasses.FrozenInstanceError):
        is_tganv2.value = 1.0


def test_every_reported_entry_has_provenance():
    keys = set()
    for r in REPORTED:
        for field in ("paper", "table_id", "table", "row", "row_key", "column", "metric", "printed"):
            assert isinstance(getattr(r, field), str) and getattr(r, field), (r, field)
        assert r.origin in ORIGINS and "2104.15069" in r.paper
        head, _, tail = r.printed.partition("±")
        assert float(head) == r.value and (r.pm is None) == (not tail.strip())
        assert r.metric in {"isv", "fvd", "acd", "psnr", "ssim", "fid", "amt"}
        key = (r.table_id, r.row_key, r.column)
        assert key not in keys, key
        keys.add(key)
    assert len(REPORTED) == 52


def test_open_source_accepts_baseline_specs(tmp_path):
    """`--fake baselines:tganv2:PATH` goes through the ordinary source opener."""
    import numpy as np
    from vidbench.evaluation.sources import open_any_source as open_source

    x = np.linspace(-1, 1, 2 * 3 * 4 * 8 * 8, dtype=np.float32).reshape(2, 3, 4, 8, 8)
    np.save(tmp_path / "samples.npy", x)
    src = open_source(f"baselines:tganv2:{tmp_path / 'samples.npy'}")
    assert len(src) == 2
    expected = np.clip(x * 128 + 128, 0, 255).astype(np.uint8).transpose(0, 2, 3, 4, 1)
    np.testing.assert_array_equal(src[1], expected[1])
