"""A fast FVD protocol (seeded random projection instead of I3D) for engine and CLI tests."""
from vidbench.metrics.protocols import ClipDraw, FVDProtocol

TEST_PROTOCOL = FVDProtocol(
    name="test-random",
    description="tests only: random-projection features, 8-frame clips",
    extractor="random-projection", weights="none",
    real=ClipDraw(num=None, length=8, stride=1, start="random", selection="seeded-random"),
    fake=ClipDraw(num=None, length=8, stride=1, start="first", selection="first-n"),
)


def shapes(seed: int, motion: str | None = None, n: int = 24) -> str:
    extra = f",motion={motion}" if motion else ""
    return f"shapes:num_videos={n},length=12,resolution=32,seed={seed}{extra}"
