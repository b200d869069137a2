"""Every `vidbench` command in the README's shell blocks is valid as written: each parses
(every flag, choice and type exists), and those that fit a test's time run and succeed.

Each README command is either run or says why not (:data:`SMALL`, :data:`NOT_RUN`; a new
README command must be added to one of them). A command is run as written with documented
options appended that shrink it to a test's size (argparse keeps an option's last value, so
`--num-videos 64 ... --num-videos 2` samples 2): the session's chain `train image` -> `pca` ->
`train motion` -> `sample` -> `eval fvd` runs in order in an empty folder, each step reading
what the one before wrote, as a user would type it."""
from __future__ import annotations

import json
import math
import re
import shlex
from pathlib import Path

import pytest

from vidbench.cli import build_parser, main

from _weights import needs_i3d

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)


def readme_commands() -> list[str]:
    """The `vidbench ...` lines of the README's bash blocks, continued lines joined, comments
    removed (a line with `...` is a sketch, not a command)."""
    out = []
    for lang, body in FENCE.findall(README):
        if lang != "bash":
            continue
        body = re.sub(r"\\\n\s*", "", body)        # a line ending in \ goes on in the next
        for line in body.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("vidbench ") and "..." not in line:
                out.append(line)
    return out


COMMANDS = readme_commands()

# README command (by its leading words) -> documented options appended to run it small
SMALL = {
    "vidbench weights fetch i3d": [],
    "vidbench train image": ["--steps", "1", "--no-progress"],
    "vidbench pca": ["--num-samples", "256", "--preview", "2", "--no-progress"],
    "vidbench train motion": ["--steps", "1", "--no-progress"],
    "vidbench sample": ["--num-videos", "2", "--no-progress"],
    "vidbench eval fvd": ["--num-fake", "2", "--num-real", "2", "--batch-size", "2",
                          "--no-progress", "--json"],
    "vidbench run ablation --dataset shapes": ["--dry-run", "--json"],
    "vidbench table ablation": [],
}
# README command -> why it is parsed but not run here (and what runs in its place)
NOT_RUN = {
    "vidbench predict": "needs the Sky Time-lapse tree under data/sky (predict is run on "
                        "stand-in data in tests/test_predict.py)",
    "vidbench run ablation --dataset ucf101": "submits to a Slurm cluster with UCF-101 under "
                                              "/shared (tests/test_cluster.py runs the launcher "
                                              "on a one-node Slurm); its stage graph is "
                                              "planned here with the local launcher",
    "vidbench run status": "reads UCF-101 and a cluster's /shared/runs",
}


def how(command: str) -> str:
    """The SMALL or NOT_RUN key of a README command (the longest leading match)."""
    keys = [k for k in (*SMALL, *NOT_RUN) if command == k or command.startswith(k + " ")]
    assert keys, f"README command not classified in SMALL or NOT_RUN: {command}"
    return max(keys, key=len)


def small(command: str) -> list[str]:
    """The README command as written, then its small-size options (argv without `vidbench`)."""
    return shlex.split(command)[1:] + SMALL[how(command)]


def test_every_readme_command_is_run_or_says_why_not():
    used = {how(c) for c in COMMANDS}
    assert used == set(SMALL) | set(NOT_RUN), "a SMALL/NOT_RUN entry matches no README line"
    assert len([c for c in COMMANDS if how(c) in SMALL]) >= 8


def test_the_readme_has_the_session_commands():
    assert len(COMMANDS) >= 9
    assert any(c.startswith("vidbench eval fvd") for c in COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_each_readme_command_parses(command):
    args = build_parser().parse_args(shlex.split(command)[1:])  # SystemExit(2) on a bad flag
    assert callable(args.func)


def test_vidbench_table_ablation_runs_as_written(tmp_path, monkeypatch, capsys):
    assert "vidbench table ablation" in COMMANDS
    monkeypatch.chdir(tmp_path)
    assert main(["table", "ablation"]) == 0
    assert "Full-256" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


@needs_i3d
def test_vidbench_weights_fetch_i3d_runs_as_written(vidbench_home, capsys):
    assert "vidbench weights fetch i3d" in COMMANDS
    assert main(["weights", "fetch", "i3d"]) == 0   # the weights are in place: checked only
    assert "sha256" in capsys.readouterr().out


@pytest.mark.slow
@needs_i3d
def test_the_readme_fvd_command_draws_its_real_clips(vidbench_home, capsys):
    """The session's `eval fvd` with a stand-in for the trained checkpoint: the real side as
    written is drawn under mocogan-hd (planned, not computed)."""
    line = next(c for c in COMMANDS if c.startswith("vidbench eval fvd"))
    argv = shlex.split(line)[1:]
    argv[argv.index("--fake") + 1] = "shapes:num_videos=2048"  # stands in for runs/motion
    assert main([*argv, "--dry-run", "--json"]) == 0
    assert '"protocol": "mocogan-hd"' in capsys.readouterr().out


def test_the_paper_scale_slurm_run_plans_its_stage_graph(tmp_path, monkeypatch, capsys):
    """The README's Slurm command without its launcher options, as a dry run: the paper-scale
    UCF-101 plan resolves (presets, rows, cells) without the data or a cluster."""
    line = next(c for c in COMMANDS if how(c) == "vidbench run ablation --dataset ucf101")
    argv = shlex.split(line)[1:]
    keep = []
    for i, a in enumerate(argv):
        if a == "--launcher" or a.startswith("--slurm-"):
            continue
        if i and (argv[i - 1] == "--launcher" or argv[i - 1].startswith("--slurm-")):
            continue
        keep.append(a)
    assert "--launcher" in argv and "--launcher" not in keep
    monkeypatch.chdir(tmp_path)
    assert main([*keep, "--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert "ucf101" in json.dumps(plan) and "paper" in json.dumps(plan)


def test_the_tiny_ablation_plans_as_written(tmp_path, monkeypatch, capsys):
    line = next(c for c in COMMANDS if how(c) == "vidbench run ablation --dataset shapes")
    monkeypatch.chdir(tmp_path)
    assert main(small(line)) == 0
    assert "shapes" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []                 # a dry run writes nothing


@pytest.mark.slow
@needs_i3d
def test_the_session_commands_run_in_order_at_small_sizes(tmp_path, vidbench_home, monkeypatch,
                                                          capsys):
    """train image -> pca -> train motion -> sample -> eval fvd, as the README writes them
    (relative paths: runs/image, runs/motion, samples), shrunk by appended options."""
    import torch

    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(2)
    session = [c for c in COMMANDS if how(c) in ("vidbench train image", "vidbench pca",
                                                 "vidbench train motion", "vidbench sample",
                                                 "vidbench eval fvd")]
    assert [how(c) for c in session] == ["vidbench train image", "vidbench pca",
                                         "vidbench train motion", "vidbench sample",
                                         "vidbench eval fvd"]
    for command in session:
        capsys.readouterr()
        assert main(small(command)) == 0, f"{command}: {capsys.readouterr().err[-2000:]}"
    fvd = json.loads(capsys.readouterr().out)
    assert fvd["protocol"] == "mocogan-hd" and math.isfinite(fvd["value"]) and fvd["value"] > 0
    assert fvd["num_fake"] == fvd["num_real"] == 2
    assert (tmp_path / "runs" / "image" / "generator.pt").is_file()
    assert (tmp_path / "runs" / "image_pca" / "pca_comp.npy").is_file()
    assert (tmp_path / "runs" / "motion" / "modelR_latest.pth").is_file()
    assert (tmp_path / "samples" / "samples.npy").is_file()
    assert (tmp_path / "samples" / "grid_motion.png").is_file()
