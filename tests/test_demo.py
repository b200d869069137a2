"""`vidbench demo`: the context-row models, the table, the CLI, and the quick run end to end."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from _system import optional_program
from vidbench.models.motion import MotionGenerator
from vidbench.evaluation import records as R
from vidbench.cli import build_parser
from vidbench.experiments.demo.context_models import (RandomWalkMotion, random_walk_model,
                                                      untrained_model)
from vidbench.experiments.demo.output import ROW_LABELS, format_table
from vidbench.train.image_config import preset
from vidbench.sample.generate import VideoModel
from vidbench.utils.seeding import stream_seed


def test_random_walk_matches_numpy():
    rng = np.random.default_rng(0)
    d, k, n = 6, 3, 5
    comp = np.linalg.qr(rng.normal(size=(d, d)))[0][:k]
    stdev = rng.uniform(0.5, 2, k)
    w1 = rng.normal(size=(2, d))
    eps = rng.normal(size=(2, n - 1, d))
    walk = RandomWalkMotion(torch.tensor(comp), torch.tensor(stdev), sigma=0.3)
    got = walk(torch.tensor(w1, dtype=torch.float32), n,
               eps=torch.tensor(eps, dtype=torch.float32)).latents.numpy()
    want = np.empty((2, n, d))
    want[:, 0] = w1
    for t in range(1, n):               # w_t = w_{t-1} + σ Σ_k ε_k s_k c_k
        want[:, t] = want[:, t - 1] + 0.3 * (eps[:, t - 1, :k] * stdev) @ comp
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    # every step lies in the span of the PCA components
    steps = np.diff(got, axis=1).reshape(-1, d)
    np.testing.assert_allclose(steps @ comp.T @ comp, steps, atol=1e-5)
    with pytest.raises(ValueError):
        walk(torch.zeros(2, d), n, eps=torch.zeros(2, n, d))


def _model(seed=5):
    motion = MotionGenerator(8, 4, 3, generator=torch.Generator().manual_seed(seed))
    comp = torch.linalg.qr(torch.randn(8, 8, generator=torch.Generator().manual_seed(1)))[0]
    motion.set_pca(comp[:3], torch.ones(3))
    return VideoModel(image=None, motion=motion, n_frames=4,
                      info={"motion": {"file": "run/checkpoint-latest.pt"}})


def test_untrained_is_the_training_initialisation():
    trained = _model(seed=5)
    with torch.no_grad():
        for p in trained.motion.parameters():
            p.add_(1.0)                 # "training" moved every weight
    fresh = untrained_model(trained, seed=3)
    want = MotionGenerator(8, 4, 3, generator=torch.Generator().manual_seed(
        stream_seed(3, "init")))
    for (name, a), b in zip(fresh.motion.state_dict().items(), want.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)
    torch.testing.assert_close(fresh.motion.pca_comp, trained.motion.pca_comp)
    assert fresh.info["motion"]["kind"] == "untrained"
    # the trained model is left as it was
    assert not torch.equal(trained.motion.w, want.w)
    walk = random_walk_model(trained, sigma=0.2)
    assert walk.motion.latent_dim == 8 and walk.info["motion"]["sigma"] == 0.2


def test_table_has_every_row_and_the_skips(tmp_path):
    path = tmp_path / "r.jsonl"
    for i, row in enumerate(("full", "untrained", "real-vs-real")):
        rec = {"metric": "fvd", "protocol": "mocogan-hd", "value": 10.0 * i + 1.5,
               "variant": row, "experiment": "demo", "num_fake": 8, "num_real": 8}
        R.append_result(path, R.complete_record(rec))
    text = format_table(path, {"is [mocogan-hd]": "weight file 'c3d' not found"})
    lines = text.splitlines()
    # the header names the protocol and the counts it used (here 8 vs 8, not the protocol's
    # 2048 vs 2048)
    assert lines[0].split("  ")[-1].strip() == "FVD [mocogan-hd, 8 vs 8]"
    row = {line.split("  ")[0]: line.split()[-1] for line in lines[2:2 + len(ROW_LABELS)]}
    assert row[ROW_LABELS["full"]] == "1.50" and row[ROW_LABELS["untrained"]] == "11.50"
    assert row[ROW_LABELS["real-vs-real"]] == "21.50" and row[ROW_LABELS["no-eqn2"]] == "-"
    assert "skipped is [mocogan-hd]: weight file 'c3d' not found" in text
    # a row measured at other counts is a column of its own, never under the 8 vs 8 header
    rec = {"metric": "fvd", "protocol": "mocogan-hd", "value": 7.25, "variant": "no-eqn2",
           "experiment": "demo", "num_fake": 4, "num_real": 8}
    R.append_result(path, R.complete_record(rec))
    head = format_table(path, {}).splitlines()[0]
    assert "FVD [mocogan-hd, 4 vs 8]" in head and "FVD [mocogan-hd, 8 vs 8]" in head
    from vidbench.experiments.demo.output import column_label
    assert column_label("isv", "tganv2", 96, None) == "ISV [tganv2, 96]"


def test_cli_help_and_bad_arguments(capsys):
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--help"])
    assert "example:\n  vidbench demo" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--seed", "-1"])
    assert "seed must be >= 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--processes", "0"])
    assert "processes must be >= 1" in capsys.readouterr().err


@pytest.mark.slow
def test_quick_demo_end_to_end(tmp_path, vidbench_home, capsys):
    """The whole pipeline, reduced: trains, scores with the real I3D, writes every file."""
    from vidbench.cli import main
    from vidbench.report.browser import check_page, find_chromium, screenshot_page

    if not (vidbench_home / "weights" / "i3d-kinetics-400.ckpt").exists():
        pytest.skip("the real I3D weights are not installed (vidbench weights fetch i3d)")
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    for name, path in summary["files"].items():
        assert str(path) in printed, name
    # the image generator was trained with the demo's R1 weight, on the demo's data
    image_config = json.loads((out / "work" / "image" / "config.json").read_text())["config"]
    assert image_config["r1_gamma"] == summary["image_r1_gamma"] != preset("tiny").r1_gamma
    assert image_config["dataset"] == summary["data"]
    records, problems = R.read_results(out / "results.jsonl")
    assert not problems
    fvd = {r["variant"]: r for r in records if r["metric"] == "fvd"}
    assert set(fvd) == set(ROW_LABELS)
    for row, rec in fvd.items():
        assert np.isfinite(rec["value"]) and rec["value"] >= 0, row
        assert rec["num_fake"] == 16 and rec["num_real"] == 16 and rec["overrides"], row
    # weights absent here -> listed as skipped with the reason, in the table too
    for key, reason in summary["skipped"].items():
        assert f"skipped {key}: {reason}" in (out / "table.txt").read_text()
    # the pictures: 4 real + 4 generated rows of 16 frames at 64² (32² zoomed x2), padded
    grid = np.asarray(Image.open(out / "grid.png"))
    assert grid.shape == (8 * 66 + 2, 16 * 66 + 2, 3)
    with Image.open(out / "samples.gif") as gif:
        assert gif.n_frames == 16 and gif.size == (4 * 66 + 2, 2 * 66 + 2)
    # what G_M can move along: one row per PCA direction it uses, -3σ … +3σ in 9 columns
    n_pca = json.loads((out / "work" / "motion" / "full" / "config.json").read_text())
    n_pca = n_pca["motion"]["n_pca"]
    directions = np.asarray(Image.open(out / "pca_directions.png"))
    assert directions.shape == (n_pca * 66 + 2, 9 * 66 + 2, 3)
    info = json.loads((out / "pca_directions.json").read_text())
    assert [d["component"] for d in info["directions"]] == list(range(1, n_pca + 1))
    assert info["source"]["pca"]["files"]["pca_comp.npy"] == json.loads(
        (out / "work" / "pca" / "pca.json").read_text())["files"]["pca_comp.npy"]
    index = out / "report" / "index.html"
    assert index.is_file()
    if optional_program("chromium", find=lambda name: find_chromium()):  # required in CI
        assert check_page(index).ok
        shot = screenshot_page(index, tmp_path / "shot.png", height=1600)
        assert Image.open(shot).size[1] >= 1600


def test_report_without_chromium_keeps_the_earlier_screenshot(tmp_path, monkeypatch, capsys):
    """The report folder is rebuilt; without Chromium the earlier screenshot stays, and the
    summary and stderr say that no new one was taken."""
    import vidbench.report.browser as browser
    from vidbench.evaluation import records as R
    from vidbench.experiments.demo.output import write_report

    results = tmp_path / "results.jsonl"
    R.append_result(results, R.complete_record({"metric": "fvd", "protocol": "mocogan-hd",
                                                "value": 1.5, "experiment": "ablation",
                                                "variant": "full"}))
    out = tmp_path / "report"
    monkeypatch.setattr(browser, "find_chromium", lambda: None)
    files = write_report(results, out, {}, "shapes", progress=False)   # a first report
    assert "screenshot" not in files and not (out / "screenshot.png").exists()
    assert "no screenshot taken" in capsys.readouterr().err
    (out / "screenshot.png").write_bytes(b"earlier run's picture")
    (out / "stale.html").write_text("from the earlier run")
    files = write_report(results, out, {}, "shapes", progress=False)
    assert (out / "index.html").is_file() and not (out / "stale.html").exists()  # rebuilt
    assert (out / "screenshot.png").read_bytes() == b"earlier run's picture"
    assert "kept from an earlier run" in files["screenshot"]
    assert "no new screenshot taken" in capsys.readouterr().err
