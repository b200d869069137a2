"""User-facing errors.

A :class:`VidbenchError` is a mistake in the user's input (a bad file, an unknown name, a
missing weight file). The CLI prints its message without a traceback and exits with code 2.
Anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import os


class VidbenchError(Exception):
    """An error caused by the user's input; printed without a traceback."""


class BadInputError(VidbenchError):
    """A data file that cannot be used, with the file and the reason."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class MissingWeightsError(VidbenchError):
    """A published weight file that is not where it should be."""


class DiskFullError(VidbenchError):
    """No space (or quota) left while writing ``path``; what was there before is unchanged."""

    def __init__(self, path: str | os.PathLike, detail: str = ""):
        self.path = str(path)
        super().__init__(f"disk full while writing {self.path}"
                         + (f" ({detail})" if detail else "")
                         + "; the previous version of the file, if any, is unchanged")


class TrainingInterrupted(Exception):
    """Training stopped on request (a preemption signal) after writing its checkpoint at
    ``step``; resuming the run continues exactly from there."""

    def __init__(self, run_dir: str | os.PathLike, step: int):
        self.run_dir = str(run_dir)
        self.step = step
        super().__init__(f"{self.run_dir}: training interrupted at step {step}; its checkpoint "
                         "is written, resume to continue")
