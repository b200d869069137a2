"""Helpers of the fault tests: child processes (the real CLI, or the CLI through
``_driver.py`` with a fault point armed), waiting for a pause, SIGKILL."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "_driver.py"
ROOT = HERE.parent.parent


def child_env(home: str | os.PathLike | None = None) -> dict[str, str]:
    """The environment of a child: one thread, and ``home`` as $VIDBENCH_HOME when given."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if home is not None:
        env["VIDBENCH_HOME"] = str(home)
    return env


def vidbench_cmd(*args: str) -> list[str]:
    """The command line a user types: ``python -m vidbench ARGS``."""
    return [sys.executable, "-m", "vidbench", *map(str, args)]


def driver_cmd(*args: str, pause: str | None = None, hold: str | None = None,
               marker: str | os.PathLike | None = None, no_lock: bool = False,
               unreadable: tuple = ()) -> list[str]:
    """``vidbench ARGS`` through the driver (test protocol registered, one fault armed)."""
    cmd = [sys.executable, str(DRIVER)]
    for flag, value in (("--pause", pause), ("--hold", hold), ("--marker", marker)):
        if value is not None:
            cmd += [flag, str(value)]
    for path in unreadable:
        cmd += ["--unreadable", str(path)]
    if no_lock:
        cmd.append("--no-lock")
    return cmd + ["--", *map(str, args)]


def run(cmd: list[str], env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    """Run to the end; stdout and stderr as text (UTF-8, undecodable bytes replaced)."""
    return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, timeout=timeout,
                          encoding="utf-8", errors="replace")


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start a child whose stdout and stderr go to ``log``."""
    fh = open(log, "w")
    try:
        return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    finally:
        fh.close()


def wait_for_marker(proc: subprocess.Popen, marker: Path, log: Path,
                    timeout: float = 180.0) -> dict:
    """The marker a paused child wrote (it is then sleeping, ready to be killed)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if marker.is_file():
            return json.loads(marker.read_text())
        if proc.poll() is not None:
            raise AssertionError(f"the child ended (status {proc.returncode}) before its "
                                 f"fault point:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"no fault point reached in {timeout} s:\n{log.read_text()[-3000:]}")


def sigkill(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc`` and reap it."""
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL


def kill_at(cmd_args: tuple, *, pause: str, env: dict[str, str], tmp: Path, name: str,
            **driver_opts) -> dict:
    """Run ``vidbench CMD_ARGS`` until fault point ``pause``, SIGKILL it there, return the
    marker (what the child was doing)."""
    marker, log = tmp / f"{name}.marker", tmp / f"{name}.log"
    proc = start(driver_cmd(*cmd_args, pause=pause, marker=marker, **driver_opts), env, log)
    try:
        info = wait_for_marker(proc, marker, log)
    finally:
        if proc.poll() is None:
            sigkill(proc)
    return info
