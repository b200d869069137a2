"""The test command's set-up is one step: ``tools/install-system-packages`` installs the Debian
packages of ``tools/system-packages.txt``; ``.ci/run`` calls it; the README and docs name it;
a test lacking one of those programs fails in CI and, elsewhere, skips naming the command."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

import _system
from _system import (INSTALL_COMMAND, REPO, in_ci, missing_message, optional_program,
                     package_of, require_programs, system_packages)

SCRIPT = REPO / INSTALL_COMMAND
BASH = "/bin/bash"


def fake_programs(folder: Path, names) -> Path:
    folder.mkdir(exist_ok=True)
    for name in names:
        exe = folder / name
        exe.write_text("#!/bin/sh\nexit 0\n")
        exe.chmod(0o755)
    return folder


def run_script(*args, path: Path) -> subprocess.CompletedProcess:
    # only bash builtins decide what is missing, so PATH can be just the fake programs
    return subprocess.run([BASH, str(SCRIPT), *args], env={"PATH": str(path)},
                          capture_output=True, text=True, cwd=REPO, timeout=60)


def test_the_package_list_names_what_the_tests_look_for():
    packages = system_packages()
    assert {"chromium", "slurm-wlm", "munge"} <= set(packages)
    assert package_of("chromium") == "chromium"
    assert package_of("slurmctld") == package_of("sbatch") == "slurm-wlm"
    assert package_of("munged") == "munge"
    with pytest.raises(KeyError, match="not listed"):
        package_of("no-such-program")
    # every program the Slurm helper starts is listed, so its message can name the package
    from _slurm import PROGRAMS
    for program in PROGRAMS:
        assert package_of(program) in ("slurm-wlm", "munge")


@pytest.mark.parametrize("value, expected", [("true", True), ("TRUE", True), ("1", True),
                                             ("yes", True), ("false", False), ("0", False),
                                             ("", False), (None, False)])
def test_ci_is_read_from_the_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert in_ci() is expected


def test_missing_program_skips_on_a_users_machine_naming_the_command(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_programs("chromium", "slurmctld", find=lambda name: None)
    reason = str(skipped.value)
    assert "chromium, slurmctld not found" in reason
    assert "chromium slurm-wlm" in reason and INSTALL_COMMAND in reason
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        require_programs("munged", find=lambda name: None)


def test_missing_program_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception) as failed:
        require_programs("munged", find=lambda name: None)
    message = str(failed.value)
    assert "munged not found (Debian package munge)" in message
    assert INSTALL_COMMAND in message and "CI must have" in message
    with pytest.raises(pytest.fail.Exception):
        optional_program("chromium", find=lambda name: None)


def test_present_programs_pass_through(monkeypatch):
    monkeypatch.setenv("CI", "true")
    found = require_programs("slurmctld", "munged", find=lambda name: f"/usr/sbin/{name}")
    assert found == {"slurmctld": "/usr/sbin/slurmctld", "munged": "/usr/sbin/munged"}
    monkeypatch.delenv("CI")
    assert optional_program("chromium", find=lambda name: None) is None   # no check, no skip
    assert optional_program("chromium", find=lambda name: "/x/chromium") == "/x/chromium"


def test_the_default_lookup_is_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(fake_programs(tmp_path / "bin", ["munged"])))
    monkeypatch.delenv("CI", raising=False)
    assert require_programs("munged") == {"munged": str(tmp_path / "bin" / "munged")}
    with pytest.raises(pytest.skip.Exception):
        require_programs("munged", "slurmctld")


def test_the_message_is_what_the_slurm_tests_say(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(_system.shutil, "which", lambda name: None)
    from _slurm import require_slurm
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_slurm()
    from _slurm import PROGRAMS
    assert str(skipped.value) == missing_message(list(PROGRAMS))
    assert "munge slurm-wlm" in str(skipped.value) and INSTALL_COMMAND in str(skipped.value)


def test_script_check_and_print_list_only_what_is_missing(tmp_path):
    every = [p for programs in system_packages().values() for p in programs]
    empty = fake_programs(tmp_path / "none", [])
    done = run_script("--check", path=empty)
    assert done.returncode == 1
    for package in system_packages():
        assert f"(Debian package {package})" in done.stderr
    done = run_script("--print", path=empty)
    assert done.returncode == 0
    assert done.stdout.strip() == ("apt-get update && apt-get install -y "
                                   + " ".join(system_packages()))
    # chromium and munged present: only the packages with a missing program remain
    some = fake_programs(tmp_path / "some", [p for p in every if p not in ("sbatch", "umount")])
    done = run_script("--print", path=some)
    assert done.stdout.strip().endswith("apt-get install -y slurm-wlm mount")
    full = fake_programs(tmp_path / "full", every)
    assert run_script("--check", path=full).returncode == 0
    assert run_script("--print", path=full).stdout == ""
    # installing with everything present is a no-op that needs neither root nor apt-get
    done = run_script(path=full)
    assert done.returncode == 0 and "every system package" in done.stderr
    assert run_script("--bogus", path=full).returncode == 2


def test_ci_and_tox_use_the_one_step():
    ci = (REPO / ".ci" / "run").read_text()
    assert "tools/install-system-packages" in ci
    assert "apt-get" not in ci                  # no package list of its own
    assert os.access(SCRIPT, os.X_OK)
    tox = (REPO / "tox.ini").read_text()
    assert re.search(r"^pass_env = CI$", tox, re.M)   # tox would drop CI otherwise


def test_readme_and_docs_name_the_command():
    readme = (REPO / "README.md").read_text()
    assert INSTALL_COMMAND in readme
    docs = "".join(p.read_text() for p in (REPO / "docs").glob("*.md"))
    assert INSTALL_COMMAND in docs
