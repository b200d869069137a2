"""A process appending result lines SIGKILLed in the middle of a line: the torn line is never
read as a number, the re-run's line is whole, and no number is read twice."""
from __future__ import annotations

import json

from _faults import child_env, driver_cmd, kill_at, run
from vidbench.evaluation import records as R


def test_torn_results_line_is_never_data_and_the_rerun_is_not_duplicated(tmp_path):
    path = tmp_path / "results" / "fvd.jsonl"
    env = child_env(tmp_path / "home")
    # cells 0..3 are written whole; the process dies with half of cell-4's line on disk
    kill_at(("append-results", path, 0, 10), pause="results-line:5", env=env, tmp=tmp_path,
            name="append")
    raw = path.read_bytes()
    assert raw.count(b"\n") == 4 and not raw.endswith(b"\n")
    records, problems = R.read_results(path)
    assert [r["cell"] for r in records] == [f"cell-{i}" for i in range(4)]
    assert [(p.line, "incomplete last line" in p.reason) for p in problems] == [(5, True)]

    # the job is re-run from the cell that was being written
    done = run(driver_cmd("append-results", path, 4, 3), env)
    assert done.returncode == 0, done.stderr[-3000:]
    records, problems = R.read_results(path)
    assert [r["cell"] for r in records] == [f"cell-{i}" for i in range(7)]   # once each
    assert [r["value"] for r in records] == [float(i) for i in range(7)]
    assert len(problems) == 1 and problems[0].line == 5 and "invalid JSON" in problems[0].reason
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and all(json.loads(x)["cell"] for x in lines[5:-1])
