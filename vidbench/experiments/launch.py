"""Run an experiment's stages as Slurm jobs through submitit; where they are; their state.

:func:`submit_slurm` plans the stage graph (:mod:`vidbench.experiments.stages`) and submits
every stage that is not done as one ``sbatch`` job whose ``--dependency=afterok:…`` names the
jobs of the stages it needs, so no job waits on a lock while holding a GPU. What was submitted
is recorded in ``WORK/slurm/<run>/jobs.json`` (stage → job id and log files, written by an
atomic rename) next to submitit's logs, where :func:`experiment_status` finds them. Submitting
again submits only what is neither done nor queued nor running. A job that a failed stage
left pending for ever (Slurm's reason ``DependencyNeverSatisfied``: ``afterok`` on a job that
failed), or that waits on a job which is no longer its prerequisite's, is cancelled
(``scancel``) and submitted again after the prerequisite's new job; ``run status`` shows it as
``blocked`` by the failed stage until then (:func:`keep_job` decides).

Each job runs a :class:`StageJob`, a ``submitit.helpers.Checkpointable``: on submitit's
time-limit signal (SIGUSR2, sent by Slurm 90 s before the limit), SIGUSR1
(``scancel --signal=USR1``) or SIGTERM (preemption) a
training stage writes its checkpoint at the end of the current step, then submitit's
protocol requeues the job (``scontrol requeue``) and the requeued job resumes from that
checkpoint exactly. A training stage with several tasks (``--slurm-nodes``,
``--slurm-gpus-per-task``) joins them into one ``torch.distributed`` group.

Shared storage is checked, not assumed: the work folder, the results store and
``$VIDBENCH_HOME`` are absolute paths, and each job first checks that it sees the run's
``shared-check.json`` (written by the submitter) and the results and home folders, and fails
with a message naming the folder otherwise.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from submitit.helpers import Checkpointable

from vidbench.experiments.stages import (TRAINING_KINDS, Experiment, plan_experiment,
                                         plan_stages)
from vidbench.utils.errors import VidbenchError

SLURM_DIR = "slurm"
JOBS_FILE = "jobs.json"
SHARED_CHECK = "shared-check.json"
LIVE_STATES = ("PENDING", "RUNNING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "CONFIGURING",
               "COMPLETING", "SUSPENDED", "RESIZING", "SIGNALING", "STAGE_OUT")
STATE_WORDS = {"PENDING": "queued", "CONFIGURING": "queued", "REQUEUED": "requeued",
               "REQUEUE_HOLD": "requeued", "REQUEUE_FED": "requeued", "RUNNING": "running",
               "COMPLETING": "running", "SUSPENDED": "suspended", "COMPLETED": "completed",
               "FAILED": "failed", "CANCELLED": "cancelled", "TIMEOUT": "failed",
               "NODE_FAIL": "failed", "OUT_OF_MEMORY": "failed", "PREEMPTED": "requeued",
               "BOOT_FAIL": "failed", "DEADLINE": "failed"}


@dataclass(frozen=True)
class SlurmOptions:
    """What clusters differ in (each maps to one ``sbatch`` option)."""

    partition: str | None = None            # --partition
    account: str | None = None              # --account
    time_min: int = 60                      # --time, minutes
    nodes: int = 1                          # --nodes (training stages)
    gpus_per_task: int = 0                  # --gpus-per-task; tasks per node = max(1, this)
    tasks_per_node: int = 1                 # --ntasks-per-node of training stages
    cpus_per_task: int = 1                  # --cpus-per-task
    mem_gb: float | None = None             # --mem
    setup: tuple[str, ...] = ()             # shell lines before the job (module load ...)
    additional: Mapping[str, str] = field(default_factory=dict)  # other #SBATCH KEY=VALUE

    def executor_parameters(self, training: bool) -> dict[str, Any]:
        params: dict[str, Any] = {
            "time": self.time_min, "cpus_per_task": self.cpus_per_task,
            "nodes": self.nodes if training else 1,
            "ntasks_per_node": self.tasks_per_node if training else 1,
            "setup": list(self.setup),
            # a requeued job appends to its logs: status shows every attempt
            "additional_parameters": {"requeue": True, "open_mode": "append",
                                      **dict(self.additional)}}
        if self.partition:
            params["partition"] = self.partition
        if self.account:
            params["account"] = self.account
        if self.gpus_per_task:
            params["gpus_per_task"] = self.gpus_per_task
        if self.mem_gb:
            params["mem"] = f"{int(self.mem_gb * 1024)}M"
        return params


def absolute_plan_args(plan_args: Mapping[str, Any]) -> dict[str, Any]:
    """The planning arguments with ``work_dir``, ``results`` and ``root`` made absolute (jobs
    start in other folders, on other nodes)."""
    from vidbench.experiments.build import default_results, default_work

    out = dict(plan_args)
    spec_name = out["name"]
    out["work_dir"] = str(Path(out.get("work_dir") or default_work()).resolve())
    out["results"] = str(Path(out.get("results") or default_results(spec_name)).resolve())
    if out.get("root"):
        out["root"] = str(Path(out["root"]).resolve())
    return out


def run_folder(exp: Experiment, plan_args: Mapping[str, Any]) -> Path:
    """``WORK/slurm/<experiment>-<data set>-<digest of the plan>``: jobs and logs of a run."""
    from vidbench.data.base import fingerprint_of

    digest = fingerprint_of({k: v for k, v in sorted(plan_args.items())})[:12]
    name = exp.cells[0].dataset if exp.cells else "none"
    return exp.work / SLURM_DIR / f"{exp.spec.name}-{name.replace('/', '_')}-{digest}"


def _read_jobs(folder: Path) -> dict[str, Any]:
    path = folder / JOBS_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def _write_jobs(folder: Path, jobs: Mapping[str, Any]) -> None:
    from vidbench.utils.fileio import atomic_write_text

    atomic_write_text(folder / JOBS_FILE, json.dumps(jobs, indent=1) + "\n")


def _slurm_cmd(args: list[str]) -> str | None:
    """stdout of a Slurm command, or None when it fails or is missing."""
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def job_state(job_id: str) -> dict[str, Any]:
    """``{"state": SLURM_STATE or None, "reason": why it is pending or None, "restarts": int
    or None}`` from ``squeue``, then ``scontrol show job`` (``sacct`` needs a database that
    small clusters lack)."""
    state, reason, restarts = None, None, None
    out = _slurm_cmd(["squeue", "-h", "-j", str(job_id), "-o", "%T %r"])
    if out and out.strip():
        state, _, reason = out.strip().partition(" ")
    shown = _slurm_cmd(["scontrol", "show", "job", str(job_id)])
    if shown:
        fields = dict(tok.split("=", 1) for tok in shown.split() if "=" in tok)
        state = state or fields.get("JobState")
        reason = reason or fields.get("Reason")
        if fields.get("Restarts", "").isdigit():
            restarts = int(fields["Restarts"])
    return {"state": state, "reason": reason if reason not in ("", "None", "(null)") else None,
            "restarts": restarts}


NEVER_SATISFIED = "DependencyNeverSatisfied"   # afterok on a job that failed


def keep_job(info: Mapping[str, Any], after: list[str], current: set[str]) -> bool:
    """Whether a stage's earlier job (``info``: :func:`job_state`) is kept when the experiment
    is submitted again: a job that ended without its completion mark, or that is pending on a
    dependency that can never be met (``DependencyNeverSatisfied``) or on a job that is no
    longer its prerequisite's (``after`` not all in ``current``, the jobs now standing for its
    prerequisites), is not (it is cancelled and submitted again). A running job is kept."""
    state = info.get("state") or ""
    if state not in LIVE_STATES:
        return False
    if state != "PENDING":
        return True
    if info.get("reason") == NEVER_SATISFIED:
        return False
    return set(after) <= current


def _tail(path: str | None, lines: int = 8) -> list[str]:
    if not path or not Path(path).is_file():
        return []
    return Path(path).read_text(errors="replace").splitlines()[-lines:]


def _requeues(entry: Mapping[str, Any]) -> int:
    """Times the stage's job was requeued, from submitit's log (``Requeued job``)."""
    path = entry.get("stdout")
    if not path or not Path(path).is_file():
        return 0
    return Path(path).read_text(errors="replace").count("Requeued job")


def experiment_status(plan_args: Mapping[str, Any]) -> dict[str, Any]:
    """Each stage with its state (``done``, ``queued``, ``running``, ``requeued``, ``failed``
    with the log's last lines, ``cancelled``, ``blocked``: pending on a stage that failed,
    named in ``blocked_by``, ``todo``: never submitted), job id and requeue count."""
    plan_args = absolute_plan_args(plan_args)
    exp = plan_experiment(**plan_args)
    folder = run_folder(exp, plan_args)
    jobs = _read_jobs(folder)
    out = []
    rows: dict[str, dict[str, Any]] = {}
    for stage in plan_stages(exp):
        entry = jobs.get(stage.id, {})
        job_id = entry.get("job_id")
        row: dict[str, Any] = {"stage": stage.id, "kind": stage.kind, "job_id": job_id,
                               "needs": list(stage.needs), "requeues": _requeues(entry)}
        if stage.done:
            row["state"] = "done"
            restarts = job_state(job_id)["restarts"] if job_id is not None else None
            row["requeues"] = max(row["requeues"], restarts or 0)
        elif job_id is None:
            row["state"] = "todo"
        else:
            info = job_state(job_id)
            if info["restarts"] is not None:
                row["requeues"] = max(row["requeues"], info["restarts"])
            word = STATE_WORDS.get(info["state"] or "", None)
            if word in (None, "completed"):     # gone from Slurm, or ended without its mark
                word = "failed"
            row["state"] = word
            row["slurm_state"] = info["state"]
            if info["reason"]:
                row["slurm_reason"] = info["reason"]
            failed_needs = [n for n in stage.needs
                            if rows.get(n, {}).get("state") in ("failed", "cancelled",
                                                                 "blocked")]
            if word == "queued" and (failed_needs or info["reason"] == NEVER_SATISFIED):
                row["state"] = "blocked"
                row["blocked_by"] = list(dict.fromkeys(
                    b for n in failed_needs for b in (rows[n].get("blocked_by") or [n])))
            if word == "failed":
                row["log"] = entry.get("stderr")
                row["log_tail"] = _tail(entry.get("stderr"))
        rows[stage.id] = row
        out.append(row)
    return {"experiment": exp.spec.name, "dataset": exp.dataset, "folder": str(folder),
            "stages": out}


def _check_shared(exp: Experiment, token: str, home: str) -> None:
    """In a job: the submitter's folders are visible here (one shared file system)."""
    folder_check = None
    for path in Path(exp.work / SLURM_DIR).glob(f"*/{SHARED_CHECK}"):
        if json.loads(path.read_text()).get("token") == token:
            folder_check = path
            break
    problems = []
    if folder_check is None:
        problems.append(f"the work folder {exp.work} (no {SHARED_CHECK} with this run's token)")
    if not exp.store.parent.is_dir():
        problems.append(f"the results folder {exp.store.parent}")
    if not Path(home).is_dir():
        problems.append(f"$VIDBENCH_HOME {home}")
    if problems:
        raise VidbenchError("this node does not see " + "; ".join(problems) + ": put them on a "
                            "file system every node mounts at the same path (--work, --results, "
                            "$VIDBENCH_HOME)")


