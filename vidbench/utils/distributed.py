"""Process-group helpers for training and the feature engine; every function but
:func:`run_ranks` (which starts the processes of a group on one machine) works without
``torch.distributed`` and is a no-op in a single process (rank 0 of 1, as in
``NVlabs/edm2: torch_utils/distributed.py``), so the same code runs alone and under ``torchrun``.

Gradients are averaged over ranks explicitly after each backward (what DistributedDataParallel
does, without its hooks): MoCoGAN-HD's losses take a second-order gradient (the D_3d gradient
penalty), run the discriminators frozen inside generator steps and leave some parameters
without gradients under ablations, which DDP's reducer handles only with care
(``find_unused_parameters``, no ``autograd.grad``). An explicit all-reduce of the gradients
that exist keeps every rank's parameters bit-identical, and a parameter without a gradient on
every rank (an ablated head) stays untouched by the optimiser, as in one process.
Buffers (InstanceNorm running statistics, spectral-norm vectors) are broadcast from rank 0
before use, as DDP's ``broadcast_buffers`` does.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vidbench.utils.errors import VidbenchError
from vidbench.utils.fileio import torch_bytes

__all__ = ["dist_info", "shard_bounds", "broadcast_decision", "stop_requested", "tf32_disabled", "is_main", "distributed_from_env",
           "broadcast_module", "sync_buffers", "allreduce_grads", "all_gather_rows",
           "gather_objects", "all_mean", "barrier", "run_ranks"]


def dist_info() -> tuple[int, int]:
    """(rank, world size); (0, 1) when torch.distributed is not initialised."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def shard_bounds(n: int, rank: int, world: int) -> tuple[int, int]:
    """Contiguous shard [lo, hi) of ``n`` items for ``rank``; concatenating shards in rank
    order gives 0..n-1."""
    return n * rank // world, n * (rank + 1) // world


def broadcast_decision(value: Any) -> Any:
    """Rank 0's ``value`` on every rank (a picklable object); identity without DDP."""
    _, world = dist_info()
    if world == 1:
        return value
    box = [value]
    torch.distributed.broadcast_object_list(box, src=0)
    return box[0]


def stop_requested(stop: Callable[[], bool] | None) -> bool:
    """Whether to stop now: rank 0's answer of ``stop()`` on every rank (False without one)."""
    if stop is None:
        return False
    return bool(broadcast_decision(bool(stop()) if is_main() else None))


@contextlib.contextmanager
def tf32_disabled(disable: bool = True) -> Iterator[None]:
    """Turn TF32 off for CUDA matmuls and cuDNN convs inside the block, then restore the
    previous settings (no global state is left changed)."""
    old = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    try:
        if disable:
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def _world() -> int:
    return dist_info()[1]


def is_main() -> bool:
    """Rank 0 of the process group; before one is joined, rank 0 of a ``torchrun`` launch
    (``RANK``); a lone process is rank 0."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank() == 0
    return int(os.environ.get("RANK", "0")) == 0


@contextlib.contextmanager
def distributed_from_env(device: str) -> Iterator[str]:
    """Under ``torchrun`` (WORLD_SIZE > 1) join the process group for the duration of a
    command (NCCL with one GPU per local rank for CUDA devices, gloo on CPU) and yield this
    rank's device; otherwise yield ``device`` unchanged. A rank that sees one GPU only (a
    Slurm task with ``--gpus-per-task=1``) uses it, whatever its local rank."""
    dist = torch.distributed
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        yield device
        return
    if torch.device(device).type == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if local >= torch.cuda.device_count() == 1:
            # the scheduler gave each task its own GPU (Slurm's --gpus-per-task binds them):
            # every rank sees one device, cuda:0
            local = 0
        torch.cuda.set_device(local)
        device, backend = f"cuda:{local}", "nccl"
    else:
        backend = "gloo"
    dist.init_process_group(backend)
    try:
        yield device
    finally:
        dist.destroy_process_group()


def barrier() -> None:
    if _world() > 1:
        torch.distributed.barrier()


def broadcast_module(module: nn.Module, src: int = 0) -> None:
    """Copy rank ``src``'s parameters and buffers to every rank."""
    if _world() == 1:
        return
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            torch.distributed.broadcast(t.data, src)


def sync_buffers(module: nn.Module, exclude: Iterable[str] = (), src: int = 0) -> None:
    """Broadcast rank ``src``'s buffers (names in ``exclude`` are left alone)."""
    if _world() == 1:
        return
    skip = set(exclude)
    with torch.no_grad():
        for name, buf in module.named_buffers():
            if name.rsplit(".", 1)[-1] not in skip:
                torch.distributed.broadcast(buf.data, src)


def allreduce_grads(params: Iterable[nn.Parameter]) -> None:
    """Average the existing gradients of ``params`` over ranks (one flat all-reduce)."""
    world = _world()
    if world == 1:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    torch.distributed.all_reduce(flat)
    flat /= world
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


@torch.no_grad()
def all_gather_rows(x: torch.Tensor) -> torch.Tensor:
    """Concatenate ``x`` [N, ...] of every rank along dim 0, in rank order (no gradient)."""
    world = _world()
    if world == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(world)]
    torch.distributed.all_gather(parts, x.contiguous())
    return torch.cat(parts)


