"""The command-line convention (docs/cli.md): help shows each default once, every positional
has help, ``--json`` is honoured, a closed pipe is quiet, ``vidbench table`` writes no file
unless told, CSV tables are numeric, and errors say what to type instead."""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys

import pandas as pd
import pytest

import vidbench
from vidbench.cli import build_parser, main


def _parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, path + (name,))


PARSERS = list(_parsers(build_parser()))


def test_every_subcommand_is_checked():
    names = {" ".join(p) for p, _ in PARSERS}
    assert {"eval fvd", "ref export", "ref import", "table", "regress", "demo"} <= names


@pytest.mark.parametrize("path, parser", PARSERS, ids=[" ".join(p) or "vidbench" for p, _ in PARSERS])
def test_help_shows_defaults_once_and_every_positional_has_help(path, parser):
    where = f"vidbench {' '.join(path)}"
    formatter = parser._get_formatter()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
            continue
        if not action.option_strings:
            assert action.help, f"{where}: positional {action.metavar or action.dest} has no help"
        shown = formatter._get_help_string(action) or ""
        assert shown.replace("%(default)s", "").count("(default") <= 1, \
            f"{where} {action.option_strings}: {shown}"
        if action.required or action.default is None:
            assert "%(default)s" not in shown, f"{where} {action.option_strings}"
    assert "(default: None)" not in " ".join(parser.format_help().split())


def test_the_demo_workers_default_is_printed_once():
    demo = dict(PARSERS)[("demo",)]
    flat = " ".join(demo.format_help().split())
    assert "(default 2) (default: 2)" not in flat and "(default 2)" in flat