DISTRIBUTED_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR",
                    "MASTER_PORT")


def export_distributed_env() -> dict[str, str]:
    """In one task of a job with several (``srun`` sets ``SLURM_NTASKS``, ``SLURM_PROCID``,
    ``SLURM_LOCALID``, ``SLURM_JOB_NODELIST``, ...): export the variables
    ``torch.distributed``'s ``env://`` start reads (``RANK`` = the task's global rank,
    ``WORLD_SIZE`` = the number of tasks, ``LOCAL_RANK``, ``MASTER_ADDR`` = the job's first
    node, ``MASTER_PORT`` from the job id), through submitit's
    ``TorchDistributedEnvironment``, leaving ``CUDA_VISIBLE_DEVICES`` as Slurm set it; returns
    them. With one task: nothing (``{}``)."""
    if int(os.environ.get("SLURM_NTASKS", "1")) <= 1:
        return {}
    import submitit

    submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False)
    return {k: os.environ[k] for k in DISTRIBUTED_VARS if k in os.environ}


class _StopFlag:
    def __init__(self) -> None:
        self.signal: int | None = None

    def __call__(self) -> bool:
        return self.signal is not None

    def handler(self, signum, frame) -> None:
        self.signal = signum


class StageJob(Checkpointable):
    """One stage as a submitit job (picklable; the job re-plans the experiment from
    ``plan_args``, so it runs the same stage graph as the submitter)."""

    def __init__(self, plan_args: Mapping[str, Any], stage_id: str, device: str, token: str,
                 home: str):
        self.plan_args = dict(plan_args)
        self.stage_id = stage_id
        self.device = device
        self.token = token
        self.home = home

    def __call__(self) -> dict[str, Any]:
        from vidbench.utils.distributed import distributed_from_env
        from vidbench.utils.errors import TrainingInterrupted

        import torch

        os.environ["VIDBENCH_HOME"] = self.home
        if os.environ.get("SLURM_CPUS_PER_TASK", "").isdigit():   # the CPUs it was given
            torch.set_num_threads(int(os.environ["SLURM_CPUS_PER_TASK"]))
        exp = plan_experiment(**self.plan_args)
        _check_shared(exp, self.token, self.home)
        export_distributed_env()
        from submitit import JobEnvironment

        flag = _StopFlag()
        requeue_signal = JobEnvironment._usr_sig()    # submitit's time-limit signal (USR2)
        requeue = signal.getsignal(requeue_signal)    # its checkpoint-and-requeue handler
        for signum in {signal.SIGUSR1, signal.SIGTERM, requeue_signal}:
            signal.signal(signum, flag.handler)
        from vidbench.experiments.stages import run_stage

        try:
            with distributed_from_env(self.device) as device:
                return run_stage(exp, self.stage_id, device=device, lock=False, stop=flag,
                                 log=lambda msg: print(msg, flush=True))
        except TrainingInterrupted as exc:
            print(f"{exc} (signal {flag.signal}); asking Slurm to requeue", flush=True)
            if not callable(requeue):
                raise
            # Slurm carries out the requeue by sending the job SIGCONT and SIGTERM, which can
            # come before `scontrol requeue` (run by submitit as a child of this process) has
            # returned: killed, it failed the job's log and exit status. Ignored here, SIGTERM
            # is ignored by that child too (an ignored signal stays ignored across exec).
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            requeue(requeue_signal, None)   # calls self.checkpoint, requeues, exits
            raise


