"""Face embeddings for ACD: facenet-pytorch's ``InceptionResnetV1`` with the VGGFace2 weights,
and MTCNN face crops.

Matches ``timesler/facenet-pytorch`` 2.5.3 as MoCoGAN-HD's ACD snippet uses it
(snap-research/MoCoGAN-HD#13: ``InceptionResnetV1(pretrained='vggface2').eval()``;
docs/protocols.md, *ACD*): adaptive average pool, dropout 0.6 (off in eval), ``last_linear``
1792 -> 512 without bias, ``last_bn``, then L2 normalisation, so embeddings have unit norm.

The weights are the published ``20180402-114759-vggface2.pt`` (a ``state_dict`` of
``InceptionResnetV1(pretrained='vggface2')``, including the 8631-class ``logits`` layer that
embeddings do not use), read from ``vidbench.utils.paths.weights_dir()`` with
``torch.load(weights_only=True)`` and checked strictly; it is never downloaded here.

:class:`FaceCropper` is facenet-pytorch's own ``MTCNN`` (its P/R/O-Net weights ship inside
the package) with ``image_size=160, margin=0, select_largest=True, post_process=True``: the
largest face of each frame, cropped and resized with Pillow bilinear, standardised by
``(x - 127.5) / 128``. A frame without a detected face falls back to the whole frame resized
the same way, and is reported as such.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vidbench.models.safe_pickle import torch_load_weights
from vidbench.utils.errors import BadInputError

VGGFACE2_FILE = "20180402-114759-vggface2.pt"
VGGFACE2_URL = ("https://github.com/timesler/facenet-pytorch/releases/download/v2.2.9/"
                + VGGFACE2_FILE)
VGGFACE2_CLASSES = 8631
EMBED_DIM = 512
CROP_SIZE = 160
# Present in the published file, not used for embeddings; checked, then dropped.
CLASSIFIER_SHAPES = {"logits.weight": (VGGFACE2_CLASSES, EMBED_DIM),
                     "logits.bias": (VGGFACE2_CLASSES,)}


def build_embedder() -> nn.Module:
    """An un-initialised ``InceptionResnetV1(pretrained=None, classify=False)``."""
    from facenet_pytorch import InceptionResnetV1

    return InceptionResnetV1(pretrained=None, classify=False)


def face_state_dict(state: dict, model: nn.Module, source: str = "<state_dict>"
                    ) -> dict[str, torch.Tensor]:
    """Check a VGGFace2 ``state_dict`` against ``model`` strictly; return the embedder part.

    Every parameter and running statistic must be present with the model's shape; the
    classifier (``logits.*``) and BatchNorm ``num_batches_tracked`` counters may be present;
    anything else is an error.
    """
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise BadInputError(source, "not a state_dict of tensors")
    expected = model.state_dict()
    optional = {k for k in expected if k.endswith("num_batches_tracked")}
    missing = [k for k in expected if k not in state and k not in optional]
    unexpected = [k for k in state if k not in expected and k not in CLASSIFIER_SHAPES]
    bad = [f"{k}: {tuple(v.shape)}, expected {tuple(expected[k].shape)}"
           for k, v in state.items() if k in expected and v.shape != expected[k].shape]
    bad += [f"{k}: {tuple(state[k].shape)}, expected {shape}"
            for k, shape in CLASSIFIER_SHAPES.items()
            if k in state and tuple(state[k].shape) != shape]
    bad += [f"{k}: dtype {v.dtype}" for k, v in state.items()
            if k in expected and k not in optional and not v.is_floating_point()]
    if missing or unexpected or bad:
        msg = f"does not match InceptionResnetV1 ({VGGFACE2_FILE} layout)"
        for title, items in (("missing", missing), ("unexpected", unexpected),
                             ("wrong shape or dtype", bad)):
            if items:
                more = f", ... {len(items) - 20} more" if len(items) > 20 else ""
                shown = ", ".join(items[:20]) + more
                msg += f"\n  {title} ({len(items)}): {shown}"
        raise BadInputError(source, msg)
    return {k: v for k, v in state.items() if k in expected}


def load_face_embedder(path: str | os.PathLike | None = None,
                       device: str | torch.device = "cpu") -> nn.Module:
    """``InceptionResnetV1`` with the VGGFace2 weights, eval mode, frozen.

    ``path=None`` reads the registered ``vggface2`` file in ``weights_dir()``; a missing file
    raises :class:`~vidbench.utils.errors.MissingWeightsError` naming where to put it and
    :data:`VGGFACE2_URL`.
    """
    if path is None:
        from vidbench.models.weights import weight_path

        path = weight_path("vggface2")
    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, f"file not found (the published file is {VGGFACE2_URL})")
    state = torch_load_weights(path, f"the published state_dict {VGGFACE2_URL}")
    model = build_embedder()
    model.load_state_dict(face_state_dict(state, model, str(path)), strict=False)
    return model.eval().requires_grad_(False).to(device)


def standardize(frames: torch.Tensor) -> torch.Tensor:
    """facenet's ``fixed_image_standardization``: ``(x - 127.5) / 128``."""
    return (frames - 127.5) / 128.0


