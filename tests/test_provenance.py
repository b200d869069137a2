"""Provenance: the git state recorded with every result."""
from __future__ import annotations

import subprocess

from vidbench.utils.provenance import git_state


def _git(repo, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                   cwd=repo, check=True, capture_output=True)


def test_rewritten_outputs_do_not_make_the_code_dirty(tmp_path):
    repo = tmp_path / "repo"
    (repo / "results" / "demo").mkdir(parents=True)
    (repo / "code.py").write_text("x = 1\n")
    (repo / "results" / "demo" / "table.txt").write_text("old\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "first")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                          text=True, check=True).stdout.strip()

    state = git_state.__wrapped__   # uncached: the tree changes between calls
    assert state(repo) == {"git_commit": head, "git_dirty": False}
    (repo / "results" / "demo" / "table.txt").write_text("new\n")     # a run's outputs
    (repo / "results" / "demo" / "grid.png").write_bytes(b"png")     # and a new one
    assert state(repo)["git_dirty"] is False
    (repo / "code.py").write_text("x = 2\n")                         # the code itself
    assert state(repo)["git_dirty"] is True


def test_outside_a_checkout(tmp_path):
    assert git_state.__wrapped__(tmp_path) == {"git_commit": None, "git_dirty": None}


def test_the_default_checkout_is_the_repository_root():
    """A change anywhere in the checkout (models/, metrics/, tests/, not only vidbench/) must
    be able to mark a result dirty: git runs at the top of the checkout."""
    from pathlib import Path

    import vidbench
    from vidbench.utils.provenance import CHECKOUT

    assert CHECKOUT == Path(vidbench.__file__).resolve().parent.parent   # holds vidbench/
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=CHECKOUT,
                         capture_output=True, text=True)
    if top.returncode == 0:                          # a git checkout (not an sdist)
        assert CHECKOUT.samefile(top.stdout.strip())
