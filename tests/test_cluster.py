"""`vidbench run` as a stage graph: the dry run without data, two torchrun ranks on each cell,
Slurm through submitit on a one-node cluster (``afterok`` jobs, the same table as the local
launcher), `run status`, and a preempted training stage that requeues and resumes bit-identical."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from vidbench.cli import main
from vidbench.evaluation import records as R
from vidbench.experiments.stages import plan_experiment, plan_stages, run_stage
from vidbench.utils.errors import TrainingInterrupted
from _slurm import OneNodeSlurm, require_slurm
from _weights import needs_i3d, one_thread  # noqa: F401

# One cell (the no-eqn2 row) at the smallest size that still trains, samples and scores.
TINY = {"image.steps": 2, "image.checkpoint_every": 2, "motion.steps": 1, "num_fake": 4,
        "num_real": 4, "is_samples": 4, "is_runs": 1, "pca_samples": 200}
SET = [arg for k, v in TINY.items() for arg in ("--set", f"{k}={v}")]
ROW = ["--rows", "no-eqn2"]
ROOT = Path(__file__).resolve().parent.parent


def _plan(work: Path, store: Path, **settings) -> dict:
    return {"name": "ablation", "dataset": "shapes", "preset": "tiny",
            "settings": {**TINY, **settings}, "root": None, "work_dir": str(work),
            "results": str(store), "rows": ("no-eqn2",), "seeds": None, "methods": {},
            "generators": {}}


# --- the stage graph --------------------------------------------------------------------------

def test_stage_graph_trains_each_image_slot_once(tmp_path, vidbench_home):
    exp = plan_experiment("ablation", "shapes", settings=TINY, work_dir=tmp_path / "w",
                          results=tmp_path / "r.jsonl")
    stages = {s.id: s for s in plan_stages(exp)}
    assert [s for s in stages if s.startswith("image/")] == ["image/high", "image/low"]
    assert len(stages["image/high"].cells) == 4 and len(stages["image/low"].cells) == 1
    assert stages["pca/high"].needs == ("image/high",)
    assert stages["motion/full-128/seed0"].needs == ("pca/low",)
    # one evaluation stage per cell and metric (IS and FVD), each after the cell's training
    evals = [s for s in stages if s.startswith("eval/")]
    assert evals == [f"eval/{row}/seed0/{m}" for row in ("no-eqn2", "no-image-disc",
                                                         "no-video-disc", "full-128", "full-256")
                     for m in ("is", "fvd")]
    assert stages["eval/full-128/seed0/fvd"].needs == ("motion/full-128/seed0",)
    assert stages["eval/full-128/seed0/is"].needs == ("motion/full-128/seed0",)
    assert [stages[e].metric for e in evals[:2]] == ["is", "fvd"]
    assert stages["eval/full-128/seed0/fvd"].writes[1] != stages["eval/full-128/seed0/is"].writes[1]
    assert stages["table"].needs == tuple(evals) and not any(s.done for s in stages.values())
    with pytest.raises(Exception, match="needs pca/high first"):
        run_stage(exp, "motion/no-eqn2/seed0")
    assert not (tmp_path / "w").exists()


def test_dry_run_of_the_paper_scale_needs_no_data(tmp_path, capsys, monkeypatch, vidbench_home):
    monkeypatch.chdir(tmp_path)
    code = main(["run", "ablation", "--dataset", "ucf101", "--preset", "paper", "--dry-run",
                 "--device", "cuda"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["device"] == "cuda" and report["preset"] == "paper"
    assert report["cells"][0]["motion"]["config"]["device"] == "cuda"
    assert report["missing_data"][0]["spec"] == "ucf101"
    assert "--root" in report["missing_data"][0]["reason"]
    ids = [s["id"] for s in report["stages"]]
    assert ids[:3] == ["image/high", "pca/high", "motion/no-eqn2/seed0"] and ids[-1] == "table"
    assert "image/low" in ids and not any(s["done"] for s in report["stages"])
    evals = [s for s in report["stages"] if s["kind"] == "eval"]
    assert [(s["id"], s["metric"]) for s in evals[:2]] == [
        ("eval/no-eqn2/seed0/is", "is"), ("eval/no-eqn2/seed0/fvd", "fvd")]
    assert report["stages"][-1]["needs"] == [s["id"] for s in evals] and len(evals) == 10
    assert report["cells"][0]["image"]["config"]["size"] == 256
    assert [p.name for p in tmp_path.iterdir()] == ["vidbench_home"]   # nothing written
    assert [p.name for p in vidbench_home.iterdir()] == ["weights"]


@pytest.mark.slow
def test_stop_request_checkpoints_and_resumes_bit_identical(tmp_path, vidbench_home):
    """The hook a preempted job uses, in one process: stop after step 3 of 6, resume, same
    weights as an uninterrupted run."""
    a = plan_experiment(**_plan(tmp_path / "a", tmp_path / "a.jsonl", **{"motion.steps": 6}))
    for stage in ("image/high", "pca/high"):
        run_stage(a, stage, log=lambda m: None)
    b_work = tmp_path / "b"
    shutil.copytree(tmp_path / "a", b_work)
    b = plan_experiment(**_plan(b_work, tmp_path / "b.jsonl", **{"motion.steps": 6}))
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) == 3

    with pytest.raises(TrainingInterrupted, match="step 3"):
        run_stage(a, "motion/no-eqn2/seed0", stop=stop, log=lambda m: None)
    run_stage(a, "motion/no-eqn2/seed0", log=lambda m: None)
    run_stage(b, "motion/no-eqn2/seed0", log=lambda m: None)
    done_a = json.loads((a.cells[0].motion_dir / "complete.json").read_text())
    done_b = json.loads((b.cells[0].motion_dir / "complete.json").read_text())
    assert done_a["step"] == done_b["step"] == 6
    assert done_a["motion_sha256"] == done_b["motion_sha256"]
    resumes = json.loads((a.cells[0].motion_dir / "resume.json").read_text())["resumes"]
    assert [r["from_step"] for r in resumes] == [3]


@pytest.mark.slow
@needs_i3d
def test_per_metric_stages_give_the_numbers_of_one_joint_evaluation(tmp_path, vidbench_home,
                                                                    capsys):
    """A trained cell scored by its `eval/…/is` and `eval/…/fvd` stages (each drawing its own
    samples) and by the local launcher (both metrics in one pass, same artefacts): the same
    values and the same table."""
    from vidbench.experiments.regress.standin_weights import write_c3d, write_c3d_mean
    from vidbench.experiments.runner import run_experiment

    write_c3d(vidbench_home / "weights" / "conv3d_deepnetA_ucf.npz")   # IS runs, not skipped
    write_c3d_mean(vidbench_home / "weights" / "mean2.npz")
    staged, joint = tmp_path / "staged" / "ablation.jsonl", tmp_path / "joint" / "ablation.jsonl"
    more = {"is_samples": 6}               # IS wants more samples than FVD: 6 are drawn
    exp = plan_experiment(**_plan(tmp_path / "w", staged, **more))
    for stage in plan_stages(exp):                                   # in dependency order
        run_stage(exp, stage.id, log=lambda m: None)
    assert all(s.done for s in plan_stages(exp))
    by_metric = {}
    for metric in ("is", "fvd"):
        status = json.loads(next((tmp_path / "w" / "cells").glob(f"*-{metric}.json")).read_text())
        assert [m["status"] for m in status["metrics"]] == ["ok"]
        by_metric[metric] = status["metrics"][0]["value"]
    report = run_experiment("ablation", "shapes", settings={**TINY, **more}, rows=("no-eqn2",),
                            work_dir=tmp_path / "w", results=joint, progress=False,
                            log=lambda m: None)
    assert [m["status"] for m in report["cells"][0]["metrics"]] == ["ok", "ok"]
    assert {m["metric"]: m["value"] for m in report["cells"][0]["metrics"]} == by_metric
    s_rec, j_rec = R.read_results(staged)[0], R.read_results(joint)[0]
    assert sorted((r["metric"], r["value"]) for r in s_rec) == sorted(
        (r["metric"], r["value"]) for r in j_rec)
    assert _table(staged, capsys) == _table(joint, capsys)


def test_status_before_submitting_and_the_shared_storage_check(tmp_path, vidbench_home,
                                                               capsys):
    from vidbench.experiments.launch import StageJob, experiment_status
    from vidbench.utils.errors import VidbenchError

    plan = _plan(tmp_path / "w", tmp_path / "r" / "ablation.jsonl")
    status = experiment_status(plan)
    assert [(s["stage"], s["state"], s["job_id"]) for s in status["stages"]] == [
        ("image/high", "todo", None), ("pca/high", "todo", None),
        ("motion/no-eqn2/seed0", "todo", None), ("eval/no-eqn2/seed0/is", "todo", None),
        ("eval/no-eqn2/seed0/fvd", "todo", None), ("table", "todo", None)]
    assert main(["run", "status", "ablation", "--rows", "no-eqn2", *SET, "--work",
                 str(tmp_path / "w"), "--results", str(tmp_path / "r" / "ablation.jsonl")]) == 0
    assert re.search(r"^  motion/no-eqn2/seed0 +todo", capsys.readouterr().out, re.M)
    # a job on a node that does not see the submitter's folders fails naming them
    job = StageJob(plan, "image/high", "cpu", "no-such-token", str(tmp_path / "elsewhere"))
    with pytest.raises(VidbenchError, match=r"does not see the work folder .*\$VIDBENCH_HOME"):
        job()
    capsys.readouterr()
    assert main(["run", "ablation", "--launcher", "slurm", "--shard", "0/2"]) == 2
    assert "drop --shard" in capsys.readouterr().err


def test_which_earlier_jobs_a_resubmission_keeps():
    from vidbench.experiments.launch import keep_job

    pending = {"state": "PENDING", "reason": "Dependency", "restarts": 0}
    assert keep_job(pending, ["11"], {"11"})                     # waits on its prerequisite
    assert keep_job({"state": "RUNNING", "reason": None}, ["9"], set())
    assert keep_job({**pending, "reason": "Priority"}, [], {"11"})
    # afterok on a job that failed: pending for ever
    assert not keep_job({**pending, "reason": "DependencyNeverSatisfied"}, ["11"], {"11"})
    assert not keep_job(pending, ["11"], {"12"})        # its prerequisite was submitted again
    for ended in ("FAILED", "CANCELLED", "COMPLETED", "TIMEOUT", None):
        assert not keep_job({"state": ended, "reason": None}, [], set())


def test_status_shows_stages_blocked_by_a_failed_one_and_a_rerun_replaces_them(
        tmp_path, vidbench_home, monkeypatch, capsys):
    """Without a cluster: Slurm's answers stand in (the image job failed, its dependants pend
    with DependencyNeverSatisfied); submitting again cancels and resubmits all of them."""
    import submitit

    from vidbench.experiments import launch as L

    plan = _plan(tmp_path / "w", tmp_path / "r" / "ablation.jsonl")
    exp = plan_experiment(**L.absolute_plan_args(plan))
    folder = L.run_folder(exp, L.absolute_plan_args(plan))
    ids = [s.id for s in plan_stages(exp)]
    jobs = {sid: {"job_id": str(100 + i), "after": [] if i == 0 else ["100"],
                  "stderr": str(folder / f"{i}.err"), "stdout": str(folder / f"{i}.out")}
            for i, sid in enumerate(ids)}
    folder.mkdir(parents=True)
    (folder / "0.err").write_text("Traceback\nNotADirectoryError: image\n")
    L._write_jobs(folder, jobs)
    states = {"100": ("FAILED", "NonZeroExitCode")}
    states.update({str(100 + i): ("PENDING", "DependencyNeverSatisfied")
                   for i in range(1, len(ids))})
    monkeypatch.setattr(L, "job_state", lambda j: {"state": states.get(str(j), (None,))[0],
                                                   "reason": states.get(str(j), (0, None))[1],
                                                   "restarts": 0})
    status = {s["stage"]: s for s in L.experiment_status(plan)["stages"]}
    assert status["image/high"]["state"] == "failed"
    assert "NotADirectoryError: image" in status["image/high"]["log_tail"]
    for sid in ids[1:]:
        assert status[sid]["state"] == "blocked" and status[sid]["blocked_by"] == ["image/high"]
    assert main(["run", "status", "ablation", "--rows", "no-eqn2", *SET, "--work",
                 str(tmp_path / "w"), "--results", str(tmp_path / "r" / "ablation.jsonl")]) == 0
    assert re.search(r"^  table +blocked +job 105, by image/high \(failed\)$",
                     capsys.readouterr().out, re.M)

    cancelled, submitted = [], iter(range(200, 300))

    class Job:
        def __init__(self):
            self.job_id = str(next(submitted))
            self.paths = type("P", (), {"stdout": "o", "stderr": "e"})

    monkeypatch.setattr(L, "_slurm_cmd", lambda args: cancelled.append(args[1]) or "")
    monkeypatch.setattr(submitit.SlurmExecutor, "__init__", lambda self, folder: None)
    monkeypatch.setattr(submitit.SlurmExecutor, "update_parameters",
                        lambda self, **kw: setattr(self, "kw", kw))
    monkeypatch.setattr(submitit.SlurmExecutor, "submit", lambda self, fn: Job())
    report = L.submit_slurm(plan, L.SlurmOptions(), log=lambda m: None)
    assert cancelled == [str(100 + i) for i in range(1, len(ids))]
    assert [c["reason"] for c in report["cancelled"]] == ["DependencyNeverSatisfied"] * 5
    new = {s["stage"]: s for s in report["submitted"]}
    assert list(new) == ids and new["image/high"]["after"] == []
    assert new["pca/high"]["after"] == [new["image/high"]["job_id"]] == ["200"]
    assert new["table"]["after"] == [new[e]["job_id"] for e in ids if e.startswith("eval/")]


def test_a_two_gpu_training_stage_is_one_job_of_two_tasks_in_one_process_group(
        tmp_path, vidbench_home, monkeypatch):
    """What `--slurm-gpus-per-task 1 --slurm-tasks-per-node 2` submits (a stand-in `sbatch`
    keeps the scripts), and the torch.distributed setup each of the two tasks makes from the
    variables srun gives it: no GPU and no cluster needed."""
    from vidbench.experiments import launch as L
    from vidbench.utils import distributed as D

    bin_dir, kept = tmp_path / "bin", tmp_path / "scripts"
    bin_dir.mkdir()
    kept.mkdir()
    (bin_dir / "sbatch").write_text(
        "#!/bin/sh\nn=$(ls " + str(kept) + " | wc -l)\n"
        "cp \"$1\" " + str(kept) + "/$((n + 1)).sh\necho Submitted batch job $((n + 1))\n")
    (bin_dir / "sbatch").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    plan = _plan(tmp_path / "w", tmp_path / "r" / "ablation.jsonl")
    options = L.SlurmOptions(gpus_per_task=1, tasks_per_node=2, cpus_per_task=4,
                             partition="gpu", time_min=600)
    report = L.submit_slurm(plan, options, device="cuda", log=lambda m: None)
    ids = {s["stage"]: s["job_id"] for s in report["submitted"]}
    script = {stage: (kept / f"{job}.sh").read_text() for stage, job in ids.items()}
    for stage in ("image/high", "motion/no-eqn2/seed0"):              # training: 2 tasks
        lines = set(script[stage].splitlines())
        assert {"#SBATCH --nodes=1", "#SBATCH --ntasks-per-node=2", "#SBATCH --gpus-per-task=1",
                "#SBATCH --cpus-per-task=4", "#SBATCH --partition=gpu", "#SBATCH --time=600",
                "#SBATCH --requeue", "#SBATCH --signal=USR2@90"} <= lines, script[stage]
        srun = [line for line in lines if line.startswith("srun ")]
        assert len(srun) == 1 and "-m submitit.core._submit" in srun[0]  # one process per task
    assert "#SBATCH --dependency=afterok:2" in script["motion/no-eqn2/seed0"]
    for stage in ("pca/high", "eval/no-eqn2/seed0/fvd", "table"):      # one task
        assert "#SBATCH --ntasks-per-node=1" in script[stage]

    # task 1 of the motion job, as srun starts it on node gpu-a (with its one bound GPU)
    for k in L.DISTRIBUTED_VARS:
        monkeypatch.setenv(k, "")
        monkeypatch.delenv(k)
    slurm_env = {"SUBMITIT_EXECUTOR": "slurm", "SLURM_JOB_ID": ids["motion/no-eqn2/seed0"],
                 "SLURM_NTASKS": "2", "SLURM_PROCID": "1", "SLURM_LOCALID": "1",
                 "SLURM_NODEID": "0", "SLURM_JOB_NUM_NODES": "1",
                 "SLURM_JOB_NODELIST": "gpu-a", "SLURM_STEP_NODELIST": "gpu-a"}
    for k, v in slurm_env.items():
        monkeypatch.setenv(k, v)
    exported = L.export_distributed_env()
    assert {k: v for k, v in exported.items() if k != "MASTER_PORT"} == {
        "RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2",
        "MASTER_ADDR": "gpu-a"}
    assert exported["MASTER_PORT"].isdigit()
    calls = []
    monkeypatch.setattr(D.torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(D.torch.cuda, "set_device", lambda i: calls.append(("device", i)))
    monkeypatch.setattr(D.torch.distributed, "init_process_group",
                        lambda backend: calls.append(("group", backend)))
    monkeypatch.setattr(D.torch.distributed, "destroy_process_group", lambda: None)
    with D.distributed_from_env("cuda") as device:       # one visible GPU: cuda:0
        assert device == "cuda:0"
    monkeypatch.setattr(D.torch.cuda, "device_count", lambda: 2)
    with D.distributed_from_env("cuda") as device:       # both visible: its local rank's
        assert device == "cuda:1"
    assert calls == [("device", 0), ("group", "nccl"), ("device", 1), ("group", "nccl")]
    monkeypatch.setenv("SLURM_NTASKS", "1")
    for k in L.DISTRIBUTED_VARS:
        monkeypatch.delenv(k)
    assert L.export_distributed_env() == {}              # one task: no process group


# --- several ranks on one machine -------------------------------------------------------------

@pytest.mark.slow
@needs_i3d
def test_torchrun_trains_each_cell_once_with_two_ranks(tmp_path, vidbench_home):
    work, store = tmp_path / "work", tmp_path / "results" / "ablation.jsonl"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
           "2", "-m", "vidbench", "run", "ablation", "--dataset", "shapes", *ROW, *SET,
           "--work", str(work), "--results", str(store), "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "rank 0 of world size 2" in done.stdout
    assert done.stdout.count("train motion generator") == 1          # rank 0 logs, once
    assert "world size 2" in done.stdout
    records, problems = R.read_results(store)
    assert problems == [] and len(records) == 1                     # FVD, written once
    motion = next((work / "motion").iterdir())
    assert json.loads((motion / "run.json").read_text())["world_size"] == 2
    assert json.loads((motion / "complete.json").read_text())["world_size"] == 2
    image = next(p for p in (work / "image").iterdir() if p.is_dir())
    assert json.loads((image / "config.json").read_text())["world_size"] == 2


# --- Slurm ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A one-node Slurm (munged, slurmctld, slurmd) for this module's tests."""
    require_slurm()
    cluster = OneNodeSlurm(tmp_path_factory.mktemp("slurm")).start()
    old = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = cluster.env["SLURM_CONF"]
    yield cluster
    cluster.stop()
    if old is None:
        os.environ.pop("SLURM_CONF", None)
    else:
        os.environ["SLURM_CONF"] = old


