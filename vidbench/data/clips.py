"""Clip sampling: from variable-length videos to fixed-length clips ``uint8 [T, H, W, 3]``.

A :class:`ClipSpec` says how many frames a clip has (``length``), the step between them
(``stride``), where a clip starts (``first`` frame, ``centre`` of the video, or a ``random``
start drawn from a generator seeded by ``(seed, video name, clip number)``, so a clip never
depends on the order of access, on workers or on which other videos are present) and how many
clips each video gives. :class:`VideoClipSource` maps clip ``i`` to video
``i // clips_per_video`` and a list of frame indices, and decodes only those frames.

A video shorter than ``min_frames`` (default the clip's span ``(length − 1)·stride + 1``) is an
error naming the file, or with ``skip_bad`` (or a protocol that drops short videos, e.g.
MoCoGAN-HD's rule ``n > length·stride`` via ``min_frames``, or the MDGAN/DTVNet test rule) it is
listed in ``source.skipped`` with the reason (docs/datasets.md, *Short videos*). Nothing is
dropped silently.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np

from vidbench.data.base import ClipSource, fingerprint_of
from vidbench.data.readers import FrameReader
from vidbench.data.video import Video
from vidbench.utils.errors import BadInputError, VidbenchError

START_POLICIES = ("first", "centre", "random")


@dataclass(frozen=True)
class ClipSpec:
    """How clips are cut from videos."""

    length: int | None = None       # frames per clip; None = the whole video
    stride: int = 1                 # step between consecutive clip frames
    start: str = "first"            # first | centre | random ("center" accepted)
    clips_per_video: int = 1        # clips drawn from each video (needs start="random" if > 1)
    seed: int = 0                   # seeds the random starts
    min_frames: int | None = None   # frames a video needs; default the clip's span

    def __post_init__(self) -> None:
        if self.start == "center":
            object.__setattr__(self, "start", "centre")
        if self.start not in START_POLICIES:
            raise VidbenchError(f"clip start {self.start!r} unknown; valid: {', '.join(START_POLICIES)}")
        if self.length is not None and self.length < 1:
            raise VidbenchError(f"clip length must be >= 1, got {self.length}")
        if self.stride < 1:
            raise VidbenchError(f"clip stride must be >= 1, got {self.stride}")
        if self.clips_per_video < 1:
            raise VidbenchError(f"clips_per_video must be >= 1, got {self.clips_per_video}")
        if self.clips_per_video > 1 and (self.start != "random" or self.length is None):
            raise VidbenchError("clips_per_video > 1 needs start='random' and a clip length "
                                "(first/centre starts would repeat the same clip)")

    @property
    def span(self) -> int | None:
        """Frames covered by one clip, first to last inclusive."""
        return None if self.length is None else (self.length - 1) * self.stride + 1

    def required_frames(self) -> int:
        return max(self.span or 1, self.min_frames or 1)

    def frame_indices(self, num_frames: int, video_key: str, k: int = 0) -> list[int]:
        """Frame indices of clip ``k`` of a video with ``num_frames`` frames."""
        if num_frames < self.required_frames():
            raise ValueError(f"video has {num_frames} frames, needs {self.required_frames()}")
        if self.length is None:
            return list(range(0, num_frames, self.stride))
        last_start = num_frames - self.span
        if self.start == "first":
            start = 0
        elif self.start == "centre":
            start = last_start // 2
        else:
            start = int(clip_rng(self.seed, video_key, k).integers(0, last_start + 1))
        return list(range(start, start + self.span, self.stride))


def clip_rng(seed: int, video_key: str, k: int) -> np.random.Generator:
    """The generator of clip ``k`` of the video named ``video_key``."""
    name_word = int.from_bytes(hashlib.sha256(video_key.encode("utf-8")).digest()[:8], "little")
    return np.random.default_rng(np.random.SeedSequence([int(seed) & (2**63 - 1), name_word, k]))


class VideoClipSource(ClipSource):
    """Clips cut by a :class:`ClipSpec` from a list of :class:`~vidbench.data.video.Video`.

    ``skip_short`` (default: ``skip_bad``) lists videos too short for the spec in ``skipped``
    instead of raising. Damage that only decoding reveals (checked headers, broken pixels)
    raises :class:`~vidbench.utils.errors.BadInputError` from ``source[i]`` whatever ``skip_bad``
    says, because clip indices are fixed once the source is open; open with ``deep=True``
    (``vidbench data inspect --verify``) to find it up front.
    """

    def __init__(self, videos: Sequence[Video], *, name: str, reader: FrameReader | None = None,
                 clip: ClipSpec | None = None, skip_bad: bool = False,
                 skipped: Sequence[tuple[str, str]] = (), meta: dict[str, Any] | None = None,
                 skip_short: bool | None = None):
        super().__init__()
        self.name = name
        self.clip = clip or ClipSpec()
        self.reader = reader or FrameReader()
        self.skipped = list(skipped)
        need = self.clip.required_frames()
        drop_short = skip_bad if skip_short is None else skip_short
        kept = []
        for v in videos:
            if v.num_frames < need:
                reason = f"too short: {v.num_frames} frames, the clip spec needs {need}"
                if not drop_short:
                    raise BadInputError(v.where(), reason + " (skip_bad=True lists and skips it)")
                self.skipped.append((v.where(), reason))
            else:
                kept.append(v)
        self.videos: list[Video] = kept
        self.fingerprint = fingerprint_of({
            "format": "video-clips-v1",
            "videos": [[v.name, v.fingerprint] for v in kept],
            "clip": asdict(self.clip), "reader": self.reader.describe()})
        self.meta = {**(meta or {}), "num_videos": len(kept), "clip": asdict(self.clip),
                     "reader": self.reader.describe(), "num_skipped": len(self.skipped)}

    def __len__(self) -> int:
        return len(self.videos) * self.clip.clips_per_video

    def clip_frames(self, index: int) -> tuple[Video, list[int]]:
        """The video and frame indices of clip ``index``."""
        if not 0 <= index < len(self):
            raise IndexError(f"clip {index} out of range for {self.name} ({len(self)} clips)")
        video = self.videos[index // self.clip.clips_per_video]
        k = index % self.clip.clips_per_video
        return video, self.clip.frame_indices(video.num_frames, video.name, k)

    def get_clip(self, index: int) -> np.ndarray:
        video, idx = self.clip_frames(index)
        return self.reader.read(video, idx)


class ResampledSource(ClipSource):
    """A :class:`ClipSpec` applied to another source's clips (each clip taken as one video).

    For sources that make their clips whole (a synthetic data set): every base clip is read
    in full and then indexed, or, where the base has ``get_frames(index, frames)`` (``shapes``),
    only the frames taken are made. All base clips must have the length of the first.
    """

    def __init__(self, base: ClipSource, clip: ClipSpec):
        super().__init__()
        self.base, self.clip = base, clip
        self.name = base.name
        self.num_frames = int(base[0].shape[0]) if len(base) else 0
        if len(base) and self.num_frames < clip.required_frames():
            need = clip.required_frames()
            raise VidbenchError(
                f"{base.name}: its clips have {self.num_frames} frames, the clip spec needs "
                f"{need} ({clip.length} frames at stride {clip.stride}); make longer clips with "
                f"the source's length option (e.g. shapes:length={need}, "
                f"checkpoint:RUN:frames={need}) or choose a protocol with shorter clips "
                "(vidbench eval fvd --list-protocols)")
        self.skipped = list(base.skipped)
        self.fingerprint = fingerprint_of({"format": "resampled-v1", "base": base.fingerprint,
                                           "clip": asdict(clip)})
        self.meta = {**base.meta, "clip": asdict(clip)}

    def __len__(self) -> int:
        return len(self.base) * self.clip.clips_per_video

    def get_clip(self, index: int) -> np.ndarray:
        j, k = divmod(index, self.clip.clips_per_video)
        if hasattr(self.base, "get_frames"):   # a source that can make just those frames
            wanted = self.clip.frame_indices(self.num_frames, str(j), k)
            return np.ascontiguousarray(self.base.get_frames(j, wanted))
        full = self.base[j]
        if full.shape[0] != self.num_frames:
            raise BadInputError(f"{self.name}[{j}]", f"has {full.shape[0]} frames, clip 0 has "
                                                     f"{self.num_frames}")
        return np.ascontiguousarray(full[self.clip.frame_indices(self.num_frames, str(j), k)])


def apply_clip_spec(source: ClipSource, clip: ClipSpec | None) -> ClipSource:
    """``source`` cut by ``clip`` (unchanged when ``clip`` is None or takes whole clips)."""
    if clip is None or clip == ClipSpec():
        return source
    return ResampledSource(source, clip)
