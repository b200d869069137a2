"""Hostile weight files: one flipped byte is refused by its sha256; a pickle that would run
code when loaded is refused by the numpy-only unpickler; torch files are read with
``weights_only=True``, so a torch file whose pickle would run code is refused. Each payload
here writes a file when it runs, and each test first shows that it does run under a plain
load (so the refusal is not vacuous), then that no vidbench reader lets it run."""
from __future__ import annotations

import ast
import hashlib
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from _faults import ROOT
from vidbench.models import weights as W
from vidbench.models.safe_pickle import load_numpy_pickle
from vidbench.models.state_io import read_state_dict
from vidbench.train.checkpoint import load_training_state
from vidbench.utils.errors import BadInputError
from vidbench.train.image_generator import load_image_generator


class WritesAFile:
    """Unpickling this calls ``exec``, which creates ``path``."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return exec, (f"open({self.path!r}, 'w').write('code ran')",)


class RunsAShellCommand:
    """Unpickling this calls ``os.system("touch path")`` (pickled as ``posix.system``)."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return os.system, (f"touch '{self.path}'",)


def _spec(tmp_path, monkeypatch, data: bytes, name: str = "fault-test") -> W.WeightSpec:
    """A registry entry (size and sha256 of ``data``) with the file installed in a fresh home."""
    monkeypatch.setenv("VIDBENCH_HOME", str(tmp_path / "home"))
    spec = W.WeightSpec(name=name, filename=f"{name}.pkl", size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), source="made by this test",
                        reader=load_numpy_pickle)
    monkeypatch.setitem(W.REGISTRY, name, spec)
    W.weights_dir().mkdir(parents=True)
    (W.weights_dir() / spec.filename).write_bytes(data)
    return spec


def test_one_flipped_byte_is_refused_by_its_hash(tmp_path, monkeypatch):
    conv = np.arange(4096, dtype=np.float32)
    good = pickle.dumps({"conv": conv}, protocol=4)
    spec = _spec(tmp_path, monkeypatch, good)
    np.testing.assert_array_equal(W.read_weights(spec.name)["conv"], conv)
    path = W.weights_dir() / spec.filename
    data = bytearray(good)
    data[len(data) // 2] ^= 0x01                      # one bit of one float
    path.write_bytes(bytes(data))
    assert not np.array_equal(load_numpy_pickle(path)["conv"], conv)   # it still loads...
    with pytest.raises(W.WeightsMismatchError) as err:                       # ...but is refused
        W.read_weights(spec.name)
    assert err.value.path == str(path)
    assert f"does not match the expected {spec.sha256}" in err.value.reason
    assert hashlib.sha256(bytes(data)).hexdigest() in err.value.reason
    # installing the damaged copy is refused too, and the good file is kept
    path.write_bytes(good)
    damaged = tmp_path / "download.pkl"
    damaged.write_bytes(bytes(data))
    with pytest.raises(W.WeightsMismatchError):
        W.import_file(spec.name, damaged)
    assert path.read_bytes() == good and sorted(os.listdir(W.weights_dir())) == [spec.filename]


def test_flipped_byte_in_the_real_i3d_file(tmp_path, monkeypatch):
    real = Path(os.environ.get("VIDBENCH_HOME", Path.home() / ".cache" / "vidbench"))
    src = real / "weights" / W.REGISTRY["i3d"].filename
    if not src.is_file():
        pytest.skip("the I3D weights are not installed (`vidbench weights fetch i3d`)")
    monkeypatch.setenv("VIDBENCH_HOME", str(tmp_path / "home"))
    dst = W.weights_dir() / src.name
    dst.parent.mkdir(parents=True)
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as fh:
        fh.seek(12_345_678)
        byte = fh.read(1)
        fh.seek(12_345_678)
        fh.write(bytes([byte[0] ^ 0x80]))
    with pytest.raises(W.WeightsMismatchError, match="does not match the expected"):
        W.weight_path("i3d")
    assert W.check("i3d")["status"] == "mismatch"


@pytest.mark.parametrize("payload", [WritesAFile, RunsAShellCommand])
@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_pickle_that_runs_code_is_refused(tmp_path, monkeypatch, payload, protocol):
    ran = tmp_path / "code_ran"
    data = pickle.dumps({"w": np.ones(3, np.float32), "x": payload(ran)}, protocol=protocol)
    pickle.loads(data)                                 # a plain unpickler runs it
    assert ran.exists()
    ran.unlink()
    path = tmp_path / "evil.pkl"
    path.write_bytes(data)
    with pytest.raises(BadInputError, match="refusing to unpickle") as err:
        load_numpy_pickle(path)
    assert err.value.path == str(path)
    # a registered file whose sha256 matches is no more trusted
    spec = _spec(tmp_path, monkeypatch, data)
    with pytest.raises(BadInputError, match="refusing to unpickle"):
        W.read_weights(spec.name)
    assert not ran.exists()


def test_torch_file_that_runs_code_is_refused_by_every_reader(tmp_path):
    ran = tmp_path / "code_ran"
    path = tmp_path / "evil.pt"
    torch.save({"g_ema": {"w": torch.ones(2)}, "w": torch.ones(2), "x": WritesAFile(ran)},
               path)
    torch.load(path, weights_only=False)               # a plain torch.load runs it
    assert ran.exists()
    ran.unlink()
    readers = {
        "read_state_dict": lambda: read_state_dict(path, key="g_ema"),
        "read_torch_state_dict": lambda: W.read_torch_state_dict(path),
        "load_training_state": lambda: load_training_state(path),
        "load_image_generator": lambda: load_image_generator(path),
    }
    for name, read in readers.items():
        with pytest.raises(BadInputError, match="nothing in the file was executed") as err:
            read()
        assert err.value.path == str(path), name
        assert "weights_only=False" not in str(err.value), name   # never advise the unsafe load
        assert not ran.exists(), name


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = (f"{f.value.id}.{f.attr}" if isinstance(f, ast.Attribute)
                    and isinstance(f.value, ast.Name) else getattr(f, "id", None))
            yield name, {k.arg: k.value for k in node.keywords}, node


def test_every_loader_in_the_code_is_restricted():
    """Static guard: every ``torch.load`` passes ``weights_only=True``; no plain unpickler;
    ``np.load`` never allows pickles."""
    offenders = []
    for folder in ("vidbench", "models", "metrics", "baselines"):
        for py in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(py.read_text(encoding="utf-8"))
            for name, kw, node in _calls(tree):
                where = f"{py.relative_to(ROOT)}:{node.lineno}"
                if name == "torch.load":
                    value = kw.get("weights_only")
                    if not (isinstance(value, ast.Constant) and value.value is True):
                        offenders.append(f"{where}: torch.load without weights_only=True")
                elif name in ("pickle.load", "pickle.loads") and py.name != "safe_pickle.py":
                    offenders.append(f"{where}: {name}")
                elif name == "np.load":
                    value = kw.get("allow_pickle")
                    if isinstance(value, ast.Constant) and value.value is True:
                        offenders.append(f"{where}: np.load(allow_pickle=True)")
    assert offenders == []
