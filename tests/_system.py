"""Programs the tests need from Debian packages, and what a test does when one is missing.

``tools/system-packages.txt`` lists each package with the programs the tests look for;
``tools/install-system-packages`` installs them in one step (``.ci/run`` calls it). A test that
needs a program calls :func:`require_programs` (or :func:`optional_program` where the program
only adds a check): when the program is missing the test **fails in CI** (``CI`` set to
``true``/``1``/``yes``, as ``.ci/run`` and tox pass it), because CI must have everything, and is
**skipped elsewhere** with a reason naming the package and the command that installs it.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable, Mapping

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES_FILE = REPO / "tools" / "system-packages.txt"
INSTALL_COMMAND = "tools/install-system-packages"

Finder = Callable[[str], "str | None"]


def system_packages(path: Path = PACKAGES_FILE) -> dict[str, tuple[str, ...]]:
    """Debian package -> the programs the tests look for from it."""
    packages = {}
    for line in path.read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            packages[fields[0]] = tuple(fields[1:])
    return packages


def package_of(program: str) -> str:
    """The Debian package that provides ``program`` (a KeyError names an unlisted program)."""
    for package, programs in system_packages().items():
        if program in programs:
            return package
    raise KeyError(f"{program} is not listed in {PACKAGES_FILE.relative_to(REPO)}")


def in_ci(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the tests run in CI (``CI`` is ``true``, ``1`` or ``yes``, any case)."""
    value = (os.environ if environ is None else environ).get("CI", "")
    return value.strip().lower() in ("true", "1", "yes")


def missing_message(programs: list[str]) -> str:
    """What a test says when ``programs`` are missing: the packages and the command to run."""
    packages = list(dict.fromkeys(package_of(p) for p in programs))
    return (f"{', '.join(programs)} not found (Debian package{'s' * (len(packages) > 1)} "
            f"{' '.join(packages)}): run `{INSTALL_COMMAND}` as root in the repository")


def _missing(programs: list[str]) -> None:
    message = missing_message(programs)
    if in_ci():
        pytest.fail(f"{message} (CI must have every system package the tests need)",
                    pytrace=False)
    pytest.skip(message)


def require_programs(*programs: str, find: Finder | None = None) -> dict[str, str]:
    """The path of each program (looked up with ``find``, default ``shutil.which``); if any is
    missing, fail in CI and skip elsewhere."""
    find = find or shutil.which
    found = {p: find(p) for p in programs}
    absent = [p for p, path in found.items() if path is None]
    if absent:
        _missing(absent)
    return found  # type: ignore[return-value]


def optional_program(program: str, find: Finder | None = None) -> str | None:
    """The program's path, or None where a test can do without it; in CI a missing program
    fails the test all the same."""
    path = (find or shutil.which)(program)
    if path is None:
        package_of(program)  # an unlisted program is a mistake in the test, here too
        if in_ci():
            _missing([program])
    return path
