"""`vidbench demo`: the shapes data set inspected, with a sample animation, grid and summary."""
import json

import numpy as np
import pytest
from PIL import Image

from vidbench.cli import build_parser, main
from vidbench.data.shapes import MOTIONS, make_shapes
from vidbench.demo import run_demo


def test_quick_demo_writes_the_files(tmp_path):
    out = tmp_path / "demo"
    summary = run_demo(out, quick=True, seed=2, progress=False)
    assert summary["num_videos"] == 28 and summary["frames_per_video"] == 8
    assert summary["total_frames"] == 28 * 8
    assert summary["motion_classes"] == list(MOTIONS)
    assert summary["videos_per_motion"] == {m: 4 for m in MOTIONS}
    assert sum(summary["videos_per_shape"].values()) == 28

    loaded = json.loads((out / "summary.json").read_text())
    assert loaded["dataset"]["fingerprint"] == make_shapes(num_videos=28, length=8, seed=2).fingerprint
    assert loaded["samples"]["grid"] == str(out / "grid.png")

    # grid.png: 7 rows (one video per motion class) x 8 frames of 64x64 with 2-pixel padding,
    # and its tiles are the data set's frames
    grid = np.asarray(Image.open(out / "grid.png"))
    assert grid.shape == (7 * 66 + 2, 8 * 66 + 2, 3)
    src = make_shapes(num_videos=28, length=8, seed=2)
    np.testing.assert_array_equal(grid[2 + 66 * 3: 66 + 66 * 3, 2 + 66 * 5: 66 + 66 * 5], src[3][5])

    # samples.gif: 8 frames, 2 rows x 7 columns of tiles
    with Image.open(out / "samples.gif") as gif:
        assert gif.n_frames == 8 and gif.size == (7 * 66 + 2, 2 * 66 + 2)
    assert sorted(p.name for p in out.iterdir()) == ["grid.png", "samples.gif", "summary.json"]


def test_full_demo_finishes_in_seconds(tmp_path):
    summary = run_demo(tmp_path, progress=False)
    assert summary["num_videos"] == 256 and summary["frames_per_video"] == 16
    assert summary["resolution"] == [64, 64]
    assert summary["seconds"]["total"] < 30


def test_cli(tmp_path, capsys):
    out = tmp_path / "d"
    assert main(["demo", "--out", str(out), "--quick", "--seed", "1", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "28 videos x 8 frames at 64x64" in text
    for name in ("samples.gif", "grid.png", "summary.json"):
        assert str(out / name) in text and (out / name).is_file()
    assert json.loads((out / "summary.json").read_text())["dataset"]["seed"] == 1


def test_cli_help_and_bad_seed(capsys):
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--help"])
    assert "example:\n  vidbench demo" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--seed", "-1"])
    assert "seed must be >= 0" in capsys.readouterr().err
