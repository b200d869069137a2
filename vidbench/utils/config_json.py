"""Frozen dataclass configs to and from JSON: the helpers behind :mod:`vidbench.train.motion_config`.

Values are checked against the field annotations (int, float, bool, str, None, fixed-length
tuples, nested dataclasses); an unknown key or a wrong type is a :class:`VidbenchError` that
names the key's dotted path.
"""
from __future__ import annotations

import types
import typing
from dataclasses import fields, is_dataclass
from typing import Any, Mapping

from vidbench.utils.errors import VidbenchError


def to_jsonable(obj: Any) -> Any:
    """Dataclasses as dicts of their fields and tuples as lists, recursively."""
    if is_dataclass(obj):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, tuple):
        return [to_jsonable(v) for v in obj]
    return obj


def flatten_keys(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one dict of dotted keys: ``{"loss": {"mi": True}}`` becomes
    ``{"loss.mi": True}``."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(flatten_keys(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


def coerce(tp: Any, value: Any, where: str) -> Any:
    """Check ``value`` against the annotation ``tp`` (int, float, bool, str, None, tuples)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return coerce(arg, value, where)
            except VidbenchError as exc:
                errors.append(str(exc))
        raise VidbenchError(errors[0] if errors else f"{where}: bad value {value!r}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise VidbenchError(f"{where}: expected a list of {len(args)} values, got {value!r}")
        return tuple(coerce(a, v, where) for a, v in zip(args, value))
    if tp is bool:
        if not isinstance(value, bool):
            raise VidbenchError(f"{where}: expected true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise VidbenchError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise VidbenchError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise VidbenchError(f"{where}: expected a string, got {value!r}")
        return value
    raise TypeError(f"unsupported config annotation {tp!r}")  # pragma: no cover


def from_dict(cls: type, data: Mapping[str, Any], where: str) -> Any:
    """An instance of the dataclass ``cls`` from JSON data, every value checked against its
    annotation; unknown keys and wrong types are errors naming ``where`` and the key."""
    if not isinstance(data, Mapping):
        raise VidbenchError(f"{where}: expected an object, got {data!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise VidbenchError(f"{where}: unknown config key(s) {', '.join(unknown)}; "
                            f"valid: {', '.join(sorted(known))}")
    kwargs = {}
    for name, value in data.items():
        tp = hints[name]
        if is_dataclass(tp):
            kwargs[name] = from_dict(tp, value, f"{where}.{name}")
        else:
            kwargs[name] = coerce(tp, value, f"{where}.{name}")
    return cls(**kwargs)