def cropper_settings(min_face_size: int = 20) -> dict:
    """What fixes the crops of :class:`FaceCropper` (stored with results)."""
    return {"detector": "facenet-pytorch MTCNN", "image_size": CROP_SIZE, "margin": 0,
            "min_face_size": min_face_size, "thresholds": [0.6, 0.7, 0.7], "factor": 0.709,
            "selection": "largest", "resize": "Pillow bilinear",
            "standardization": "(x-127.5)/128", "no_face": "whole frame resized to 160"}


class FaceCropper:
    """MTCNN face crops of uint8 frames ``[N, H, W, 3]`` -> float ``[N, 3, 160, 160]``."""

    def __init__(self, device: str | torch.device = "cpu", min_face_size: int = 20):
        from facenet_pytorch import MTCNN

        self.device = torch.device(device)
        self.settings = cropper_settings(min_face_size)
        self.mtcnn = MTCNN(image_size=CROP_SIZE, margin=0, min_face_size=min_face_size,
                           thresholds=[0.6, 0.7, 0.7], factor=0.709, post_process=True,
                           select_largest=True, keep_all=False, device=self.device).eval()

    def to(self, device: str | torch.device) -> FaceCropper:
        self.device = torch.device(device)
        self.mtcnn.device = self.device
        self.mtcnn.to(self.device)
        return self

    def detect(self, frames: np.ndarray) -> list[np.ndarray]:
        """Boxes ``[k, 4]`` (x0, y0, x1, y1) of every face in each frame (k may be 0)."""
        frames = _check_frames(frames)
        boxes, _ = self.mtcnn.detect(frames)
        return [np.zeros((0, 4)) if b is None else np.asarray(b, np.float64).reshape(-1, 4)
                for b in boxes]

    def __call__(self, frames: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
        """(standardised crops ``[N, 3, 160, 160]``, bool ``[N]`` face found).

        Per frame this is ``MTCNN.forward`` with ``select_largest=True, keep_all=False``: the
        box of largest area, ``extract_face`` (Pillow bilinear to 160, margin 0), then
        ``(x - 127.5) / 128``. The selection is done here because facenet-pytorch's batched
        ``select_boxes`` fails on a batch that mixes frames with and without faces.
        """
        from facenet_pytorch import extract_face
        from PIL import Image

        images = [Image.fromarray(f) for f in _check_frames(frames)]
        with torch.no_grad():
            batch_boxes, _ = self.mtcnn.detect(images)
        crops, found = [], []
        for image, boxes in zip(images, batch_boxes):
            if boxes is None or len(boxes) == 0:
                box = [0, 0, image.width, image.height]
            else:
                boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
                area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
                box = boxes[np.argsort(area)[::-1][0]]
            crops.append(standardize(extract_face(image, box, CROP_SIZE, 0)))
            found.append(boxes is not None and len(boxes) > 0)
        return torch.stack(crops).float(), np.array(found)


def _check_frames(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise BadInputError("<frames>", f"expected uint8 frames [N, H, W, 3], got "
                                        f"{frames.dtype} {list(frames.shape)}")
    return frames
