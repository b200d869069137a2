"""Data set registry: tiny fake trees laid out as each data set ships."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from _datafiles import copy_file, rand_clip, write_frames, write_video
from vidbench.data.sources import open_source
from vidbench.utils.errors import VidbenchError


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("tiny")
    return {"avi": write_video(d / "t.avi", rand_clip(4, 32, 64, 0)),
            "mp4": write_video(d / "t.mp4", rand_clip(5, 32, 64, 1), "libx264", "yuv420p")}


# ---------------------------------------------------------------- UCF-101

def _ucf(tmp_path: Path, tiny, lists_inside: bool = True) -> Path:
    root = tmp_path / "UCF-101"
    for rel in ("ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi",
                "ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi",
                "HandstandPushups/v_HandStandPushups_g01_c01.avi",  # casing as shipped
                "HandstandPushups/v_HandStandPushups_g02_c01.avi"):
        copy_file(tiny["avi"], root / rel)
    lists = (root if lists_inside else tmp_path) / "ucfTrainTestlist"
    lists.mkdir()
    (lists / "classInd.txt").write_text("1 ApplyEyeMakeup\n2 HandstandPushups\n")
    (lists / "trainlist01.txt").write_text(
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 1\r\n"
        "HandstandPushups/v_HandstandPushups_g01_c01.avi 2\r\n")  # casing as in the lists
    (lists / "testlist01.txt").write_text("ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi\n"
                                          "HandstandPushups/v_HandstandPushups_g02_c01.avi\n")
    (lists / "trainlist02.txt").write_text("ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi 1\n")
    return root


def test_ucf101_splits_folds_and_case_insensitive_lists(tmp_path, tiny):
    root = str(_ucf(tmp_path, tiny))
    every = open_source("ucf101", root=root)
    assert len(every) == 4 and every.meta["split"] == "all"
    assert [v.label for v in every.videos] == ["ApplyEyeMakeup"] * 2 + ["HandStandPushups"] * 2
    train = open_source("ucf101:split=train", root=root)
    assert [v.name for v in train.videos] == ["ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi",
                                              "HandstandPushups/v_HandStandPushups_g01_c01.avi"]
    test = open_source("ucf101:split=test", root=root)
    assert len(test) == 2 and not set(v.name for v in test.videos) & set(v.name for v in train.videos)
    fold2 = open_source("ucf101:split=train,fold=2", root=root)
    assert [v.name for v in fold2.videos] == ["ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi"]
    assert fold2.fingerprint != train.fingerprint
    assert train[0].shape == (4, 32, 64, 3)


def test_ucf101_lists_next_to_root_and_missing_pieces(tmp_path, tiny):
    root = _ucf(tmp_path, tiny, lists_inside=False)
    assert len(open_source("ucf101:split=train", root=str(root))) == 2
    with pytest.raises(VidbenchError, match="needs testlist03.txt"):
        open_source("ucf101:split=test,fold=3", root=str(root))
    (root / "HandstandPushups" / "v_HandStandPushups_g01_c01.avi").unlink()
    with pytest.raises(VidbenchError, match="listed in trainlist01.txt but not found"):
        open_source("ucf101:split=train", root=str(root))
    src = open_source("ucf101:split=train", root=str(root), skip_bad=True)
    assert len(src) == 1 and "not found" in src.skipped[0][1]
    with pytest.raises(VidbenchError, match="fold=4 is not one of 1, 2, 3"):
        open_source("ucf101:fold=4", root=str(root))


def test_missing_root_or_wrong_layout_says_what_was_expected(tmp_path):
    with pytest.raises(VidbenchError, match=r"needs --root; expected layout: ROOT/<Class>"):
        open_source("ucf101")
    with pytest.raises(VidbenchError, match="root .* not found; expected layout"):
        open_source("ucf101", root=str(tmp_path / "nowhere"))
    (tmp_path / "wrong").mkdir()
    (tmp_path / "wrong" / "readme.txt").write_text("x")
    with pytest.raises(VidbenchError, match=r"no \.avi files .* expected layout"):
        open_source("ucf101", root=str(tmp_path / "wrong"))
    with pytest.raises(VidbenchError, match=r"expected layout: ROOT/\{train,val,test\}/original"):
        open_source("faceforensics", root=str(tmp_path / "wrong"))
    with pytest.raises(VidbenchError, match="expected layout: ROOT/sky_train"):
        open_source("sky", root=str(tmp_path / "wrong"))


# ---------------------------------------------------------------- FaceForensics

def test_faceforensics_v1_compressed_layout(tmp_path, tiny):
    root = tmp_path / "FaceForensics_compressed"
    for split, n in (("train", 2), ("val", 1), ("test", 1)):
        for i in range(n):
            copy_file(tiny["avi"], root / split / "original" / f"{i:03d}.avi")
            copy_file(tiny["avi"], root / split / "mask" / f"{i:03d}.avi")
            copy_file(tiny["avi"], root / split / "altered" / f"{i:03d}.avi")
    train = open_source("faceforensics", root=str(root))
    assert [v.name for v in train.videos] == ["train/original/000.avi", "train/original/001.avi"]
    assert len(open_source("faceforensics:split=all", root=str(tmp_path))) == 4  # parent works
    assert [v.name for v in open_source("faceforensics:split=val", root=str(root)).videos] == \
        ["val/original/000.avi"]


# ---------------------------------------------------------------- Sky Time-lapse

def _sky_video(root: Path, split: str, long_id: str, k: int, numbers: list[int]) -> None:
    clip = np.stack([np.full((6, 8, 3), 7 * (j % 36), np.uint8) for j in range(len(numbers))])
    write_frames(root / f"sky_{split}" / long_id / f"{long_id}_{k}", clip,
                 f"{long_id}_frames_{{i:08d}}.jpg", numbers=numbers)


def test_sky_nested_frames_ordered_by_number_with_gaps_and_first32(tmp_path):
    root = tmp_path / "sky_timelapse"
    gappy = [1, 2, 3, 5, 8] + list(range(9, 38))  # 34 frames with gaps
    _sky_video(root, "train", "07U1fSrk9oI", 1, gappy)
    _sky_video(root, "train", "07U1fSrk9oI", 2, list(range(100, 110)))
    _sky_video(root, "test", "zz9", 10, list(range(40)))
    _sky_video(root, "test", "zz9", 9, list(range(20)))  # too short for first32
    train = open_source("sky", root=str(tmp_path))  # the folder above sky_timelapse also works
    assert [v.name for v in train.videos] == ["sky_train/07U1fSrk9oI/07U1fSrk9oI_1",
                                              "sky_train/07U1fSrk9oI/07U1fSrk9oI_2"]
    assert train.videos[0].members[3] == "07U1fSrk9oI_frames_00000005.jpg"
    assert train.meta["videos_with_frame_gaps"] == 1
    vals = train[0][:, 0, 0, 0].astype(int)
    assert np.abs(vals - 7 * np.arange(34) % 252).max() <= 3  # frame order follows the numbers
    test = open_source("sky:split=test,sky_first32=true", root=str(root))
    assert [v.name for v in test.videos] == ["sky_test/zz9/zz9_10"]
    assert test[0].shape == (32, 6, 8, 3)
    assert test.skipped and "too short: 20 frames" in test.skipped[0][1]
    assert len(open_source("sky:split=all", root=str(root))) == 4


# ---------------------------------------------------------------- VoxCeleb and folder

def test_voxceleb_mp4_and_frame_folders_with_splits(tmp_path, tiny):
    root = tmp_path / "vox"
    copy_file(tiny["mp4"], root / "train" / "id1#abc#001.mp4")
    write_frames(root / "train" / "id2#def#002", rand_clip(3, 32, 64, 2))
    write_frames(root / "test" / "id3#ghi#003", rand_clip(6, 32, 64, 3))
    every = open_source("voxceleb", root=str(root))
    assert [v.name for v in every.videos] == ["train/id1#abc#001.mp4", "train/id2#def#002",
                                              "test/id3#ghi#003"]  # train first, then test
    assert [v.num_frames for v in open_source("voxceleb:split=train", root=str(root)).videos] == [5, 3]
    flat = tmp_path / "voxflat"
    copy_file(tiny["mp4"], flat / "a.mp4")
    assert [v.name for v in open_source("voxceleb", root=str(flat)).videos] == ["a.mp4"]
    with pytest.raises(VidbenchError, match="folder .*train not found"):
        open_source("voxceleb:split=train", root=str(flat))
    generic = open_source("folder", root=str(root))
    assert len(generic) == 3 and generic.meta["dataset"] == "folder"
