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
from vidbench.models.weights import get_spec, location
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


def _fvd_line(row, runs, seeds=(0, 1, 2)):
    return R.complete_record({"metric": "fvd", "protocol": "mocogan-hd", **R.run_summary(runs),
                              "variant": row, "experiment": "ablation", "dataset": "shapes",
                              "preset": "tiny", "num_fake": 8, "num_real": 8,
                              "training_seed": 5, "sampling_seeds": list(seeds)})


def test_table_has_every_row_the_seeds_the_margins_and_the_skips(tmp_path):
    path = tmp_path / "r.jsonl"
    R.append_result(path, _fvd_line("full", [80.0, 90.0, 100.0]))
    R.append_result(path, _fvd_line("untrained", [100.0, 100.0, 125.0]))
    R.append_result(path, _fvd_line("real-vs-real", [10.0, 12.0, 14.0]))
    R.append_result(path, R.complete_record({"metric": "diversity", "protocol": "last-frame-std",
                                             "value": 0.01234, "variant": "full",
                                             "experiment": "diversity"}))
    text = format_table(path, {"is [mocogan-hd]": "weight file 'c3d' not found"})
    lines = text.splitlines()
    # the header names the protocol and the counts it used (8 vs 8, not the protocol's 2048)
    assert lines[0].startswith("FVD [mocogan-hd, 8 vs 8], fake vs real clips; training seed 5, "
                               "sampling seeds 0, 1, 2")
    assert lines[1].split() == ["row", "FVD", "mean", "±", "std", "seed", "0", "seed", "1",
                                "seed", "2", "diversity"]
    rows = {line[:27].strip(): line[27:].split() for line in lines[3:3 + len(ROW_LABELS)]}
    assert set(rows) == set(ROW_LABELS.values())
    # population std over the sampling seeds: 90 ± 8.165; 100/100/125 -> 108.33 ± 11.79
    assert rows[ROW_LABELS["full"]] == ["90.00", "±", "8.16", "80.00", "90.00", "100.00",
                                        "0.0123"]
    assert rows[ROW_LABELS["untrained"]][:3] == ["108.33", "±", "11.79"]
    assert rows[ROW_LABELS["no-eqn2"]] == ["-"] * 5
    # Full against the untrained row at each seed: 80/100 - 1, 90/100 - 1, 100/125 - 1
    assert "Full vs untrained motion generator: -20.0 %, -10.0 %, -20.0 % FVD at the " \
           "sampling seeds" in text
    assert "Full vs random walk in W" not in text            # no such row measured
    assert "skipped is [mocogan-hd]: weight file 'c3d' not found" in text
    # a row measured at other counts says so itself, never under the 8 vs 8 header
    R.append_result(path, {**_fvd_line("no-eqn2", [7.0, 7.5, 7.25]), "num_fake": 4})
    text = format_table(path, {})
    assert f"{ROW_LABELS['no-eqn2']} (4 vs 8)" in text
    assert text.splitlines()[0].startswith("FVD [mocogan-hd, 8 vs 8]")
    from vidbench.experiments.demo.output import column_label
    assert column_label("isv", "tganv2", 96, None) == "ISV [tganv2, 96]"


