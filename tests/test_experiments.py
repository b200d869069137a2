"""Experiments as data, cells and their content keys, sharding, dry runs, the motion-diversity
metric, the tables' experiment families, and `vidbench run` end to end on `shapes` (tiny)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from vidbench.baselines.reported import reported
from vidbench.evaluation import records as R
from vidbench.cli import main
from vidbench.utils.errors import VidbenchError
from vidbench.experiments import experiment_spec, run_ablation, run_experiment, scale_with
from vidbench.experiments.cells import parse_shard, plan_cells, shard_cells
from vidbench.experiments.diversity import diversity_from_clips, motion_diversity
from vidbench.report.tables import build_table, render
from _weights import needs_i3d, one_thread  # noqa: F401

# Small enough for a CPU test: a few image-training steps, one motion step, 4 clips a side.
FAST = {"image.steps": 4, "image.checkpoint_every": 4, "motion.steps": 1, "num_fake": 4,
        "num_real": 4, "is_samples": 4, "is_runs": 1, "pca_samples": 500,
        "inversion.steps": 3, "predict.limit": 2, "diversity_videos": 3}






# --- specs ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,dataset,table_id", [
    ("ablation", "ucf101", "tab5-ablation-ucf101"), ("cross-domain", "voxceleb",
                                                     "tab5-cross-domain"),
    ("benchmark", "ucf101", "tab2-ucf101"), ("benchmark", "faceforensics", "tab2-faceforensics"),
    ("benchmark", "sky", "tab3-sky"), ("prediction", "sky", "tab3-sky")])
def test_spec_rows_are_the_papers_rows(name, dataset, table_id):
    spec = experiment_spec(name, dataset)
    paper_rows = {r.row_key for r in reported(table_id)}
    assert {r.key for r in spec.rows} <= paper_rows
    if name == "prediction":
        assert "up-b" in paper_rows


def test_spec_contents():
    ablation = experiment_spec("ablation", "shapes")
    assert [r.key for r in ablation.rows] == ["no-eqn2", "no-image-disc", "no-video-disc",
                                              "full-128", "full-256"]
    assert ablation.row("full-128").image == "low" and ablation.row("full-256").image == "high"
    assert [(m.metric, m.protocol) for m in ablation.metrics] == [("is", "mocogan-hd"),
                                                                 ("fvd", "mocogan-hd")]
    ff = experiment_spec("benchmark", "faceforensics")
    assert [r.key for r in ff.rows] == ["gt", "mocogan-hd"] and ff.rows[0].kind == "gt"
    assert [m.metric for m in ff.metrics] == ["fvd", "acd"]
    cross = experiment_spec("cross-domain", "shapes")
    assert cross.mode == "cross-domain" and "diversity" in [m.metric for m in cross.metrics]
    bench = experiment_spec("benchmark", "shapes", rows=("tganv2",),
                            methods={"tganv2": "baselines:tganv2:x.npy"}, seeds=(1, 2))
    assert [(r.key, r.kind, r.source) for r in bench.rows] == [
        ("tganv2", "source", "baselines:tganv2:x.npy")] and bench.seeds == (1, 2)
    with pytest.raises(VidbenchError, match="unknown experiment"):
        experiment_spec("tab9", "shapes")
    with pytest.raises(VidbenchError, match="unknown row"):
        experiment_spec("ablation", "shapes", rows=("full-512",))
    with pytest.raises(VidbenchError, match="belong to `run benchmark`"):
        experiment_spec("ablation", "shapes", methods={"x": "shapes"})


def test_scale_overrides():
    s = scale_with("tiny", {"motion.steps": 3, "image.steps": 5, "num_fake": 8, "size.low": 8,
                            "inversion.steps": 2})
    assert s.motion["steps"] == 3 and s.image["steps"] == 5 and s.num_fake == 8
    assert s.image_sizes == {"high": 32, "low": 8} and s.inversion["perceptual"] == "none"
    assert scale_with("tiny").motion == {}              # the registered scale is untouched
    with pytest.raises(VidbenchError, match="unknown experiment setting 'num_fakes'"):
        scale_with("tiny", {"num_fakes": 3})
    with pytest.raises(VidbenchError, match="unknown preset"):
        scale_with("huge")


# --- cells and keys ---------------------------------------------------------------------------

def test_cells_configs_and_keys(tmp_path):
    spec = experiment_spec("ablation", "shapes")
    cells = plan_cells(spec, "shapes", scale_with("tiny"), work=tmp_path)
    by_row = {c.row.key: c for c in cells}
    assert by_row["no-eqn2"].motion.motion.residual is False
    assert by_row["no-image-disc"].motion.loss.image_disc is False
    assert by_row["no-video-disc"].motion.loss.video_disc is False
    assert by_row["full-128"].motion.disc.frame_size == 16
    assert by_row["full-128"].image.config.size == 16 and by_row["full-256"].image.config.size == 32
    # one image generator per slot, shared by the rows that use it
    assert len({c.image.key for c in cells}) == 2
    assert by_row["no-eqn2"].image.key == by_row["full-256"].image.key
    # every result line and every model has its own key; the same plan gives the same keys
    keys = [r.key for c in cells for r in c.results]
    assert len(set(keys)) == len(keys) == 10
    again = plan_cells(spec, "shapes", scale_with("tiny"), work=tmp_path / "elsewhere")
    assert [r.key for c in again for r in c.results] == keys          # paths are not content
    assert [c.model_key for c in again] == [c.model_key for c in cells]
    # a training setting changes the model and result keys, not the image generator's
    more = plan_cells(spec, "shapes", scale_with("tiny", {"motion.steps": 7}), work=tmp_path)
    assert all(a.model_key != b.model_key for a, b in zip(cells, more))
    assert [c.image.key for c in more] == [c.image.key for c in cells]
    # an evaluation count changes the result keys only
    fewer = plan_cells(spec, "shapes", scale_with("tiny", {"num_fake": 8}), work=tmp_path)
    assert [c.model_key for c in fewer] == [c.model_key for c in cells]
    assert [r.key for c in fewer for r in c.results if r.metric == "fvd"] != \
        [r.key for c in cells for r in c.results if r.metric == "fvd"]
    # another data set changes everything
    other = plan_cells(spec, "shapes:num_videos=16,length=40,resolution=32", scale_with("tiny"),
                       work=tmp_path)
    assert other[0].image.key != cells[0].image.key and other[0].dataset == "shapes"


def test_cross_domain_and_gt_cells(tmp_path):
    cross = plan_cells(experiment_spec("cross-domain", "shapes"), "shapes", scale_with("tiny"),
                       work=tmp_path)
    assert all(c.motion.mode == "cross-domain" for c in cross)
    assert cross[0].image.config.dataset.endswith("motion=still")       # the other domain
    assert {r.metric for r in cross[0].results} == {"acd", "diversity"}
    with pytest.raises(VidbenchError, match="--generator high=FILE"):
        plan_cells(experiment_spec("cross-domain", "voxceleb"), "voxceleb", scale_with("tiny"),
                   work=tmp_path, root=str(tmp_path))
    gt = plan_cells(experiment_spec("benchmark", "shapes", rows=("mocogan-hd",)),
                    "shapes", scale_with("tiny"), work=tmp_path)
    assert gt[0].row.kind == "train"
    prediction = plan_cells(experiment_spec("prediction", "shapes"), "shapes",
                            scale_with("tiny"), work=tmp_path)
    assert [(r.row, r.metric) for r in prediction[0].results] == [
        ("mocogan-hd", "psnr"), ("mocogan-hd", "ssim"), ("up-b", "psnr"), ("up-b", "ssim")]


def test_shards_cover_every_cell_once():
    cells = list(range(11))
    shards = [shard_cells(cells, (i, 4)) for i in range(4)]
    assert sorted(c for s in shards for c in s) == cells
    assert shards[1] == [1, 5, 9]
    assert parse_shard("2/3") == (2, 3)
    for bad in ("3/3", "1", "a/b", "-1/2", "0/0"):
        with pytest.raises(VidbenchError, match="--shard"):
            parse_shard(bad)


def test_dry_run_prints_cells_configs_keys(tmp_path, capsys, vidbench_home):
    work, store = tmp_path / "work", tmp_path / "results.jsonl"
    code = main(["run", "ablation", "--dataset", "shapes", "--work", str(work), "--results",
                 str(store), "--shard", "1/2", "--dry-run", "--set", "motion.steps=2"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["num_cells"] == 5 and report["num_in_shard"] == 2
    assert [c["row"] for c in report["cells"]] == ["no-image-disc", "full-128"]
    cell = report["cells"][0]
    assert cell["status"] == "todo" and cell["motion"]["config"]["steps"] == 2
    assert cell["motion"]["config"]["loss"]["image_disc"] is False
    assert len(cell["key"]) == 64 and all(len(r["key"]) == 64 for r in cell["results"])
    assert set(cell["fvd_real_stats_cache_keys"]) == {"mocogan-hd"}
    assert not work.exists() and not store.exists()             # nothing computed or written


# --- motion diversity -------------------------------------------------------------------------

def test_diversity_from_clips_matches_numpy():
    rng = np.random.default_rng(0)
    clips = rng.integers(0, 256, (5, 3, 4, 6, 3), dtype=np.uint8)
    clips[:, 0] = clips[0, 0]                                 # a shared first frame
    out = diversity_from_clips(clips)
    x = clips.astype(np.float64) / 255
    expected_last = np.sqrt(((x[:, -1] - x[:, -1].mean(0)) ** 2).mean(0)).mean()
    assert out["value"] == pytest.approx(expected_last, rel=1e-12)
    assert out["per_frame"][0] == 0.0 and out["num_videos"] == 5 and out["num_frames"] == 3
    assert out["mean_frame_spatial_std"] == pytest.approx(x[:, -1].mean(0).std(), rel=1e-12)
    # hand-worked: two one-pixel videos ending at 0 and 255 -> std 0.5 in every channel
    two = np.zeros((2, 2, 1, 1, 3), np.uint8)
    two[1, 1] = 255
    assert diversity_from_clips(two)["value"] == 0.5
    with pytest.raises(VidbenchError, match="N >= 2"):
        diversity_from_clips(clips[:1])


def test_motion_diversity_of_a_model(tmp_path):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _motion_fixtures import make_tiny_setup
    from vidbench.models.motion import MotionGenerator
    from vidbench.train.image_generator import load_image_generator
    from vidbench.train.pca import load_pca
    from vidbench.sample.generate import VideoModel

    gen, pca_dir = make_tiny_setup(tmp_path, num_samples=500)
    image = load_image_generator(gen).adapter
    basis = load_pca(pca_dir)
    motion = MotionGenerator(image.latent_dim, 32, 8, generator=torch.Generator().manual_seed(1))
    motion.set_pca(basis.components, basis.stdev, mean=basis.mean)
    model = VideoModel(image, motion.eval(), 4, {"test": "tiny"})
    rec = motion_diversity(model, num_videos=3, seed=5, progress=False)
    assert rec["metric"] == "diversity" and rec["protocol"] == "last-frame-std"
    assert rec["per_frame"][0] == 0.0            # every video starts from the same w_1
    assert rec["value"] > 0 and rec["num_frames"] == 4
    assert motion_diversity(model, num_videos=3, seed=5, progress=False)["value"] == rec["value"]
    assert R.validate_record({k: v for k, v in rec.items()}) == []


# --- tables of experiment families ------------------------------------------------------------

PROV = {"git_commit": "abc", "git_dirty": False, "versions": {}, "device": "cpu",
        "timestamp": "2024-01-01T00:00:00+00:00"}


def _line(experiment, dataset, row_field, row, metric, protocol, value, **extra):
    return {"experiment": experiment, "dataset": dataset, row_field: row, "metric": metric,
            "protocol": protocol, "value": value, **PROV, **extra}


def test_tables_show_family_lines_per_dataset(tmp_path, capsys):
    store = tmp_path / "results" / "ablation.jsonl"
    fvd = {"num_fake": 4, "num_real": 4, "overrides": {"num_fake": 4, "num_real": 4},
           "protocol_fields": {"fake": {"num": 2048}, "real": {"num": 2048}}}
    for line in (_line("ablation", "shapes", "variant", "full-256", "fvd", "mocogan-hd", 812.5,
                       **fvd),
                 _line("ablation", "ucf101", "variant", "full-256", "fvd", "mocogan-hd", 701.0),
                 _line("benchmark", "shapes", "method", "mocogan-hd", "fvd", "mocogan-hd", 9.5),
                 _line("benchmark", "faceforensics", "method", "gt", "fvd", "mocogan-hd", 8.0),
                 _line("prediction", "shapes", "method", "up-b", "psnr", "wang", 21.5,
                       num_videos=2, num_frames=1)):
        R.append_result(store, line)
    records, _ = R.read_results(store)
    table = build_table("ablation", records)
    labels = [c.label for c in table.columns]
    assert labels == ["IS ↑ (paper)", "FVD ↓ (paper)", "FVD ↓ [mocogan-hd]",
                      "FVD ↓ [mocogan-hd, shapes]"]
    assert table.cell("full-256", 2).value == 701.0 and table.cell("full-256", 3).value == 812.5
    text = render(table, "md")
    assert "FVD ↓ [mocogan-hd, shapes]: protocol mocogan-hd, 4 fake / 4 real clips " \
           "(protocol: 2048 / 2048)" in text
    only = build_table("ablation", records, dataset="shapes")
    assert [c.dataset for c in only.columns if c.protocol] == ["shapes"]
    # a benchmark on shapes shows in the Tab. 2 tables, one on faceforensics only in its own
    ucf = build_table("fvd", records)
    assert ucf.cell("mocogan-hd", [c.label for c in ucf.columns].index(
        "FVD ↓ [mocogan-hd, shapes]")).value == 9.5
    assert "gt" not in dict(ucf.rows)
    ff = build_table("acd", records)
    assert ff.cell("gt", [c.label for c in ff.columns].index("FVD ↓ [mocogan-hd]")).value == 8.0
    sky = build_table("prediction", records)
    assert sky.cell("up-b", [c.label for c in sky.columns].index(
        "PSNR ↑ [wang, shapes]")).value == 21.5
    latex = render(table, "latex")
    assert latex.startswith("\\begin{table}") and "Full-256 & 33.95 † & 700.00 †" in latex
    assert latex.rstrip().endswith("\\end{table}") and "\\footnotesize" in latex
    # the CLI prints the table and writes no file; CSV values are numbers, marks a column
    assert main(["table", "ablation", "--results", str(store.parent), "--dataset", "shapes",
                 "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert not (store.parent / "tables").exists()
    assert "812.5,measured, counts overridden" in out.replace('"', "")


# --- end to end -------------------------------------------------------------------------------

@pytest.mark.slow
@needs_i3d
def test_run_ablation_then_table_then_rerun(tmp_path, vidbench_home, capsys):
    """The issue's flow at test size: `run ablation --dataset shapes --preset tiny` trains both
    image generators, five motion variants, scores FVD (IS is skipped: no C3D weights here),
    `table ablation` shows the five measured rows; a re-run computes nothing new."""
    work, store = tmp_path / "work", tmp_path / "results" / "ablation.jsonl"
    report = run_ablation("shapes", preset="tiny", settings=FAST, work_dir=work, results=store,
                          progress=False, log=lambda msg: None)
    assert report["appended"] == 5
    for cell in report["cells"]:
        status = {m["metric"]: m for m in cell["metrics"]}
        assert status["fvd"]["status"] == "ok" and status["fvd"]["overrides"] == {
            "num_fake": 4, "num_real": 4}
        assert status["is"]["status"] == "skipped" and "conv3d_deepnetA_ucf.npz" in \
            status["is"]["reason"]
        saved = json.loads((work / "cells" / f"{cell['key'][:16]}.json").read_text())
        assert saved["metrics"][0]["status"] == "skipped"          # recorded with its reason
    records, problems = R.read_results(store)
    assert problems == [] and len(records) == 5
    assert {r["variant"] for r in records} == {"no-eqn2", "no-image-disc", "no-video-disc",
                                              "full-128", "full-256"}
    assert all(r["experiment"] == "ablation" and r["dataset"] == "shapes" and
               r["metric"] == "fvd" and np.isfinite(r["value"]) for r in records)
    built = {c["cell"].split("/")[2]: c["built"] for c in report["cells"]}
    assert built["full-128"]["image"]["reused"] is False and built["full-256"]["image"][
        "reused"] is True                                          # trained once per slot
    assert main(["table", "ablation", "--results", str(store.parent), "--no-save"]) == 0
    table = capsys.readouterr().out
    assert "FVD ↓ [mocogan-hd, shapes, tiny]" in table      # a reduced preset says so
    for label in ("w/o Eqn. 2", "w/o D_I", "w/o D_V", "Full-128", "Full-256"):
        row = next(line for line in table.splitlines() if line.startswith(label))
        assert row.rstrip().endswith("‡")                           # measured, counts overridden

    again = run_ablation("shapes", preset="tiny", settings=FAST, work_dir=work, results=store,
                         progress=False, log=lambda msg: None)
    assert again["appended"] == 0 and len(R.read_results(store)[0]) == 5
    assert all(m["metric"] == "is" for c in again["cells"] for m in c["metrics"])
    assert all(all(b["reused"] for b in c["built"].values()) for c in again["cells"])

    # prediction reuses the Full-256 motion generator (same config, same key)
    pred = run_experiment("prediction", "shapes", settings=FAST, work_dir=work,
                          results=tmp_path / "results" / "prediction.jsonl", progress=False,
                          log=lambda msg: None)
    assert pred["cells"][0]["built"]["motion"]["key"] == built["full-256"]["motion"]["key"]
    assert pred["cells"][0]["built"]["motion"]["reused"] is True
    lines, _ = R.read_results(tmp_path / "results" / "prediction.jsonl")
    assert sorted((r["method"], r["metric"]) for r in lines) == [
        ("mocogan-hd", "psnr"), ("mocogan-hd", "ssim"), ("up-b", "psnr"), ("up-b", "ssim")]
    assert all(r["num_videos"] == 2 for r in lines)


@pytest.mark.slow
@needs_i3d
def test_benchmark_of_given_clips_with_is(tmp_path, vidbench_home):
    """A benchmark row from given clips (no training): FVD and IS (stand-in C3D files in the
    published format) both run, and the lines land in `table fvd`."""
    from vidbench.experiments.regress.standin_weights import write_c3d, write_c3d_mean

    write_c3d(vidbench_home / "weights" / "conv3d_deepnetA_ucf.npz")
    write_c3d_mean(vidbench_home / "weights" / "mean2.npz")
    store = tmp_path / "bench.jsonl"
    clips = "shapes:num_videos=8,length=40,resolution=32,seed=3"
    report = run_experiment("benchmark", "shapes", settings=FAST, rows=("other",),
                            methods={"other": clips}, work_dir=tmp_path / "w", results=store,
                            progress=False, log=lambda msg: None)
    assert [m["status"] for m in report["cells"][0]["metrics"]] == ["ok", "ok"]
    records, _ = R.read_results(store)
    isv = next(r for r in records if r["metric"] == "isv")
    assert isv["num_samples"] == 4 and 1.0 <= isv["value"] <= 101.0
    assert next(r for r in records if r["metric"] == "fvd")["fake"]["spec"] == clips
    table = build_table("fvd", records)
    assert {c.label for c in table.columns} >= {"IS ↑ [mocogan-hd, shapes, tiny]",
                                                "FVD ↓ [mocogan-hd, shapes, tiny]"}
    assert not (tmp_path / "w" / "motion").exists()                 # nothing trained
    assert os.environ["VIDBENCH_HOME"] == str(vidbench_home)


def test_prediction_clips_keep_the_cells_own_options():
    """A spec with options predicts held-out clips of the same look, not the default set."""
    from types import SimpleNamespace

    from vidbench.data.sources import open_source, parse_spec
    from vidbench.experiments.scoring import prediction_clips

    tiny = scale_with("tiny")
    default = SimpleNamespace(dataset="shapes", data_spec=tiny.data_spec("shapes"))
    assert prediction_clips(default, tiny) == tiny.test_data["shapes"]
    own = SimpleNamespace(dataset="shapes", data_spec="shapes:num_videos=64,length=40,"
                          "resolution=32,scale=2,colour=white,background=black,seed=0")
    spec = prediction_clips(own, tiny)
    head, options = parse_spec(spec)
    assert head == "shapes"
    assert options == {**parse_spec(own.data_spec)[1], **parse_spec(tiny.test_data["shapes"])[1]}
    assert (options["num_videos"], options["seed"], options["scale"]) == (8, 1, 2)
    frame = open_source(spec)[0][0].astype(int)   # white shapes on black, as asked: all grey
    assert frame.max() > 200 and (frame == frame[..., :1]).all()
    coloured = open_source(tiny.test_data["shapes"])[0][0].astype(int)
    assert not (coloured == coloured[..., :1]).all()
    unknown = SimpleNamespace(dataset="ucf101", data_spec="ucf101:fold=1")
    assert prediction_clips(unknown, tiny) == "ucf101:fold=1"
