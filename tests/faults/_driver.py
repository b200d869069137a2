"""Child process of the fault tests: the real ``vidbench`` command line (``vidbench.cli.main``)
with the tests' fast FVD protocol registered and, optionally, one fault point armed, so that a
test can SIGKILL it at a known place. Nothing here changes what vidbench computes.

    python tests/faults/_driver.py [--pause POINT:N] [--hold POINT:GO_FILE] [--marker FILE]
                                   [--no-lock] [--unreadable PATH] -- ARGS...

POINT is one of

* ``train-sample``: ``vidbench.train.motion.generate`` (fake clips sampled in a step),
* ``train-step``: ``vidbench.train.motion.video_d_loss`` (the D step in the middle of a step),
* ``extract``: one batch through the random-projection feature extractor,
* ``write=REGEX``: an atomic write (``atomic_path``) whose final file name matches REGEX, after
  the temporary file is complete and before it is renamed into place,
* ``results-line``: ``os.write`` of a results line: half of the line goes out, then the pause.

``--pause POINT:N``: the N-th time POINT is reached, write FILE (JSON: point, n, pid, the
temporary file of a write) and sleep until killed. ``--hold POINT:GO_FILE``: the first time
POINT is reached, write FILE and wait until GO_FILE exists. ``--no-lock``: the statistics cache
without its lock file. ``--unreadable PATH`` (repeatable): ``open(PATH)`` raises PermissionError
(what ``chmod 000`` does for a user other than root). ARGS are ``vidbench`` arguments, or
``append-results FILE FIRST COUNT``: append records ``cell-FIRST`` … to a results file.
"""
from __future__ import annotations

import argparse
import builtins
import contextlib
import errno
import io
import json
import os
import re
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

RECORD = {"metric": "fvd", "protocol": "test-random", "value": 1.5,
          "timestamp": "2024-01-01T00:00:00+00:00", "git_commit": "abc", "git_dirty": False,
          "versions": {"torch": "x"}, "device": "cpu"}


class Faults:
    """Counts the times each point is reached and pauses or holds as armed."""

    def __init__(self, pause: str | None, hold: str | None, marker: str | None):
        self.pause = pause.rsplit(":", 1) if pause else None
        self.hold = hold.split(":", 1) if hold else None
        self.marker = marker
        self.counts: dict[str, int] = {}

    def armed(self, point: str) -> bool:
        return any(spec and spec[0] == point for spec in (self.pause, self.hold))

    def _mark(self, point: str, n: int, info: dict) -> None:
        if self.marker:
            tmp = f"{self.marker}.tmp"
            with open(tmp, "w") as fh:
                json.dump({"point": point, "n": n, "pid": os.getpid(), **info}, fh)
            os.replace(tmp, self.marker)

    def hit(self, point: str, **info) -> None:
        n = self.counts[point] = self.counts.get(point, 0) + 1
        if self.pause and self.pause[0] == point and n == int(self.pause[1]):
            self._mark(point, n, info)
            time.sleep(3600)                       # until the test kills this process
        if self.hold and self.hold[0] == point and n == 1:
            self._mark(point, n, info)
            while not os.path.exists(self.hold[1]):
                time.sleep(0.02)


def install(faults: Faults, no_lock: bool, unreadable: list[str] | None) -> None:
    import vidbench.metrics.cache
    import vidbench.metrics.extractors
    import vidbench.train.checkpoint
    import vidbench.utils.fileio
    import vidbench.train.motion

    for name in ("train-sample", "train-step"):
        if faults.armed(name):
            attr = {"train-sample": "generate", "train-step": "video_d_loss"}[name]
            real = getattr(vidbench.train.motion, attr)

            def wrapped(*a, _real=real, _name=name, **k):
                faults.hit(_name)
                return _real(*a, **k)
            setattr(vidbench.train.motion, attr, wrapped)
    if faults.armed("extract"):
        cls = vidbench.metrics.extractors.RandomProjectionExtractor
        real_forward = cls._forward

        def forward(self, clips):
            faults.hit("extract")
            return real_forward(self, clips)
        cls._forward = forward
    writes = [s[0] for s in (faults.pause, faults.hold) if s and s[0].startswith("write=")]
    if writes:
        point = writes[0]
        pattern = re.compile(point[len("write="):])
        real_atomic = vidbench.utils.fileio.atomic_path

        @contextlib.contextmanager
        def atomic_path(path):
            with real_atomic(path) as tmp:
                yield tmp
                if pattern.search(Path(path).name):
                    faults.hit(point, tmp=str(tmp), path=str(path))
        for mod in (vidbench.utils.fileio, vidbench.train.checkpoint, vidbench.metrics.cache):
            mod.atomic_path = atomic_path
    if no_lock:
        vidbench.metrics.cache._file_lock = lambda path: contextlib.nullcontext()
    if unreadable:
        targets = {os.path.abspath(p) for p in unreadable}
        real_open = builtins.open

        def guarded_open(file, *a, **k):
            if isinstance(file, (str, os.PathLike)) and os.path.abspath(file) in targets:
                raise PermissionError(errno.EACCES, "Permission denied", os.fspath(file))
            return real_open(file, *a, **k)
        builtins.open = io.open = guarded_open


def append_results(faults: Faults, path: str, first: int, count: int) -> int:
    from vidbench.evaluation import records as results

    real_write = os.write

    def write(fd, data):
        if faults.pause and faults.pause[0] == "results-line" and \
                faults.counts.get("results-line", 0) + 1 == int(faults.pause[1]):
            real_write(fd, bytes(data[:len(data) // 2]))   # half the line is on disk
        faults.hit("results-line")
        return real_write(fd, data)
    os.write = write
    for i in range(first, first + count):
        results.append_result(path, {**RECORD, "cell": f"cell-{i}", "value": float(i)})
    return 0


def main() -> int:
    torch.set_num_threads(1)
    parser = argparse.ArgumentParser()
    parser.add_argument("--pause")
    parser.add_argument("--hold")
    parser.add_argument("--marker")
    parser.add_argument("--no-lock", action="store_true")
    parser.add_argument("--unreadable", action="append")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    opts = parser.parse_args()
    args = opts.args[1:] if opts.args[:1] == ["--"] else opts.args
    faults = Faults(opts.pause, opts.hold, opts.marker)
    if args[:1] == ["append-results"]:
        return append_results(faults, args[1], int(args[2]), int(args[3]))

    from fvd_helpers import TEST_PROTOCOL
    from vidbench.metrics.protocols import PROTOCOLS
    from vidbench.cli import main as vidbench_main

    PROTOCOLS[TEST_PROTOCOL.name] = TEST_PROTOCOL
    install(faults, opts.no_lock, opts.unreadable)
    return vidbench_main(args)


if __name__ == "__main__":
    sys.exit(main())
