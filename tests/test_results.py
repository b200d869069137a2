"""The results store: atomic appends from several processes, damaged lines, pandas."""
from __future__ import annotations

import json
import multiprocessing as mp

import numpy as np
import pandas as pd
import pytest

from vidbench.evaluation import records as R
from vidbench.utils.errors import VidbenchError

PROV = {"timestamp": "2024-01-01T00:00:00+00:00", "git_commit": "abc123", "git_dirty": False,
        "versions": {"torch": "2.0", "numpy": "2.0"}, "device": "cpu:test"}


def make_record(**extra):
    return {"metric": "fvd", "protocol": "mocogan-hd", "value": 700.0, **PROV, **extra}


def _writer(path: str, worker: int, count: int) -> None:
    for i in range(count):
        # lines of different lengths (some long) make interleaving visible if it happened
        R.append_result(path, make_record(cell=f"w{worker}-{i}", value=float(i),
                                          padding="x" * (1 + (i * 397 + worker * 991) % 5000)))


def test_concurrent_appends_give_whole_lines(tmp_path):
    path = tmp_path / "res.jsonl"
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(path), w, 50)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    raw = path.read_bytes()
    assert raw.endswith(b"\n")
    lines = raw.split(b"\n")[:-1]
    assert len(lines) == 200
    cells = [json.loads(line)["cell"] for line in lines]  # every line parses on its own
    assert sorted(cells) == sorted(f"w{w}-{i}" for w in range(4) for i in range(50))
    # each writer's lines keep their own order
    for w in range(4):
        mine = [c for c in cells if c.startswith(f"w{w}-")]
        assert mine == [f"w{w}-{i}" for i in range(50)]
    records, problems = R.read_results(path)
    assert len(records) == 200 and problems == []
    assert (tmp_path / "res.jsonl.lock").exists()


def test_truncated_last_line_is_reported_not_read(tmp_path):
    path = tmp_path / "res.jsonl"
    R.append_result(path, make_record(cell="a"))
    R.append_result(path, make_record(cell="b"))
    whole = path.read_bytes()
    # a crash in the middle of writing a third line
    line = R.encode_record(make_record(cell="c"))
    path.write_bytes(whole + line[:40])
    records, problems = R.read_results(path)
    assert [r["cell"] for r in records] == ["a", "b"]
    assert len(problems) == 1
    assert problems[0].line == 3 and "incomplete last line" in problems[0].reason
    # even a last line that parses is not read without its newline
    path.write_bytes(whole + line[:-1])
    records, problems = R.read_results(path)
    assert [r["cell"] for r in records] == ["a", "b"] and problems[0].line == 3
    # the next append ends the damaged line first, so the new line is whole
    path.write_bytes(whole + line[:40])
    R.append_result(path, make_record(cell="d"))
    records, problems = R.read_results(path)
    assert [r["cell"] for r in records] == ["a", "b", "d"]
    assert [p.line for p in problems] == [3] and "invalid JSON" in problems[0].reason
    assert str(problems[0]).startswith(f"{path}:3: ")


def test_duplicates_and_bad_lines_are_reported(tmp_path):
    path = tmp_path / "res.jsonl"
    rec = make_record(cell="ablation/full-128/fvd")
    R.append_result(path, rec)
    R.append_result(path, rec)                                   # exact repeat
    R.append_result(path, make_record(cell="ablation/full-128/fvd", value=701.0))  # a re-run
    with open(path, "a") as fh:
        fh.write('["not", "an", "object"]\n')
        fh.write(json.dumps({"metric": "fvd", "value": 1.0}) + "\n")
        fh.write("\n")                                          # blank lines are ignored
    records, problems = R.read_results(path)
    assert [r["value"] for r in records] == [700.0, 701.0]
    assert [p.line for p in problems] == [2, 4, 5]
    assert "duplicate of line 1" in problems[0].reason
    assert "not a JSON object" in problems[1].reason
    assert "protocol" in problems[2].reason and "timestamp" in problems[2].reason