def test_margins_and_the_clips_shown():
    from vidbench.experiments.demo.output import margins, pick_clips
    from vidbench.metrics.clip_motion import ClipMotion

    fvd = {"full": {"runs": [50.0, 60.0]}, "untrained": {"runs": [100.0, 50.0]},
           "random-walk-w": {"runs": [200.0, 80.0]}}
    got = margins(fvd)
    assert got["untrained"] == pytest.approx([-50.0, 20.0])
    assert got["random-walk-w"] == pytest.approx([-75.0, -25.0])

    def clip(label):
        return ClipMotion(16, 16, 0, 0, 0, 0, 0, 0, 0, 0, label, (0.0,) * 8, 1, 1, 1, 1, 1.0,
                          True)

    def summary(labels, lo, hi, none=0):
        return {"labels": labels, "area": {"ratio_min": lo, "ratio_max": hi},
                "no_foreground": none}

    from vidbench.experiments.demo.output import demo_checks
    labels = {"horizontal": 3, "vertical": 0, "diagonal": 2, "circular": 1, "still": 0}
    c = demo_checks(fvd, {"full": summary(labels, 0.8, 1.3)})
    assert c["beats_context"] is False                       # +20 % against untrained at seed 1
    assert c["directions_covered"] == ["horizontal", "diagonal", "circular"]
    assert c["area_kept_by_every_clip"] is True
    good = {"full": {"runs": [50.0, 40.0]}, **{k: fvd[k] for k in ("untrained", "random-walk-w")}}
    assert demo_checks(good, {"full": summary(labels, 0.8, 1.3)})["beats_context"] is True
    assert demo_checks(good, {"full": summary(labels, 0.49, 1.3)})["area_kept_by_every_clip"] \
        is False
    assert demo_checks(good, {"full": summary(labels, 0.8, 1.3, none=1)})[
        "area_kept_by_every_clip"] is False

    labels = ["still", "vertical", "vertical", "circular", None, "horizontal", "still"]
    # the first clip of each direction in DIRECTIONS order, then the first ones left
    assert pick_clips([clip(x) for x in labels]) == [5, 1, 3, 0]
    assert pick_clips([clip(x) for x in labels], count=2) == [5, 1]
    assert pick_clips([clip("still")] * 3) == [0, 1, 2]


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
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--motion-steps", "0"])
    assert "motion-steps must be >= 1" in capsys.readouterr().err
    assert parser.parse_args(["demo", "--motion-steps", "1200"]).motion_steps == 1200


def test_train_image_path_uses_the_shipped_generators_settings(tmp_path):
    """`vidbench demo --train-image` trains from scratch with the settings the shipped
    generator was made with (its record), on the demo's data, for the demo's step count."""
    from vidbench.experiments.demo import jobs as J

    _, record = J.shipped_generator()
    data = "shapes:num_videos=4,length=8,resolution=64,seed=3"
    path = J.train_image_job(data, 2, 7, str(tmp_path / "image"), False, record["config"])
    config = json.loads((tmp_path / "image" / "config.json").read_text())["config"]
    assert (config["steps"], config["seed"], config["dataset"]) == (2, 7, data)
    same = {k for k in record["config"] if k not in ("steps", "seed", "dataset", "log_every",
                                                    "checkpoint_every")}
    assert {k: config[k] for k in same} == {k: record["config"][k] for k in same}
    assert path.endswith("generator.pt")
    args = build_parser().parse_args(["demo", "--train-image", "--quick"])
    assert args.train_image and args.quick


