"""The PCA traversal preview: latents, the pixel-change ranking, the files and the CLI flag."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from _motion_fixtures import make_tiny_generator, one_thread  # noqa: F401 (autouse fixture)
from vidbench.cli import main
from vidbench.utils.errors import VidbenchError
from vidbench.sample.pca_preview import pca_preview, pixel_change, traversal_latents


def test_traversal_latents_hand_worked():
    w = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    comp = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    sd = torch.tensor([2.0, 0.5])
    lat = traversal_latents(w, comp, sd, span=1.0, steps=3)       # k = -1, 0, 1
    assert lat.shape == (2, 2, 3, 2)
    assert lat[0, 0].tolist() == [[-1.0, 0.0], [1.0, 0.0], [3.0, 0.0]]
    assert lat[0, 1].tolist() == [[1.0, -0.5], [1.0, 0.0], [1.0, 0.5]]
    assert lat[1, 0].tolist() == [[-2.0, 2.0], [0.0, 2.0], [2.0, 2.0]]
    assert lat[1, 1].tolist() == [[0.0, 1.5], [0.0, 2.0], [0.0, 2.5]]


@pytest.mark.parametrize("kw", [{"steps": 1}, {"span": 0.0}, {"span": -1.0}])
def test_traversal_latents_rejects_bad_arguments(kw):
    with pytest.raises(VidbenchError, match="steps >= 2 and span > 0"):
        traversal_latents(torch.zeros(1, 2), torch.eye(2), torch.ones(2), **kw)
    with pytest.raises(VidbenchError, match="components"):
        traversal_latents(torch.zeros(1, 3), torch.eye(2), torch.ones(2))


def test_pixel_change_matches_a_loop():
    rng = np.random.default_rng(0)
    clips = rng.integers(0, 256, size=(2, 3, 5, 4, 4, 3), dtype=np.uint8)
    want = []
    for c in range(3):
        diffs = [np.abs(clips[n, c, -1].astype(float) - clips[n, c, 0].astype(float)).mean()
                 for n in range(2)]
        want.append(np.mean(diffs) / 255)
    np.testing.assert_allclose(pixel_change(clips), want, rtol=1e-12)


class _Brightness:
    """An ImageGenerator whose 2x2 image is uniformly grey at level latent[0] (in [-1, 1]):
    the traversal's pixel change can be worked out by hand."""

    def sample_latents(self, n, generator):
        return torch.zeros(n, 3)

    def sample_noise(self, n, generator):
        return []

    def render(self, latents, noise="none"):
        return latents[:, :1, None, None].clamp(-1, 1).expand(-1, 3, 2, 2).contiguous()


def test_preview_files_with_a_hand_worked_renderer(tmp_path):
    comp = torch.eye(3)
    sd = torch.tensor([0.25, 1.0, 2.0])
    info = pca_preview(_Brightness(), comp, sd, tmp_path, num_components=2, contents=1,
                       span=2.0, steps=5, var_ratio=np.array([0.5, 0.3, 0.2]))
    # direction 1 moves latent[0] from -0.5 to +0.5: grey levels round(255·(x+1)/2)
    lo, hi = np.round(255 * 0.25), np.round(255 * 0.75)
    d = info["directions"]
    assert d[0]["pixel_change"] == pytest.approx((hi - lo) / 255)
    assert d[1]["pixel_change"] == 0.0                        # direction 2 leaves the image
    assert [x["stdev"] for x in d] == [0.25, 1.0] and d[1]["var_ratio"] == pytest.approx(0.3)
    png = np.asarray(Image.open(tmp_path / "preview.png"))
    assert png.shape == (2 * 4 + 2, 5 * 4 + 2, 3)               # 2 rows x 5 columns of 2+2 px
    row0 = [png[3, 3 + 4 * j, 0] for j in range(5)]            # one pixel of each column
    assert row0 == [np.round(255 * (x * 0.25 + 1) / 2) for x in (-2, -1, 0, 1, 2)]
    on_disk = json.loads((tmp_path / "preview.json").read_text())
    assert on_disk == info
    table = pd.json_normalize(on_disk, "directions")
    assert list(table["component"]) == [1, 2]
    with pytest.raises(VidbenchError, match="4 directions asked, the basis has 3"):
        pca_preview(_Brightness(), comp, sd, tmp_path, num_components=4)


def test_pca_command_preview(tmp_path, capsys):
    gen = make_tiny_generator(tmp_path / "g.pt")
    assert main(["pca", "--generator", str(gen), "--num-samples", "300", "--no-progress",
                 "--out", str(tmp_path / "p"), "--preview", "3", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["preview"] == str(tmp_path / "p" / "preview.png")
    png = np.asarray(Image.open(tmp_path / "p" / "preview.png"))
    assert png.shape == (2 * 3 * 34 + 2, 9 * 34 + 2, 3)        # 2 contents x 3 directions
    info = json.loads((tmp_path / "p" / "preview.json").read_text())
    pca_meta = json.loads((tmp_path / "p" / "pca.json").read_text())
    assert info["source"]["pca"]["files"] == pca_meta["files"]
    assert info["source"]["generator"]["sha256"] == pca_meta["generator"]["sha256"]
    assert {"git_commit", "versions", "device"} <= set(info)
    ratios = np.load(tmp_path / "p" / "pca_var_ratio.npy")
    assert [x["var_ratio"] for x in info["directions"]] == pytest.approx(ratios[:3].tolist())
    assert all(x["pixel_change"] > 0 for x in info["directions"])
    # the middle column (k = 0) is the content code itself, rendered without noise
    from vidbench.train.image_generator import load_image_generator
    from vidbench.sample.generate import to_clips
    adapter = load_image_generator(gen).adapter
    with torch.no_grad():
        w = adapter.sample_latents(2, torch.Generator().manual_seed(0))
        own = to_clips(adapter.render(w, noise="none")[:, None])[:, 0]
    for content in range(2):
        for c in range(3):
            top, left = 2 + (3 * content + c) * 34, 2 + 4 * 34
            assert np.array_equal(png[top:top + 32, left:left + 32], own[content])
    assert main(["pca", "--generator", str(gen), "--num-samples", "300", "--no-progress",
                 "--out", str(tmp_path / "q")]) == 0
    assert not (tmp_path / "q" / "preview.png").exists()
    assert main(["pca", "--generator", str(gen), "--num-samples", "300", "--no-progress",
                 "--out", str(tmp_path / "r"), "--preview", "65"]) == 2
    assert "65 directions asked, the basis has 64" in capsys.readouterr().err