@pytest.mark.parametrize("metric", ["fvd", "is", "acd", "psnr-ssim", "all"])
def test_list_protocols_honours_json(metric, capsys):
    assert main(["eval", metric, "--list-protocols", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    if metric == "fvd":
        assert data["tf-reference"]["ddof"] == 1 and "mocogan-hd" in data
    if metric == "all":
        assert set(data) == {"protocol_sets", "fvd", "is", "acd", "psnr-ssim"}


def test_a_closed_pipe_is_quiet():
    # stdout is a pipe whose reader has gone: every write fails with EPIPE
    code = ("import os, sys\n"
            "r, w = os.pipe(); os.close(r); os.dup2(w, 1)\n"
            "from vidbench.cli import main\n"
            "sys.exit(main(['eval', 'all', '--list-protocols']))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr, proc.stderr
    assert proc.returncode == 141


def test_table_prints_and_writes_no_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["table", "fvd"]) == 0
    assert "†" in capsys.readouterr().out
    assert main(["table", "ablation", "--format", "csv"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert df["FVD ↓ (paper)"].dtype == float and df["IS ↑ (paper)"].dtype == float
    assert set(df["FVD ↓ (paper) mark"]) == {"reported"}
    assert list(tmp_path.iterdir()) == []
    assert main(["table", "ablation", "--format", "json", "--out", "t.json"]) == 0
    rows = json.loads((tmp_path / "t.json").read_text())["rows"]
    assert isinstance(rows[0]["cells"][0]["value"], float)
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]


def test_deprecated_table_flags_still_work(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["table", "ablation", "--no-save"]) == 0
    assert "--no-save is deprecated" in capsys.readouterr().err
    assert main(["table", "ablation", "--save-dir", "kept"]) == 0
    assert "--save-dir is deprecated" in capsys.readouterr().err
    assert (tmp_path / "kept" / "ablation.txt").is_file()


def test_a_clip_too_long_for_its_source_names_the_fix(capsys):
    code = main(["eval", "fvd", "--fake", "shapes:num_videos=4,length=16,resolution=32",
                 "--real", "shapes:num_videos=4,length=16,resolution=32", "--dry-run",
                 "--num-fake", "2", "--num-real", "2"])
    err = capsys.readouterr().err
    assert code == 2 and "the clip spec needs 31" in err
    assert "shapes:length=31" in err and "--list-protocols" in err


def test_version_is_the_package_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"vidbench {vidbench.__version__}"
    from importlib.metadata import version

    assert version("vidbench") == vidbench.__version__


@pytest.mark.parametrize("argv, old, dest, value", [
    (["predict", "--checkpoint", "c", "--out", "o"], ["--data", "sky"], "data", "sky"),
    (["sample", "--checkpoint", "c", "--out", "o", "--num-videos", "2"], ["--frames", "4"],
     "frames", 4),
    (["train", "image", "--dataset", "shapes", "--out", "o"], ["--batch", "4"], "batch", 4),
    (["report", "--out", "o"], ["--quiet"], "quiet", True),
    (["demo"], ["--workers", "3"], "processes", 3),
    (["ref", "compute", "--dataset", "shapes"], ["--num", "5"], "num_real", 5),
    (["ref", "export", "shapes", "f.npz"], ["--num", "5"], "num_real", 5),
])
def test_renamed_flags_keep_their_old_spelling_with_a_warning(argv, old, dest, value, capsys):
    new = {"--data": "--dataset", "--frames": "--num-frames", "--batch": "--batch-size",
           "--quiet": "--no-progress", "--workers": "--processes", "--num": "--num-real"}[old[0]]
    args = build_parser().parse_args(argv + [new, *old[1:]])
    assert getattr(args, dest) == value and capsys.readouterr().err == ""
    args = build_parser().parse_args(argv + old)
    assert getattr(args, dest) == value
    err = capsys.readouterr().err
    assert f"{old[0]} is deprecated" in err and f"use {new}" in err
    path = tuple(argv[:2]) if argv[0] in ("train", "ref") else tuple(argv[:1])
    assert f"{old[0]} " not in dict(PARSERS)[path].format_help()  # hidden from the help


def test_predict_without_a_dataset_says_which_flag(capsys):
    assert main(["predict", "--checkpoint", "c", "--out", "o"]) == 2
    assert "predict needs --dataset SRC" in capsys.readouterr().err


def test_regress_progress_is_on_unless_no_progress(capsys):
    parse = build_parser().parse_args
    assert parse(["regress"]).progress is True
    assert parse(["regress", "--no-progress"]).progress is False
    assert capsys.readouterr().err == ""
    assert parse(["regress", "--progress"]).progress is True
    err = capsys.readouterr().err
    assert "--progress is deprecated" in err and "use --no-progress" in err
    assert "--progress " not in dict(PARSERS)[("regress",)].format_help().replace(
        "--no-progress", "")


def test_workers_means_dataloader_workers_everywhere():
    """`--workers` is DataLoader workers (eval, ref, train motion); the demo's worker processes
    are `--processes` (its `--workers` is a hidden deprecated alias)."""
    for path, parser in PARSERS:
        shown = {o: a for a in parser._actions if a.help != argparse.SUPPRESS
                 for o in a.option_strings}
        if "--workers" in shown:
            assert "DataLoader" in shown["--workers"].help, path
        assert "--progress" not in shown and "--quiet" not in shown, path
    assert "--processes" in dict(PARSERS)[("demo",)].format_help()


SOURCE_COMMANDS = [(["data", "inspect"], "shapes"), (["data", "motion"], "shapes"),
                   (["ref", "compute"], "shapes")]


@pytest.mark.parametrize("command, spec", SOURCE_COMMANDS,
                         ids=[" ".join(c) for c, _ in SOURCE_COMMANDS])
def test_the_source_is_dataset_and_the_old_positional_warns(command, spec, capsys):
    parse = build_parser().parse_args
    assert parse([*command, "--dataset", spec]).dataset == spec
    assert capsys.readouterr().err == ""
    assert parse([*command, spec]).dataset == spec                   # the old form still works
    err = capsys.readouterr().err
    assert "is deprecated" in err and f"use --dataset {spec}" in err
    help_text = dict(PARSERS)[tuple(command)].format_help()
    assert "--dataset SRC" in help_text and "deprecated_dataset" not in help_text
    with pytest.raises(SystemExit):                                  # given twice: an error
        parse([*command, "--dataset", spec, "shapes:num_videos=2"])
    assert "give the source once" in capsys.readouterr().err
    assert main([*command, spec, "--dataset", "shapes:num_videos=2"]) == 2
    assert "give the source once" in capsys.readouterr().err
    assert main(list(command)) == 2                                  # neither: names the flag
    err = capsys.readouterr().err
    assert f"vidbench {' '.join(command)} needs --dataset SRC" in err and "Traceback" not in err


def test_no_visible_positional_takes_a_data_source():
    """Sources are `--dataset` (docs/cli.md); the one positional source left is `ref export
    KEY|SRC`, whose argument is first of all a cache key."""
    for path, parser in PARSERS:
        for a in parser._actions:
            if a.option_strings or a.help == argparse.SUPPRESS or \
                    isinstance(a, argparse._SubParsersAction):
                continue
            if path == ("ref", "export"):
                continue
            assert a.metavar not in ("SRC", "SOURCE", "PATH_OR_DATASET"), (path, a.metavar)
            assert "source" not in (a.dest or ""), (path, a.dest)


def test_the_demo_takes_processes(capsys):
    args = build_parser().parse_args(["demo", "--processes", "3"])
    assert args.processes == 3 and capsys.readouterr().err == ""
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--workers", "0"])
    assert "workers must be >= 1" in capsys.readouterr().err
