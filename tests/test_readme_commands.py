"""Every `vidbench` command in the README's shell blocks is valid as written: each parses
(every flag, choice and type exists), and those that fit a test's time run and succeed."""
from __future__ import annotations

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
