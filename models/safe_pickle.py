"""Reading pickled weight files without running code from them.

:func:`load_numpy_pickle` admits numpy arrays, numpy scalars and plain containers (dict,
list, tuple) only; any other global a pickle names (``os.system``, a class, a function) is
refused before it can be called. Files pickled under numpy 1.x (``numpy.core``) load under
numpy 2.x (``numpy._core``) and the other way round. (docs/protocols.md, *Weight files*.)
"""
from __future__ import annotations

import os
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from vidbench.utils.errors import BadInputError, VidbenchError


def _numpy_core():
    """numpy's private core package: ``numpy._core`` on numpy 2, ``numpy.core`` on 1.x."""
    try:
        import numpy._core.multiarray as multiarray  # numpy >= 2
        import numpy._core.numeric as numeric
    except ImportError:  # pragma: no cover - numpy 1.x
        import numpy.core.multiarray as multiarray
        import numpy.core.numeric as numeric
    return multiarray, numeric


def _allowed_globals() -> dict[tuple[str, str], Any]:
    multiarray, numeric = _numpy_core()
    allowed: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("collections", "OrderedDict"): dict,
    }
    # Files pickled under numpy 1.x name ``numpy.core``; under numpy 2.x ``numpy._core``.
    for core in ("numpy.core", "numpy._core"):
        allowed[(f"{core}.multiarray", "_reconstruct")] = multiarray._reconstruct
        allowed[(f"{core}.multiarray", "scalar")] = multiarray.scalar
        allowed[(f"{core}.numeric", "_frombuffer")] = numeric._frombuffer
    # numpy scalar types (float32, int64 ...) and the dtype classes numpy 2 pickles.
    for t in (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
              np.uint32, np.uint64, np.float16, np.float32, np.float64):
        allowed[("numpy", t.__name__)] = t
        allowed[("numpy.dtypes", type(np.dtype(t)).__name__)] = type(np.dtype(t))
    return allowed


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def __init__(self, fh: BinaryIO, source: str):
        super().__init__(fh)
        self._source = source
        self._allowed = _allowed_globals()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise BadInputError(
                self._source,
                f"refusing to unpickle {module}.{name}: only numpy arrays and plain "
                f"containers (dict, list, tuple) are allowed in weight files") from None

    def persistent_load(self, pid: Any) -> Any:
        raise BadInputError(self._source, "refusing a pickle with persistent ids")


def _check_plain(obj: Any, source: str, where: str = "") -> None:
    """Raise unless ``obj`` is made of numeric arrays, scalars and plain containers only."""
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise BadInputError(source, f"object array at {where or 'top level'} is not allowed")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, (str, int)):
                raise BadInputError(source, f"non-string key {k!r} at {where or 'top level'}")
            _check_plain(v, source, f"{where}/{k}" if where else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _check_plain(v, source, f"{where}[{i}]")
    elif not isinstance(obj, (str, bytes, int, float, bool, type(None), np.generic)):
        raise BadInputError(source, f"unexpected {type(obj).__name__} at {where or 'top level'}")


def load_numpy_pickle(path: str | os.PathLike) -> Any:
    """Unpickle ``path`` admitting only numpy arrays, numpy scalars and dict/list/tuple.

    Any other global named in the file (``os.system``, a class, a function) is refused
    before it is called: a :class:`BadInputError` is raised and nothing runs.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            obj = _NumpyOnlyUnpickler(fh, str(path)).load()
    except VidbenchError:
        raise
    except FileNotFoundError:
        raise BadInputError(path, "file not found") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError) as exc:
        raise BadInputError(path, f"not a readable numpy pickle ({type(exc).__name__}: {exc})") \
            from None
    _check_plain(obj, str(path))
    return obj


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` (no pickles)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise BadInputError(path, "file not found") from None
    except ValueError as exc:
        if "Object arrays" in str(exc):
            raise BadInputError(path, "holds pickled Python objects (object arrays), not plain "
                                      "numeric arrays; vidbench reads .npz files without "
                                      "unpickling, so nothing in the file was executed") from None
        raise BadInputError(path, f"not a readable npz file: {exc}") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise BadInputError(path, f"not a readable npz file: {exc}") from None


_UNSUPPORTED_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


def torch_load_weights(path: str | os.PathLike, expected: str) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU, its refusals in vidbench's words.

    ``expected`` says what the file should hold and where to get it; it ends every refusal.
    torch's own message for a file that names other Python objects advises loading it with
    the safe loader turned off, which would run whatever the file asks for; that message is
    never shown. A damaged or non-torch file is reported without a traceback.
    """
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        names = sorted(set(_UNSUPPORTED_GLOBAL.findall(str(exc))))
        holds = (f"holds pickled Python objects other than tensors (it names "
                 f"{', '.join(names)})" if names else "is not a pickle of tensors")
        raise BadInputError(path, f"{holds}; vidbench reads weight files with a loader that "
                                  "admits tensors and plain containers only, so nothing in the "
                                  f"file was executed. Get {expected}") from None
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file is a bad input
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "weights_only" in detail:  # never repeat advice to turn the safe loader off
            detail = type(exc).__name__
        raise BadInputError(path, f"is not a readable torch file ({detail}); nothing in it "
                                  f"was executed. Get {expected}") from None