@pytest.mark.slow
def test_quick_demo_end_to_end(tmp_path, vidbench_home, capfd):
    """The whole pipeline, reduced: trains, scores with the real I3D, writes every file."""
    from vidbench.cli import main
    from vidbench.report.browser import check_page, find_chromium, screenshot_page

    if not (vidbench_home / "weights" / "i3d-kinetics-400.ckpt").exists():
        pytest.skip("the real I3D weights are not installed (vidbench weights fetch i3d)")
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--motion-steps", "2", "--out", str(out),
                 "--no-progress"]) == 0
    captured = capfd.readouterr()                    # the worker processes' output too
    printed = captured.out
    # 16 clips per side on purpose: the records say so, the terminal is not flooded with it
    assert "FewSamplesWarning" not in captured.err
    fvd_lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()
                 if json.loads(line)["metric"] == "fvd"]
    assert all(any("biased by the sample count" in w for w in r["warnings"]) for r in fvd_lines)
    summary = json.loads((out / "summary.json").read_text())
    for name, path in summary["files"].items():
        assert str(path) in printed, name
    # the demo starts from the shipped, pre-trained image generator: no image training
    spec = get_spec(summary["image_generator"]["weights"])
    assert spec.shipped and summary["image_generator"]["sha256"] == spec.sha256
    assert summary["files"]["image_generator"] == str(location(spec))
    assert not (out / "work" / "image").exists()
    assert set(summary["seconds"]) >= {"image_generator", "pca", "motion_and_real_stats",
                                       "evaluate", "outputs", "total"}
    records, problems = R.read_results(out / "results.jsonl")
    assert not problems
    fvd = {r["variant"]: r for r in records if r["metric"] == "fvd"}
    assert set(fvd) == set(ROW_LABELS)
    for row, rec in fvd.items():
        assert rec["num_runs"] == 3 and len(rec["runs"]) == 3, row
        assert rec["value"] == pytest.approx(np.mean(rec["runs"])) and rec["value"] >= 0, row
        assert rec["std"] == pytest.approx(np.std(rec["runs"])), row
        assert (rec["training_seed"], rec["sampling_seeds"]) == (0, [0, 1, 2]), row
        assert [x["sampling_seed"] for x in rec["by_sampling_seed"]] == [0, 1, 2], row
        assert (rec["experiment"], rec["dataset"], rec["preset"]) == ("ablation", "shapes",
                                                                      "tiny"), row
        assert rec["num_fake"] == 16 and rec["num_real"] == 16 and rec["overrides"], row
    # different sampling seeds draw different clips of the same model
    full = fvd["full"]["by_sampling_seed"]
    assert len({x["fake"]["fingerprint"] for x in full}) == 3
    assert len({x["value"] for x in full}) == 3
    div = {r["variant"]: r for r in records if r["metric"] == "diversity"}
    assert set(div) == {"full", "no-mutual-info"}
    assert all(d["num_videos"] == 4 and d["value"] >= 0 for d in div.values())
    # how each row's clips move: every clip of every sampling seed, in summary and table
    motion = summary["motion"]
    assert set(motion) == set(ROW_LABELS)
    assert all(m["num_clips"] == 3 * 16 for m in motion.values())
    table = (out / "table.txt").read_text()
    assert "motion of the clips" in table and "area kept" in table
    # weights absent here -> listed as skipped with the reason, in the table too
    for key, reason in summary["skipped"].items():
        assert f"skipped {key}: {reason}" in table
    # the pictures: 4 real + 4 generated rows of 16 frames at 64², padded
    grid = np.asarray(Image.open(out / "grid.png"))
    assert grid.shape == (8 * 66 + 2, 16 * 66 + 2, 3)
    with Image.open(out / "samples.gif") as gif:
        assert gif.n_frames == 16 and gif.size == (4 * 66 + 2, 2 * 66 + 2)
    # --motion-steps: every motion generator, Full and ablations, trained that long
    assert summary["sizes"]["motion_steps"] == 2
    for variant in ("full", "no-eqn2", "no-image-disc", "no-video-disc", "no-mutual-info"):
        log = [json.loads(x) for x in
               (out / "work" / "motion" / variant / "log.jsonl").read_text().splitlines()]
        assert [x["step"] for x in log if "event" not in x] == [1, 2]
    # what G_M can move along: one row per PCA direction it uses, -3σ … +3σ in 9 columns
    n_pca = json.loads((out / "work" / "motion" / "full" / "config.json").read_text())
    n_pca = n_pca["motion"]["n_pca"]
    directions = np.asarray(Image.open(out / "pca_directions.png"))
    assert directions.shape == (n_pca * 66 + 2, 9 * 66 + 2, 3)
    info = json.loads((out / "pca_directions.json").read_text())
    assert [d["component"] for d in info["directions"]] == list(range(1, n_pca + 1))
    assert info["source"]["pca"]["files"]["pca_comp.npy"] == json.loads(
        (out / "work" / "pca" / "pca.json").read_text())["files"]["pca_comp.npy"]
    shown = summary["shown"]["generated"]
    assert shown["sampling_seed"] == 0 and len(shown["samples"]) == 4
    index = out / "report" / "index.html"
    page = index.read_text()
    assert "FVD ↓ [mocogan-hd, shapes, tiny]" in page          # Tab. 5: measured beside paper
    assert "Diversity ↑ [last-frame-std, shapes, tiny]" in page
    assert "motion of its 48 clips" in page
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
