"""Malformed inputs through the real command line (``python -m vidbench data inspect`` /
``eval fvd --dry-run``): each one is an error naming the file and the reason, without a
traceback (exit status 2), or with ``--skip-bad`` a listed problem; never a silent drop and
never a wrong number (a folder with bad videos scores exactly as its good videos alone).

Unreadable files: ``chmod 000`` does not stop root from reading, and these tests often run as
root; there the child is told to make ``open()`` of that path raise PermissionError (see
``_corpus.unreadable``), which is what a non-root user gets from ``chmod 000``."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from _corpus import CORPUS, NON_ASCII_DIR, UNREADABLE, Bad, good_video, unreadable
from _datafiles import rand_clip, write_frames
from _faults import child_env, driver_cmd, run, vidbench_cmd
from fvd_helpers import TEST_PROTOCOL, shapes
from vidbench.utils.errors import BadInputError

CASES = {c.name: c for c in CORPUS + UNREADABLE}
REAL = shapes(2, n=8)


def _spec(bad: Bad, path) -> str:
    target = path.parent if bad.source == "parent" else path
    return re.sub(r"\[\d+\]$", "", str(target)) + bad.options


def _cli(args: list, unread: tuple, env: dict) -> subprocess.CompletedProcess:
    """The real CLI; through the driver only where it must fake an unreadable file or use the
    tests' FVD protocol."""
    if unread or args[0] == "eval":
        return run(driver_cmd(*args, unreadable=unread), env)
    return run(vidbench_cmd(*args), env)


def _assert_user_error(done, path, reason: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout[-2000:], done.stderr[-3000:])
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert f"vidbench: error: {path}: " in done.stderr, done.stderr[-3000:]
    assert re.search(reason, done.stderr), done.stderr[-3000:]


def test_the_corpus_is_large_enough():
    # (plus, below: empty folder, folder without images, unknown data set and protocol names,
    # NaN and inf in generated frames, NaN/inf items of an array under --skip-bad)
    assert len(CASES) == len(CORPUS) + len(UNREADABLE) >= 20