def test_invalid_records_are_refused(tmp_path):
    path = tmp_path / "res.jsonl"
    with pytest.raises(VidbenchError, match="missing required key"):
        R.append_result(path, {"metric": "fvd", "value": 1.0, **PROV})
    with pytest.raises(VidbenchError, match="finite"):
        R.append_result(path, make_record(value=float("nan")))
    with pytest.raises(VidbenchError, match="finite"):
        R.append_result(path, make_record(value="700"))
    with pytest.raises(VidbenchError, match="2 runs"):
        R.append_result(path, make_record(runs=[1.0, 2.0], num_runs=3))
    with pytest.raises(VidbenchError, match="serialisable"):
        R.append_result(path, make_record(extra=object()))
    assert not path.exists() or path.read_bytes() == b""


def test_numpy_values_and_completion(tmp_path):
    path = tmp_path / "res.jsonl"
    rec = R.complete_record({"metric": "isv", "protocol": "tganv2", "value": np.float32(26.5),
                             "num_fake": np.int64(2048), **R.run_summary([26.0, 27.0])})
    for key in R.PROVENANCE_KEYS:
        assert key in rec
    R.append_result(path, rec)
    (back,), problems = R.read_results(path)
    assert problems == []
    assert back["value"] == 26.5 and back["num_fake"] == 2048
    assert back["std"] == pytest.approx(0.5) and back["runs"] == [26.0, 27.0]
    assert back["num_runs"] == 2 and back["std_ddof"] == 0


def test_run_summary_matches_numpy():
    values = [1.0, 2.0, 4.0, 8.0]
    s = R.run_summary(values, ddof=1)
    assert s["value"] == pytest.approx(3.75)
    assert s["std"] == pytest.approx(np.sqrt(sum((v - 3.75) ** 2 for v in values) / 3))


def test_split_psnr_ssim():
    rec = {"metric": "psnr_ssim", "protocol": "wang", "psnr": 22.3, "ssim": 0.69,
           "per_video": {"psnr": [22.0, 22.6], "ssim": [0.7, 0.68]},
           "per_frame": {"psnr": [[1.0]], "ssim": [[1.0]]}, "num_videos": 2, "cell": "sky/ours",
           **PROV}
    psnr, ssim = R.split_psnr_ssim(rec)
    assert (psnr["metric"], psnr["value"], psnr["per_video"]) == ("psnr", 22.3, [22.0, 22.6])
    assert (ssim["metric"], ssim["value"], ssim["num_videos"]) == ("ssim", 0.69, 2)
    assert "per_frame" not in psnr and R.validate_record(psnr) == []
    assert (psnr["cell"], ssim["cell"]) == ("sky/ours/psnr", "sky/ours/ssim")


def test_pandas_round_trip(tmp_path):
    path = tmp_path / "sub" / "res.jsonl"
    recs = [make_record(cell=f"c{i}", value=float(i), experiment="ablation-ucf101",
                        variant=v, num_fake=2048, fake={"spec": "x.npy", "fingerprint": f"fp{i}"},
                        runs=[1.0, 2.0], num_runs=2)
            for i, v in enumerate(["full-128", "no-eqn2", "full-256"])]
    for r in recs:
        R.append_result(path, r)
    df = R.results_frame(tmp_path)          # a folder: every *.jsonl below it
    assert list(df["variant"]) == ["full-128", "no-eqn2", "full-256"]
    assert list(df["value"]) == [0.0, 1.0, 2.0]
    assert list(df["fake.fingerprint"]) == ["fp0", "fp1", "fp2"]
    assert list(df["versions.torch"]) == ["2.0"] * 3
    assert df["runs"].iloc[0] == [1.0, 2.0]
    # pandas reads the file itself as JSON lines
    direct = pd.read_json(path, lines=True)
    assert list(direct["cell"]) == ["c0", "c1", "c2"] and list(direct["num_fake"]) == [2048] * 3
    empty = R.results_frame([])
    assert len(empty) == 0 and "metric" in empty.columns


def test_read_many_reports_repeats_across_files(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    R.append_result(a, make_record(cell="x"))
    R.append_result(b, make_record(cell="y"))
    R.append_result(b, make_record(cell="x"))
    records, problems = R.read_many([a, b])
    assert [r["cell"] for r in records] == ["x", "y"]
    assert len(problems) == 1 and problems[0].line == 2 and f"{a}:1" in problems[0].reason
    with pytest.raises(VidbenchError, match="no such results file"):
        R.read_many([tmp_path / "missing.jsonl"])
