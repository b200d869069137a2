"""Freezing a trained image generator with the record of how it was made, and checking a
rerun's first steps against that record."""
from __future__ import annotations

import json

import pytest

from vidbench.train.frozen import compare_early_log, early_log, freeze_run, read_log
from vidbench.train.image import train_image
from vidbench.train.image_config import ImageTrainConfig
from vidbench.train.image_generator import load_image_generator
from vidbench.utils.errors import BadInputError
from vidbench.utils.hashing import sha256_file

SMALL = dict(dataset="shapes:num_videos=4,length=4,resolution=32,seed=1", size=16, style_dim=16,
             n_mlp=2, channels=8, batch=4, steps=6, checkpoint_every=3, log_every=1,
             sample_grid=2, seed=3)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = tmp_path_factory.mktemp("frozen") / "run"
    train_image(ImageTrainConfig(**SMALL), path, progress=False)
    return path


def test_freeze_copies_the_generator_and_records_how_it_was_made(run, tmp_path):
    record = freeze_run(run, tmp_path / "assets", "tiny-g", command="vidbench train image ...",
                        early_steps=4)
    pt, js = tmp_path / "assets" / "tiny-g.pt", tmp_path / "assets" / "tiny-g.json"
    assert pt.read_bytes() == (run / "generator.pt").read_bytes()
    assert json.loads(js.read_text()) == record
    assert record["sha256"] == sha256_file(pt) and record["size"] == pt.stat().st_size
    assert (record["steps"], record["seed"], record["world_size"]) == (6, 3, 1)
    assert record["command"] == "vidbench train image ..."
    assert record["provenance"]["git_commit"]
    lines = read_log(run / "log.jsonl")
    assert [r["step"] for r in record["early_log"]] == [1, 2, 3, 4]
    assert record["early_log"][1]["g_loss"] == lines[1]["g_loss"]
    assert record["training_seconds"] == pytest.approx(sum(x["sec_per_step"] for x in lines),
                                                       abs=0.2)
    g = load_image_generator(pt)                     # the shipped file opens on its own
    assert g.arch.size == 16 and g.sha256 == record["sha256"]


def test_cli_freeze(run, tmp_path, capsys):
    from vidbench.cli import main

    dest = tmp_path / "shipped"
    assert main(["weights", "freeze", str(run), "g16", "--command", "vidbench train image x",
                 "--dest", str(dest), "--early-steps", "3"]) == 0
    record = json.loads((dest / "g16.json").read_text())
    assert record["command"] == "vidbench train image x" and len(record["early_log"]) == 3
    assert record["sha256"] in capsys.readouterr().out
    assert sha256_file(dest / "g16.pt") == record["sha256"]


def test_early_log_needs_every_step(run):
    lines = read_log(run / "log.jsonl")
    with pytest.raises(BadInputError, match="--log-every 1"):
        early_log(lines[::2], 4)


def test_compare_early_log_tolerates_rounding_not_drift():
    want = [{"step": 1, "d_loss": 1.5, "g_loss": 0.002, "r1": None, "real_score": -1.0,
             "fake_score": 2.0}]
    same = [dict(want[0], d_loss=1.5 * (1 + 5e-5), g_loss=0.0020004)]  # inside 1e-4 / rounding
    assert compare_early_log(want, same) == []
    drift = [dict(want[0], d_loss=1.50045)]
    assert compare_early_log(want, drift) == [
        "step 1 d_loss: 1.50045 instead of 1.5 (relative difference 3.00e-04)"]
    assert compare_early_log(want, [dict(want[0], r1=0.1)]) == ["step 1 r1: 0.1 instead of None"]
    assert compare_early_log(want, []) == ["step 1: not in the new log"]


# --- the image generator vidbench ships (models/assets/stylegan2-shapes64.*) ---------------

def _shipped():
    from vidbench.models.weights import get_spec, location

    spec = get_spec("stylegan2-shapes64")
    path = location(spec)
    return spec, path, json.loads(path.with_suffix(".json").read_text())


def test_shipped_generator_is_registered_with_its_hash_and_record():
    from vidbench.experiments.demo.pipeline import IMAGE_DATA
    from vidbench.models.weights import weight_path

    spec, path, record = _shipped()
    assert spec.shipped and weight_path(spec.name) == path       # size and sha256 checked
    assert (record["sha256"], record["size"]) == (spec.sha256, spec.size)
    assert record["file"] == path.name and path.stat().st_size < 4 << 20
    assert record["steps"] >= 5000 and record["training_seconds"] > 0
    assert record["provenance"]["git_commit"]
    assert record["command"].split()[0] in ("vidbench", "torchrun")
    assert len(record["early_log"]) == 20
    # the demo's videos are the generator's training set at another pace
    assert record["config"]["dataset"] == IMAGE_DATA
    g = load_image_generator(path)
    assert g.arch.size == 64 and g.sha256 == spec.sha256


@pytest.mark.slow
def test_recorded_command_reproduces_the_recorded_early_log(tmp_path):
    """The record's exact command, cut to 20 steps, gives the recorded losses and scores of
    those steps within 1e-4 relative (not bit equality: kernels differ between CPU families)."""
    import os
    import shlex
    import subprocess
    import sys

    _, _, record = _shipped()
    argv = shlex.split(record["command"])
    for flag, value in (("--steps", "20"), ("--out", str(tmp_path / "rerun"))):
        argv[argv.index(flag) + 1] = value
    # the same program from this interpreter: `vidbench` is `python -m vidbench`, `torchrun`
    # is `python -m torch.distributed.run`
    launcher = {"vidbench": ["-m", "vidbench"], "torchrun": ["-m", "torch.distributed.run"]}
    argv = [sys.executable, *launcher[argv[0]], *argv[1:], "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    got = early_log(read_log(tmp_path / "rerun" / "log.jsonl"), 20)
    assert compare_early_log(record["early_log"], got) == []


def test_shipped_generator_by_name_on_the_command_line(tmp_path, monkeypatch):
    """`--generator stylegan2-shapes64` opens the shipped file (hash checked); a file or folder
    of that name in the working directory is taken as given instead."""
    from vidbench.cli import build_parser, main
    from vidbench.commands.train_motion import overrides_from_args
    from vidbench.train.image_generator import generator_argument

    _, path, record = _shipped()
    monkeypatch.chdir(tmp_path)
    assert load_image_generator("stylegan2-shapes64").sha256 == record["sha256"]
    assert generator_argument("stylegan2-shapes64") == str(path)
    o = overrides_from_args(build_parser().parse_args(
        ["train", "motion", "--generator", "stylegan2-shapes64", "--out", "m"]))
    assert o["generator"] == str(path) and o["pca"] == str(tmp_path / "stylegan2-shapes64_pca")
    assert main(["pca", "--generator", "stylegan2-shapes64", "--num-samples", "64"]) == 0
    meta = json.loads((tmp_path / "stylegan2-shapes64_pca" / "pca.json").read_text())
    assert record["sha256"] in json.dumps(meta)
    (tmp_path / "stylegan2-shapes64").mkdir()             # a local folder wins over the name
    assert generator_argument("stylegan2-shapes64") == str(tmp_path / "stylegan2-shapes64")
    with pytest.raises(BadInputError, match="stylegan2-shapes64"):
        load_image_generator("stylegan2-shapes64")