@pytest.fixture(scope="module")
def corpus_runs(tmp_path_factory) -> dict:
    """Every corpus case built in its own folder and run through the CLI, a few child
    processes at a time (each is independent; this only saves wall time)."""
    jobs = {}
    for name, bad in CASES.items():
        tmp = tmp_path_factory.mktemp("case")
        (tmp / "in").mkdir()
        path = bad.make(tmp / "in")
        unread = unreadable(path) if bad in UNREADABLE else ()
        spec = _spec(bad, path)
        if bad.eval:
            args = ["eval", "fvd", "--fake", spec, "--real", REAL, "--protocol",
                    TEST_PROTOCOL.name, "--dry-run", "--no-progress"]
        else:
            args = ["data", "inspect", "--dataset", spec] + (["--verify"] if bad.verify else [])
        jobs[name] = (path, args, unread, child_env(tmp / "home"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(_cli, args, unread, env)
                   for name, (_, args, unread, env) in jobs.items()}
        return {name: (jobs[name][0], f.result()) for name, f in futures.items()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_an_error_naming_the_file_and_the_reason(corpus_runs, name):
    path, done = corpus_runs[name]
    _assert_user_error(done, path, CASES[name].reason)


def test_skip_bad_lists_every_bad_input_of_a_folder(tmp_path):
    folder = tmp_path / "mixed"
    (folder / NON_ASCII_DIR).mkdir(parents=True)
    goods = [good_video(folder / "good_1.mp4", 11), good_video(folder / "good_2.mp4", 12),
             good_video(folder / NON_ASCII_DIR / "good é.mp4", 13)]
    write_frames(folder / "frames_good", rand_clip(6, 8, 10, 14))
    (folder / "empty").mkdir()
    (folder / "docs").mkdir()
    (folder / "docs" / "notes.txt").write_text("no images here\n")
    (folder / "docs" / "table.csv").write_text("a,b\n")
    expected, unread = {}, ()
    for bad in CORPUS + UNREADABLE:
        if bad.in_folder:
            sub = folder / re.sub(r"\W+", "_", bad.name)
            sub.mkdir()
            path = bad.make(sub)
            expected[str(path)] = bad.reason
            if bad in UNREADABLE:
                unread += unreadable(path)
    done = _cli(["data", "inspect", "--dataset", str(folder), "--skip-bad", "--verify", "--json"],
                unread, child_env(tmp_path / "home"))
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
    report = json.loads(done.stdout)
    problems = {p["path"]: p["reason"] for p in report["problems"]}
    assert sorted(problems) == sorted(expected)
    for path, reason in expected.items():
        assert re.search(reason, problems[path]), (path, problems[path])
    assert report["num_videos"] == len(goods) + 1 and report["total_frames"] == 3 * 10 + 6
    assert report["notes"]["dirs_without_media"] >= 2 and report["notes"]["ignored_files"] >= 2


def test_skip_bad_array_items_are_listed(tmp_path):
    import numpy as np

    x = np.random.default_rng(0).uniform(-1, 1, (4, 3, 8, 6, 6)).astype(np.float32)
    x[1, 0, 0, 0, 0], x[3, 2, 7, 5, 5] = np.nan, -np.inf
    path = tmp_path / "samples.npy"
    np.save(path, x)
    done = run(vidbench_cmd("data", "inspect", "--dataset", f"{path}:layout=NCTHW,range=-1:1",
                            "--skip-bad",
                            "--json"), child_env(tmp_path / "home"))
    assert done.returncode == 1, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["num_videos"] == 2
    assert [(p["path"], p["reason"]) for p in report["problems"]] == [
        (f"{path}[1]", "contains NaN values"), (f"{path}[3]", "contains inf values")]


def test_skipped_videos_never_change_the_number(tmp_path):
    """FVD of a folder with bad videos under --skip-bad equals FVD of its good videos alone,
    and the record lists each skipped file with its reason."""
    from vidbench.evaluation.fvd import evaluate_fvd

    mixed, alone = tmp_path / "mixed", tmp_path / "alone"
    mixed.mkdir()
    alone.mkdir()
    for i in range(3):
        shutil.copyfile(good_video(mixed / f"good_{i}.mp4", 20 + i), alone / f"good_{i}.mp4")
    bads = {CASES[n].make(mixed): CASES[n].reason
            for n in ("1-frame video", "video shorter than the clip", "zero-byte mp4",
                      "text file renamed .mp4")}
    done = run(driver_cmd("eval", "fvd", "--fake", mixed, "--real", REAL, "--protocol",
                          TEST_PROTOCOL.name, "--skip-bad", "--no-cache", "--no-progress",
                          "--json"), child_env(tmp_path / "home"))
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads(done.stdout)
    skipped = dict(map(tuple, record["fake"]["skipped"]))
    assert sorted(skipped) == sorted(map(str, bads)) and record["num_fake"] == 3
    for path, reason in bads.items():
        assert re.search(reason, skipped[str(path)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clean = evaluate_fvd(str(alone), REAL, protocol=TEST_PROTOCOL, use_cache=False,
                             progress=False)
    assert record["value"] == pytest.approx(clean["value"], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("kind", ["empty", "no images"])
def test_folder_without_videos(tmp_path, kind):
    folder = tmp_path / "data set"
    folder.mkdir()
    if kind == "no images":
        (folder / "readme.txt").write_text("frames go here\n")
        (folder / "labels.csv").write_text("a,b\n")
        (folder / "sub").mkdir()
    done = run(vidbench_cmd("data", "inspect", "--dataset", folder, "--skip-bad"),
               child_env(tmp_path))
    _assert_user_error(done, folder, r"no videos found; expected video files")


def test_unknown_data_set_and_protocol_names(tmp_path):
    env = child_env(tmp_path)
    done = run(vidbench_cmd("data", "inspect", "--dataset", "ucf102:split=train", "--root",
                            tmp_path), env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "'ucf102' is neither an existing path nor a known source" in done.stderr
    assert "valid: ucf101, faceforensics, sky, voxceleb, folder" in done.stderr
    done = run(vidbench_cmd("eval", "fvd", "--fake", "shapes", "--real", "shapes",
                            "--protocol", "mocogan-hdd", "--dry-run"), env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "invalid choice: 'mocogan-hdd'" in done.stderr and "mocogan-hd" in done.stderr
    done = run(vidbench_cmd("eval", "is", "--fake", "shapes", "--protocol", "tganv3"), env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "unknown is protocol 'tganv3'" in done.stderr


def _damaged_model(root, poison: float):
    """A motion-generator export (tiny StyleGAN2 + PCA) with ``poison`` in its PCA-coefficient
    weights ``w`` (so every frame after the first is computed from it)."""
    from _motion_fixtures import make_tiny_setup
    from vidbench.models.motion import MotionGenerator
    from vidbench.train.checkpoint import export_motion_generator
    from vidbench.train.image_generator import load_image_generator
    from vidbench.train.pca import load_pca

    gen, pca_dir = make_tiny_setup(root, num_samples=200)
    pca = load_pca(pca_dir)
    motion = MotionGenerator(64, 16, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        motion.w[0, 0] = poison
    out, _ = export_motion_generator(motion, root / "run" / "modelR_latest.pth",
                                     pca=pca.describe(),
                                     image_generator=load_image_generator(gen).describe(),
                                     n_frames=4, step=1)
    return out


def test_nan_in_generated_frames_is_an_error_naming_the_model(tmp_path):
    export = _damaged_model(tmp_path, float("nan"))
    out = tmp_path / "samples"
    done = run(vidbench_cmd("sample", "--checkpoint", export, "--num-videos", 3, "--out", out,
                            "--no-progress"), child_env(tmp_path / "home"))
    _assert_user_error(done, export, r"generated frames of sample\(s\) \[0, 1, 2\] contain "
                                     r"\d+ NaN")
    assert not (out / "samples.npy").exists()


def test_inf_in_generated_frames_is_not_a_saturated_pixel(tmp_path, monkeypatch):
    """An inf would become 255 under a plain clamp, a plausible but wrong pixel."""
    from vidbench.sample.generate import GeneratorSource, load_video_model

    model = load_video_model(_damaged_model(tmp_path, 0.0))
    render = type(model.image).render

    def poisoned(self, latents, noise="none", generator=None):
        frames = render(self, latents, noise=noise, generator=generator)
        frames[0, 0, 0, 0] = float("inf")
        return frames
    monkeypatch.setattr(type(model.image), "render", poisoned)
    source = GeneratorSource(model, 2, frames=4)
    with pytest.raises(BadInputError, match=r"sample\(s\) \[1\] contain 0 NaN and 1 inf") as err:
        source[1]
    assert err.value.path == model.info["motion"]["file"]
