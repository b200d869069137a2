"""Weight files are checked at the door: `vidbench weights import` reads them with the safe
loaders and checks every key and shape (or the published sha256) before installing, and
refuses in vidbench's words (what the file holds, that nothing ran, what to get instead)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from vidbench.cli import main
from vidbench.models import weights
from vidbench.models.weight_door import check_contents
from vidbench.utils.errors import BadInputError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _vggfile import write_random_vgg16  # noqa: E402


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    h = tmp_path / "home"
    monkeypatch.setenv("VIDBENCH_HOME", str(h))
    return h


class _RunsCode:
    """Unpickling this calls os.system; a safe loader never gets that far."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _installed(home: Path, name: str) -> bool:
    return (home / "weights" / weights.get_spec(name).filename).exists()


def test_a_pickle_that_runs_code_is_refused_and_never_run(home, tmp_path, capsys):
    marker = tmp_path / "code-ran"
    evil = tmp_path / "vggface2.pt"
    torch.save({"logits.weight": _RunsCode(marker)}, evil)
    assert main(["weights", "import", "vggface2", str(evil)]) == 2
    err = capsys.readouterr().err
    assert not marker.exists() and not _installed(home, "vggface2")
    assert f"{evil}: holds pickled Python objects other than tensors" in err
    assert "system" in err                      # names what the file asks to call
    assert "nothing in the file was executed" in err
    assert "20180402-114759-vggface2.pt" in err  # what to get instead
    assert "weights_only" not in err and "Traceback" not in err
    # at use, the same words: torch's advice to turn the safe loader off is never shown
    with pytest.raises(BadInputError) as exc:
        weights.read_torch_state_dict(evil)
    assert "nothing in the file was executed" in str(exc.value)
    assert "weights_only" not in str(exc.value) and not marker.exists()


def test_a_state_dict_with_one_wrong_key_is_refused(home, tmp_path, capsys):
    good = write_random_vgg16(tmp_path / "vgg16-397923af.pth", random_convs=1)
    state = torch.load(good, weights_only=True)
    state["features.0.weigth"] = state.pop("features.0.weight")
    bad = tmp_path / "renamed.pth"
    torch.save(state, bad)
    assert main(["weights", "import", "vgg16", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "missing keys: features.0.weight" in err
    assert "unexpected keys: features.0.weigth" in err
    assert "nothing was installed" in err and "vgg16-397923af.pth" in err
    assert not _installed(home, "vgg16")
    # one wrong shape
    state["features.0.weight"] = state.pop("features.0.weigth")[:, :, :2]
    torch.save(state, bad)
    assert main(["weights", "import", "vgg16", str(bad)]) == 2
    assert "features.0.weight (64, 3, 2, 3) != (64, 3, 3, 3)" in capsys.readouterr().err
    assert not _installed(home, "vgg16")
    # the right layout is installed, and says how it was checked
    assert main(["weights", "import", "vgg16", str(good)]) == 0
    assert "keys and shapes checked" in capsys.readouterr().out
    assert _installed(home, "vgg16")


def test_a_mean_clip_in_another_layout_is_refused(home, tmp_path, capsys):
    path = tmp_path / "mean2.npz"
    np.savez(path, average=np.zeros((3, 16, 128, 171), np.float32))
    assert main(["weights", "import", "c3d-mean", str(path)]) == 2
    err = capsys.readouterr().err
    assert "expected one array named 'mean', found ['average']" in err
    assert not _installed(home, "c3d-mean")


def test_a_numpy_pickle_that_names_code_is_refused(home, tmp_path, capsys):
    marker = tmp_path / "code-ran"
    path = tmp_path / "conv3d_deepnetA_ucf.npz"
    np.savez(path, **{"conv1a/W": np.array([_RunsCode(marker)], dtype=object)})
    assert main(["weights", "import", "c3d", str(path)]) == 2
    err = capsys.readouterr().err
    assert not marker.exists() and not _installed(home, "c3d")
    assert "Traceback" not in err and "allow_pickle" not in err
    assert "holds pickled Python objects (object arrays)" in err
    assert "nothing in the file was executed" in err
    assert f"{path}:" in err and "nothing was installed" in err


def test_a_file_with_a_published_hash_is_checked_by_it(home, tmp_path):
    junk = tmp_path / "i3d-kinetics-400.ckpt"
    junk.write_bytes(b"\0" * 100)
    assert check_contents("i3d", junk) == "sha256"
    with pytest.raises(weights.WeightsMismatchError):
        weights.import_file("i3d", junk)