def _table(store: Path, capsys) -> str:
    capsys.readouterr()
    assert main(["table", "ablation", "--results", str(store.parent), "--no-save"]) == 0
    return capsys.readouterr().out


def _outcome(fn):
    """``fn()``, or the exception it raised (to hand over from a thread)."""
    try:
        return fn()
    except BaseException as exc:  # noqa: BLE001 - re-raised by the caller
        return exc


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@needs_i3d
def test_slurm_run_matches_the_local_run(slurm, tmp_path, vidbench_home, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s_work, s_store = tmp_path / "slurm-work", tmp_path / "slurm" / "ablation.jsonl"
    args = ["run", "ablation", "--dataset", "shapes", *ROW, *SET, "--no-progress"]
    # the local launcher runs the same experiment meanwhile, in its own process and folders,
    # with one torch thread as the jobs (--slurm-cpus-per-task 1; float sums depend on it) and
    # the other libraries' threads as in the jobs
    l_work, l_store = tmp_path / "local-work", tmp_path / "local" / "ablation.jsonl"
    local_args = [*args, "--work", str(l_work), "--results", str(l_store)]
    local = subprocess.Popen([sys.executable, "-c", "import sys, torch; torch.set_num_threads(1); "
                              "from vidbench.cli import main; sys.exit(main(sys.argv[1:]))",
                              *local_args], cwd=tmp_path,
                             stdout=(tmp_path / "local.log").open("w"), stderr=subprocess.STDOUT)
    assert main([*args, "--work", str(s_work), "--results", str(s_store), "--launcher",
                 "slurm", "--wait"]) == 0
    out = capsys.readouterr().out
    jobs = json.loads(next((s_work / "slurm").glob("*/jobs.json")).read_text())
    for stage, entry in jobs.items():                              # --wait prints the status
        assert re.search(rf"^  {re.escape(stage)} +done +job {entry['job_id']}$", out, re.M), out
    evals = ["eval/no-eqn2/seed0/is", "eval/no-eqn2/seed0/fvd"]
    assert list(jobs) == ["image/high", "pca/high", "motion/no-eqn2/seed0", *evals, "table"]
    assert jobs["image/high"]["after"] == []
    for stage, needs in (("pca/high", ["image/high"]), ("motion/no-eqn2/seed0", ["pca/high"]),
                         (evals[0], ["motion/no-eqn2/seed0"]),
                         (evals[1], ["motion/no-eqn2/seed0"]), ("table", evals)):
        assert jobs[stage]["after"] == [jobs[n]["job_id"] for n in needs]   # afterok on them
    script = next((s_work / "slurm").glob("*/logs/*_submission.sh")).read_text()
    assert "#SBATCH --requeue" in script and "#SBATCH --open-mode=append" in script
    assert main(["run", "status", "ablation", "--dataset", "shapes", *ROW, *SET, "--work",
                 str(s_work), "--results", str(s_store), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert [(s["stage"], s["state"]) for s in status["stages"]] == [
        (s, "done") for s in jobs]
    assert all(s["job_id"] == jobs[s["stage"]]["job_id"] for s in status["stages"])
    # submitting again submits nothing: every stage is done
    assert main([*args, "--work", str(s_work), "--results", str(s_store), "--launcher",
                 "slurm", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["submitted"] == []

    assert local.wait(timeout=900) == 0, (tmp_path / "local.log").read_text()[-3000:]
    slurm_table, local_table = _table(s_store, capsys), _table(l_store, capsys)
    row = [line for line in slurm_table.splitlines() if line.startswith("w/o Eqn. 2")]
    assert row and any(ch.isdigit() for ch in row[0])
    assert slurm_table == local_table
    s_rec, l_rec = R.read_results(s_store)[0], R.read_results(l_store)[0]
    assert [r["value"] for r in s_rec] == [r["value"] for r in l_rec]


@pytest.mark.slow
def test_preempted_training_job_requeues_and_resumes_bit_identical(slurm, tmp_path,
                                                                  vidbench_home):
    steps = 8
    a = _plan(tmp_path / "a", tmp_path / "a" / "r.jsonl", **{"motion.steps": steps,
                                                              "motion.log_every": 1})
    exp = plan_experiment(**a)
    for stage in ("image/high", "pca/high"):
        run_stage(exp, stage, log=lambda m: None)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    b = plan_experiment(**_plan(tmp_path / "b", tmp_path / "b" / "r.jsonl",
                                **{"motion.steps": steps, "motion.log_every": 1}))
    from vidbench.experiments.launch import SlurmOptions, experiment_status, submit_slurm

    report = submit_slurm(a, SlurmOptions(time_min=30), log=lambda m: None)
    by_stage = {s["stage"]: s["job_id"] for s in report["submitted"]}
    job = by_stage["motion/no-eqn2/seed0"]
    # the uninterrupted run to compare with trains meanwhile, in this process
    reference: list = []
    uninterrupted = threading.Thread(target=lambda: reference.append(_outcome(
        lambda: run_stage(b, "motion/no-eqn2/seed0", log=lambda m: None))), daemon=True)
    uninterrupted.start()
    for stage, other in by_stage.items():            # only the training job is needed here
        if stage != "motion/no-eqn2/seed0":
            subprocess.run(["scancel", other], env=slurm.env)
    run_dir = exp.cells[0].motion_dir
    log = run_dir / "log.jsonl"

    def steps_logged() -> int:
        if not log.is_file():
            return 0
        return sum('"step"' in line and '"event"' not in line
                   for line in log.read_text().splitlines())

    _wait(lambda: steps_logged() >= 3, 300, "motion training to start")
    subprocess.run(["scancel", "--signal=USR1", job], check=True, env=slurm.env)
    from vidbench.experiments.launch import job_state

    stdout_log = Path(json.loads(next((tmp_path / "a" / "slurm").glob("*/jobs.json"))
                                 .read_text())["motion/no-eqn2/seed0"]["stdout"])

    def started_again() -> bool:
        # Slurm holds a requeued job for two minutes (its begin time); the test releases it,
        # once the requeue has taken effect (a release before that is overwritten)
        info = job_state(job)
        if info["state"] == "PENDING" and (info["restarts"] or 0) >= 1:
            subprocess.run(["scontrol", "update", f"JobId={job}", "StartTime=now"],
                           env=slurm.env, capture_output=True)
        return stdout_log.read_text().count("Starting with JobEnvironment") >= 2

    _wait(started_again, 300, "the job to be requeued and to start again")
    _wait(lambda: (run_dir / "complete.json").is_file(), 600, "the requeued job to finish")
    resumes = json.loads((run_dir / "resume.json").read_text())["resumes"]
    assert len(resumes) == 1 and 3 <= resumes[0]["from_step"] < steps
    status = {s["stage"]: s for s in experiment_status(a)["stages"]}
    assert status["motion/no-eqn2/seed0"]["state"] == "done"
    assert status["motion/no-eqn2/seed0"]["requeues"] >= 1
    stdout = stdout_log.read_text()                                 # both attempts (appended)
    assert "training interrupted at step" in stdout and f"Requeued job {job}" in stdout

    uninterrupted.join()
    if isinstance(reference[0], BaseException):
        raise reference[0]
    done_a = json.loads((run_dir / "complete.json").read_text())
    done_b = json.loads((b.cells[0].motion_dir / "complete.json").read_text())
    assert done_a["step"] == done_b["step"] == steps
    assert done_a["motion_sha256"] == done_b["motion_sha256"]
    wa = torch.load(run_dir / "modelR_latest.pth", weights_only=True)
    wb = torch.load(b.cells[0].motion_dir / "modelR_latest.pth", weights_only=True)
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa
                                          if isinstance(wa[k], torch.Tensor))


@pytest.mark.slow
def test_a_failed_stage_blocks_its_dependants_and_the_rerun_replaces_them(slurm, tmp_path,
                                                                         vidbench_home, capsys):
    """The image stage fails (a file stands where its folder goes): the jobs after it pend
    for ever, `run status` says they are blocked by it, and the same command run again cancels
    them and submits every stage afresh, each after the new job of the stage it needs."""
    from vidbench.experiments.launch import SlurmOptions, experiment_status, job_state, submit_slurm

    work, store = tmp_path / "w", tmp_path / "r" / "ablation.jsonl"
    plan = _plan(work, store)
    work.mkdir()
    (work / "image").write_text("a file where the image generators' folder goes\n")
    first = {s["stage"]: s["job_id"] for s in
             submit_slurm(plan, SlurmOptions(time_min=10), log=lambda m: None)["submitted"]}
    after_image = [s for s in first if s != "image/high"]

    def blocked() -> bool:
        st = {s["stage"]: s for s in experiment_status(plan)["stages"]}
        return st["image/high"]["state"] == "failed" and all(
            st[s]["state"] == "blocked" and st[s]["blocked_by"] == ["image/high"]
            for s in after_image)

    _wait(blocked, 300, "the image stage to fail")
    assert main(["run", "status", "ablation", "--rows", "no-eqn2", *SET, "--work", str(work),
                 "--results", str(store)]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"^  pca/high +blocked +job {first['pca/high']}, by image/high "
                     r"\(failed\)$", out, re.M), out
    assert "NotADirectoryError" in out or "FileExistsError" in out      # the failed job's log
    (work / "image").unlink()                                          # the cause, fixed
    report = submit_slurm(plan, SlurmOptions(time_min=10), log=lambda m: None)
    new = {s["stage"]: s for s in report["submitted"]}
    try:
        assert [c["job_id"] for c in report["cancelled"]] == [first[s] for s in after_image]
        assert list(new) == list(first)
        assert not {s["job_id"] for s in new.values()} & set(first.values())
        assert new["pca/high"]["after"] == [new["image/high"]["job_id"]]
        assert new["table"]["after"] == [new[s]["job_id"] for s in new if s.startswith("eval/")]
        _wait(lambda: all(job_state(first[s])["state"] == "CANCELLED" for s in after_image),
              60, "the blocked jobs to be cancelled")
    finally:                                    # the new jobs are not needed here
        subprocess.run(["scancel", *(s["job_id"] for s in new.values())], env=slurm.env)