def gather_objects(obj: Any) -> list[Any]:
    """Every rank's picklable ``obj``, in rank order."""
    world = _world()
    if world == 1:
        return [obj]
    out: list[Any] = [None] * world
    torch.distributed.all_gather_object(out, obj)
    return out


def all_mean(values: dict[str, float], device: torch.device | str = "cpu") -> dict[str, float]:
    """Mean of each scalar over ranks (same keys on every rank)."""
    world = _world()
    if world == 1 or not values:
        return dict(values)
    keys = sorted(values)
    t = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=device)
    torch.distributed.all_reduce(t)
    return {k: float(v) / world for k, v in zip(keys, t.tolist())}


def run_ranks(fn: Callable[..., Any], world: int, args: tuple = (),
              initializer: Callable[[], None] | None = None, timeout_s: float = 600.0) -> Any:
    """``fn(*args)`` in ``world`` fresh (spawned) processes joined in one gloo process group;
    return rank 0's result.

    For data-parallel work on one machine's CPUs without ``torchrun``. ``fn``, ``args`` and
    ``initializer`` (run in each process before the group is joined) must be picklable; the
    result comes back through ``torch.save`` and ``torch.load(weights_only=True)``, so it is
    made of tensors, numbers, strings, and lists, tuples or dicts of them. When a
    rank fails the others are stopped and the failure is raised here (a
    :class:`~vidbench.utils.errors.VidbenchError` keeps its message); a rank waiting in a collective
    for one that died gives up after ``timeout_s``.
    """
    import tempfile
    import time
    from multiprocessing import get_context

    if world < 1:
        raise ValueError(f"world must be >= 1, got {world}")
    ctx = get_context("spawn")
    messages = ctx.Queue()
    with tempfile.TemporaryDirectory(prefix="vidbench-ranks-") as tmp:
        init = Path(tmp, "rendezvous").as_uri()
        procs = [ctx.Process(target=_rank_main, daemon=True,
                             args=(fn, args, rank, world, init, initializer, timeout_s, messages))
                 for rank in range(world)]
        for p in procs:
            p.start()
        reported: dict[int, tuple[bool, Any]] = {}    # rank -> (ok, result or failure)
        deadline = float("inf")
        try:
            while len(reported) < world and time.monotonic() < deadline:
                failed = any(not ok for ok, _ in reported.values())
                message = _next_message(messages, procs, reported, world, check_dead=not failed)
                if message is None:
                    continue
                rank, ok, payload = message
                reported[rank] = (ok, payload)
                if not ok and not failed:
                    # the ranks a failed rank left behind fail in their collectives soon
                    # after: give the first cause a moment to arrive, and report it
                    deadline = time.monotonic() + 2.0
            failures = [(rank, *payload) for rank, (ok, payload) in reported.items() if not ok]
            if failures:
                rank, kind, text, trace = min(failures, key=lambda f: f[1] == "DistBackendError")
                if kind == "VidbenchError":
                    raise VidbenchError(text)
                raise RuntimeError(f"rank {rank} of {world} failed: {text}\n{trace}")
        finally:
            for p in procs:
                if p.is_alive() and len(reported) < world:
                    p.terminate()
                p.join()
    return reported[0][1]


def _decode(data: bytes) -> tuple:
    """A rank's message (bytes of :func:`vidbench.utils.fileio.torch_bytes`), read with
    ``weights_only=True`` (no arbitrary pickles: results are tensors, numbers, strings and
    lists, tuples or dicts of them)."""
    import io

    try:
        return torch.load(io.BytesIO(data), weights_only=True)
    except Exception as exc:   # noqa: BLE001 - the unpickler's errors vary by version
        raise VidbenchError(f"run_ranks: a rank's result is not made of tensors, numbers, "
                            f"strings, lists, tuples or dicts ({exc})") from None


def _next_message(messages, procs, reported: dict, world: int,
                  check_dead: bool = True) -> tuple | None:
    """The next (rank, ok, payload) from a rank, or None after a fifth of a second of silence;
    with ``check_dead``, a rank that died without a word is an error."""
    import queue as queue_mod

    try:
        return _decode(messages.get(timeout=0.2))
    except queue_mod.Empty:
        dead = [r for r, p in enumerate(procs)
                if r not in reported and p.exitcode not in (None, 0)]
        if dead and check_dead:
            raise VidbenchError(f"rank {dead[0]} of {world} exited with code "
                                f"{procs[dead[0]].exitcode} before reporting") from None
        return None


def _rank_main(fn, args, rank, world, init, initializer, timeout_s, messages) -> None:
    import datetime
    import traceback

    try:
        if initializer is not None:
            initializer()
        torch.distributed.init_process_group(
            "gloo", init_method=init, rank=rank, world_size=world,
            timeout=datetime.timedelta(seconds=timeout_s))
        message = (rank, True, fn(*args))
    except BaseException as exc:   # reported to the parent, which raises it
        kind = "VidbenchError" if isinstance(exc, VidbenchError) else type(exc).__name__
        message = (rank, False, (kind, str(exc), traceback.format_exc()))
    # reported before the group closes (the others then fail); as bytes in torch's format,
    # tensors by value (torch's own queue pickling would share them through the memory of a
    # process that is about to exit)
    messages.put(torch_bytes(message))
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
