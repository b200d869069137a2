"""The registry of feature extractors by name: what a protocol's ``extractor`` field names."""
from __future__ import annotations

from typing import Any, Callable

from vidbench.metrics.c3d_extractor import C3DExtractor
from vidbench.metrics.extractors import Extractor, I3DExtractor, RandomProjectionExtractor
from vidbench.metrics.face_extractor import FaceExtractor
from vidbench.utils.errors import VidbenchError

EXTRACTORS: dict[str, Callable[..., Extractor]] = {
    "i3d": I3DExtractor,                      # FVD
    "c3d-ucf101": C3DExtractor,               # video IS: mode, weights_path, mean_path
    "facenet-vggface2": FaceExtractor,        # ACD: mode, num_frames, weights_path
    "random-projection": RandomProjectionExtractor,
}


def build_extractor(name: str, **kwargs: Any) -> Extractor:
    """A registered extractor by name; an unknown name lists the known ones."""
    if name not in EXTRACTORS:
        raise VidbenchError(f"unknown extractor {name!r}; known: {', '.join(sorted(EXTRACTORS))}")
    return EXTRACTORS[name](**kwargs)
