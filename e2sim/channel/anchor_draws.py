"""One Sionna call for a batch of track anchors, in a thread or in a worker process.

`draw_anchors` is a pure function of its inputs (the Sionna model is rebuilt from the
config, every random number comes from the generator seeded by ``seed``), so where it runs
does not change what it returns. `SystemLevelDrop` runs it in its own background thread
(``ChannelConfig.anchor_draws == "thread"``) or in a worker process shared by every drop
of this process (``"process"``). A draw is mostly many small torch operations, which hold
the GIL between kernels: in a thread it competes with the stepping thread and the two
run one after the other (measured: wall time per step = their CPU time added up); in a
process it runs on another core.

The worker is started with ``spawn`` (never ``fork`` a process that has torch threads),
once, on the first draw; starting it costs a few seconds of imports. If it dies, the
drop draws the same anchors in its own thread instead (`SystemLevelDrop._collect`).
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import torch

from e2sim.channel.config import ChannelConfig
from e2sim.channel.rayfield import RayField, pad_paths
from e2sim.channel.sionna_lock import own_generator
from e2sim.channel.sionna_rays import system_level_fields, system_level_model

# Paths per UE after padding: up to 20 clusters (UMa NLoS), 4 extra sub-clusters, 1 LoS ray.
MAX_PATHS = 25
RAYS = 20
# Models the worker keeps (one per drop config it has drawn for, least recent dropped).
_WORKER_MODELS = 16


@dataclass(frozen=True)
class DrawnAnchors:
    """What one Sionna call gave for its anchors ([m] rows, UE-major), and what it cost."""

    field: RayField
    snr: torch.Tensor
    los: torch.Tensor
    pathloss_db: torch.Tensor
    wall_s: float
    cpu_s: float


@dataclass(frozen=True)
class AnchorJob:
    """The inputs of one call: positions and headings [m, 3], indoor [m] bool, the
    generator seed, and the base station's location and orientation [3]."""

    positions: torch.Tensor
    headings: torch.Tensor
    indoor: torch.Tensor
    seed: int
    bs_loc: torch.Tensor
    bs_orient: torch.Tensor


def draw_anchors(model: object, cfg: ChannelConfig, job: AnchorJob) -> DrawnAnchors:
    """Rays of ``cfg.anchors_per_segment`` anchors per UE (UE-major rows), scaled to the
    link budget with the soft SNR cap, padded to `MAX_PATHS` x `RAYS`."""
    started, cpu = time.perf_counter(), time.thread_time()
    k = cfg.anchors_per_segment
    generator = torch.Generator().manual_seed(job.seed)
    with own_generator(model, generator):
        field, state = system_level_fields(
            model, cfg, job.positions, job.bs_loc, job.bs_orient,
            job.headings, job.indoor,
            torch.arange(job.positions.shape[0] // k).repeat_interleave(k))
    power_scale = 10.0 ** ((cfg.tx_power_dbm - cfg.interference_plus_noise_dbm) / 10.0)
    power = field.mean_power() * power_scale
    soft = 1.0 / (1.0 + power / 10.0 ** (cfg.snr_cap_db / 10.0))  # snr -> 1/(1/snr+1/cap)
    field = pad_paths(field.scaled(torch.sqrt(power_scale * soft)), MAX_PATHS, RAYS)
    return DrawnAnchors(field, power * soft, state.los, state.pathloss_db,
                        time.perf_counter() - started, time.thread_time() - cpu)


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()
_models: OrderedDict[ChannelConfig, object] = OrderedDict()  # in the worker


def worker_pool() -> ProcessPoolExecutor:
    """The process-wide worker (started on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_start_worker)
        return _pool


def reset_worker_pool() -> None:
    """Forget a broken worker; the next `worker_pool` starts a new one."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


def _start_worker() -> None:
    torch.set_num_threads(1)


def draw_in_worker(cfg: ChannelConfig, job: AnchorJob) -> DrawnAnchors:
    """`draw_anchors` with the worker's cached model of ``cfg`` (runs in the worker)."""
    key = cfg
    model = _models.get(key)
    if model is None:
        model = system_level_model(cfg)
        _models[key] = model
        while len(_models) > _WORKER_MODELS:
            _models.popitem(last=False)
    _models.move_to_end(key)
    return draw_anchors(model, cfg, job)
