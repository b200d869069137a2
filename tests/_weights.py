"""Shared test helpers: whether the real I3D weights are installed, and one torch thread."""
from __future__ import annotations

import pytest
import torch


def have_i3d() -> bool:
    from vidbench.models.weights import MissingWeightsError, WeightsMismatchError, weight_path

    try:
        weight_path("i3d")
        return True
    except (MissingWeightsError, WeightsMismatchError):
        return False


needs_i3d = pytest.mark.skipif(not have_i3d(), reason="I3D weights not installed "
                               "(vidbench weights fetch i3d)")


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: tiny networks run fastest so (and do not stall on a busy CPU).
    Import it into a test module to apply it to every test there."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