def submit_slurm(plan_args: Mapping[str, Any], options: SlurmOptions, *, device: str = "cpu",
                 wait: bool = False, poll_s: float = 2.0,
                 log: Callable[[str], None] = print) -> dict[str, Any]:
    """Submit every stage that is neither done nor queued nor running; with ``wait`` poll
    until every stage is done (or one failed). Returns what was submitted and, with ``wait``,
    the final status."""
    import submitit

    from vidbench.utils.fileio import atomic_write_text
    from vidbench.utils.paths import home

    plan_args = absolute_plan_args(plan_args)
    exp = plan_experiment(**plan_args)
    folder = run_folder(exp, plan_args)
    home_dir = str(Path(home()).resolve())
    check = folder / SHARED_CHECK      # the token stays: jobs still queued check it too
    token = json.loads(check.read_text())["token"] if check.is_file() else os.urandom(8).hex()
    exp.store.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(check, json.dumps(
        {"token": token, "work": str(exp.work), "results": str(exp.store),
         "vidbench_home": home_dir, "plan": plan_args}, indent=1, default=str) + "\n")
    jobs = _read_jobs(folder)
    stages = plan_stages(exp)
    live: dict[str, str] = {}
    submitted = []
    cancelled = []
    for stage in stages:
        if stage.done:
            continue
        old = jobs.get(stage.id)
        if old:
            info = job_state(old["job_id"])
            current = {live[n] if n in live else jobs.get(n, {}).get("job_id")
                       for n in stage.needs}
            if keep_job(info, old.get("after", []), current):
                live[stage.id] = old["job_id"]
                log(f"{stage.id}: job {old['job_id']} already queued or running")
                continue
            if (info["state"] or "") in LIVE_STATES:    # pending on a failed prerequisite
                _slurm_cmd(["scancel", str(old["job_id"])])
                cancelled.append({"stage": stage.id, "job_id": old["job_id"],
                                  "reason": info["reason"]})
                log(f"{stage.id}: cancelled job {old['job_id']} (pending on a prerequisite "
                    f"that failed: {info['reason'] or 'job replaced'})")
        deps = [live[n] for n in stage.needs if n in live]
        executor = submitit.SlurmExecutor(folder=folder / "logs")
        executor.update_parameters(job_name=f"vidbench-{stage.id}",
                                   **options.executor_parameters(stage.kind in TRAINING_KINDS),
                                   **({"dependency": "afterok:" + ":".join(deps)} if deps
                                      else {}))
        job = executor.submit(StageJob(plan_args, stage.id, device, token, home_dir))
        live[stage.id] = job.job_id
        jobs[stage.id] = {"job_id": job.job_id, "submitted": time.time(), "after": deps,
                          "stdout": str(job.paths.stdout), "stderr": str(job.paths.stderr)}
        _write_jobs(folder, jobs)
        submitted.append({"stage": stage.id, "job_id": job.job_id, "after": deps})
        log(f"{stage.id}: submitted job {job.job_id}"
            + (f" (afterok:{':'.join(deps)})" if deps else ""))
    report: dict[str, Any] = {"experiment": exp.spec.name, "folder": str(folder),
                              "submitted": submitted, "cancelled": cancelled,
                              "options": asdict(options)}
    if wait:
        while True:
            status = experiment_status(plan_args)
            states = [s["state"] for s in status["stages"]]
            if all(s == "done" for s in states) or any(
                    s in ("failed", "cancelled") for s in states):
                break
            time.sleep(poll_s)
        report["status"] = status
    return report
