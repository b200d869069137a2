"""A one-node Slurm for the tests: munged, slurmctld and slurmd on this machine, with their
state, logs and ``slurm.conf`` in a temporary folder, stopped afterwards.

:func:`require_slurm` stops a test that cannot start the cluster here: without Debian's
``slurm-wlm`` / ``munge`` it fails in CI and skips elsewhere (naming
``tools/install-system-packages``, see ``_system.py``); not being root is a skip.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from _system import require_programs

PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "sinfo")


def require_slurm() -> None:
    """Fail (CI) or skip (elsewhere) without Slurm's programs; skip when not root."""
    require_programs(*PROGRAMS)
    if os.geteuid() != 0:
        pytest.skip("the one-node Slurm of the tests runs its daemons as root")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024 // 2
    return 1024


class OneNodeSlurm:
    """The daemons of a one-node cluster; ``env`` points Slurm's commands at it."""

    def __init__(self, state: Path):
        self.state = state
        self.procs: list[subprocess.Popen] = []
        self.host = socket.gethostname().split(".")[0]
        self.conf = state / "slurm.conf"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}

    def start(self, timeout: float = 60.0) -> "OneNodeSlurm":
        s = self.state
        for sub in ("munge", "ctld", "spool"):
            (s / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(s / "munge", 0o700)
        key = s / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        os.chmod(key, 0o400)
        sock = s / "munge" / "munge.socket"
        self.procs.append(subprocess.Popen(
            ["munged", "--foreground", "--force", f"--socket={sock}", f"--key-file={key}",
             f"--pid-file={s / 'munge' / 'munged.pid'}", f"--log-file={s / 'munge' / 'munged.log'}",
             f"--seed-file={s / 'munge' / 'munged.seed'}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        cpus = os.cpu_count() or 1
        self.conf.write_text("\n".join([
            "ClusterName=vidbench-test", f"SlurmctldHost={self.host}(127.0.0.1)",
            "AuthType=auth/munge", "CredType=cred/munge", f"AuthInfo=socket={sock}",
            "MpiDefault=none", "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none",
            "ReturnToService=2", "SlurmUser=root", "SlurmdUser=root",
            f"SlurmctldPort={_free_port()}", f"SlurmdPort={_free_port()}",
            f"SlurmctldPidFile={s / 'slurmctld.pid'}", f"SlurmdPidFile={s / 'slurmd.pid'}",
            f"SlurmdSpoolDir={s / 'spool'}", f"StateSaveLocation={s / 'ctld'}",
            f"SlurmctldLogFile={s / 'slurmctld.log'}", f"SlurmdLogFile={s / 'slurmd.log'}",
            "SchedulerType=sched/backfill", "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core", "JobCompType=jobcomp/none",
            "JobAcctGatherType=jobacct_gather/none", "AccountingStorageType=accounting_storage/none",
            "JobRequeue=1", "KillWait=5", "MinJobAge=3600", "SchedulerParameters=defer_batch",
            "SlurmctldParameters=enable_configless",
            f"NodeName={self.host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={_memory_mb()} "
            "State=UNKNOWN",
            f"PartitionName=test Nodes={self.host} Default=YES MaxTime=INFINITE State=UP",
            ""]))
        time.sleep(0.5)
        self.procs.append(subprocess.Popen(["slurmctld", "-D", "-i", "-f", str(self.conf)],
                                           env=self.env, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.STDOUT))
        self.procs.append(subprocess.Popen(["slurmd", "-D", "-f", str(self.conf), "-N", self.host],
                                           env=self.env, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.STDOUT))
        deadline = time.time() + timeout
        while time.time() < deadline:
            out = subprocess.run(["sinfo", "-h", "-o", "%t"], env=self.env, capture_output=True,
                                 text=True)
            if out.returncode == 0 and out.stdout.strip() in ("idle", "mix", "alloc"):
                return self
            if any(p.poll() is not None for p in self.procs):
                break
            time.sleep(0.5)
        logs = "\n".join(f"{f.name}: {f.read_text()[-1500:]}" for f in
                         (s / "slurmctld.log", s / "slurmd.log") if f.is_file())
        self.stop()
        raise RuntimeError(f"the one-node Slurm did not come up:\n{logs}")

    def stop(self) -> None:
        # jobs first (a job left running would outlive its daemons), then any job process
        # of this cluster's spool that a killed daemon left behind, then the daemons
        if self.procs and all(p.poll() is None for p in self.procs):
            subprocess.run(["scancel", "--full", "--user", str(os.getuid())], env=self.env,
                           capture_output=True, timeout=30)
            time.sleep(1.0)
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs.clear()
        subprocess.run(["pkill", "-KILL", "-f", str(self.state)], capture_output=True)
