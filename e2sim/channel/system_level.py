"""UMi/UMa single-sector drop with UEs moving on straight, spatially consistent tracks.

How the channel evolves (why it is cheap enough for 64 UEs in real time):
- Sionna draws rays only at *anchors*, every ``anchor_spacing_m`` along each track, for
  ``anchors_per_segment`` anchors of up to ``ues_per_sionna_call`` UEs at once. The
  anchors of one call share a spatially consistent snapshot (correlated LSPs, LoS state,
  cluster delays, angles and phases, one track id per UE), so pathloss, LoS and the
  angular profile - hence the best beam - change smoothly along the track.
- Between anchors every ray is rotated by its own Doppler phase (`RayField.response`),
  and the channel slides from the anchor behind the UE to the one ahead of it with
  power-preserving weights, so consecutive reports stay as correlated as speed x period
  allows, with no jump at anchors.
- Anchors are drawn ahead: once a UE would run out of them (queued or being drawn)
  within ``anchor_lookahead_s`` of simulated time, it is drawn for, together with the
  other UEs nearest to running out (a call costs ~0.85 ms of CPU per anchor; its LSP
  correlation grows with the cube of the anchors in it, hence the cap on UEs per call).
  Consistency is kept within a call, not across calls: the cross-fade hides that seam.
- The Sionna calls run in a background thread of the drop (``prefetch_anchors``), or in
  a worker process (``anchor_draws="process"``, `anchor_draws`), off the reports'
  critical path; call i draws from its own generator seeded by (seed, i), so which
  thread or process draws, and when, changes nothing: the same seed gives the same
  channels with or without them, whatever else reseeds Sionna or torch.
- A track U-turns where it would leave the sector (120°, TR 38.901 min distance to
  ISD / sqrt 3).
Cost (bench sim, 4x2, 52 PRB, 13 subbands, 3-120 km/h, 10 ms reports, anchors every
2.5 m): 64 UEs need ~4.5 Sionna calls of 128 anchors per simulated second, ~4-5 ms of CPU
per report in the background thread; moving, evolving the rays and adding the estimation
errors costs the reporting thread ~3 ms. A draw in a thread holds the GIL between its small
kernels, so the two threads take turns (wall ~ the sum of their CPU); in the worker
process it runs on the other core. Anchors every 1 m would cost ~2.5x the drawing.
"""

from __future__ import annotations

import math
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import sionna.phy
import torch
from sionna.phy.channel import gen_single_sector_topology

from e2sim.channel.anchor_draws import (
    MAX_PATHS,
    AnchorJob,
    DrawnAnchors,
    draw_anchors,
    draw_in_worker,
    reset_worker_pool,
    worker_pool,
)
from e2sim.channel.config import CELL_GEOMETRY, ChannelConfig
from e2sim.channel.drop import ChannelDrop, TrueChannel
from e2sim.channel.rayfield import RayField, crossfade, join_paths
from e2sim.channel.sionna_lock import SIONNA_SEED_LOCK
from e2sim.channel.sionna_rays import system_level_model

_MAX_PATHS = MAX_PATHS


@dataclass(frozen=True)
class _Anchor:
    """A point of a track with its rays (a one-UE `RayField`) and link state."""

    position: torch.Tensor  # [3]
    field: RayField
    snr_lin: float  # mean |h|^2 of the field
    los: bool
    pathloss_db: float


class SystemLevelDrop(ChannelDrop):
    """``cfg.n_ue`` UEs dropped in one UMi/UMa sector, moving at constant speeds."""

    def __init__(self, cfg: ChannelConfig) -> None:
        if not cfg.is_system_level:
            raise ValueError(f"{cfg.scenario!r} is link level: use LinkLevelDrop")
        super().__init__(cfg)
        # Cost accounting for benchmarks: Sionna calls, their time (in whichever thread
        # drew them) and how long the stepping thread waited for draws it needed.
        self.segments_drawn = 0
        self.draw_seconds = 0.0
        self.draw_cpu_seconds = 0.0
        self.wait_seconds = 0.0
        with SIONNA_SEED_LOCK:  # Sionna's UE drop reads the process-wide generator
            sionna.phy.config.seed = cfg.seed % (2**31)
            ut_loc, bs_loc, _, bs_orient, _, indoor = gen_single_sector_topology(
                1, cfg.n_ue, cfg.scenario, indoor_probability=cfg.indoor_probability)
        self._bs_loc = bs_loc[0, 0].float()
        self._bs_orient = bs_orient[0, 0].float()
        self._indoor = indoor[0]
        self._model = system_level_model(cfg)
        self._in_process = cfg.prefetch_anchors and cfg.anchor_draws == "process"
        n = cfg.n_ue
        self._queue: list[deque[_Anchor]] = [deque() for _ in range(n)]
        # Draws submitted and not yet taken into the queues (oldest first), and how many
        # anchors each UE has coming from them: decisions count both, so they never depend
        # on how far the background thread has got.
        self._pending: deque[_PendingDraw] = deque()
        self._coming = [0] * n
        self._speed = self.speed_mps.tolist()
        self._executor = (ThreadPoolExecutor(1, thread_name_prefix="sionna-anchors")
                          if cfg.prefetch_anchors and not self._in_process else None)
        # The last anchor drawn on each track: the next one is one spacing further.
        self._track_end = ut_loc[0].float().clone()
        self._track_heading = self._heading.clone()
        self._first_anchor_pending = torch.ones(n, dtype=torch.bool)
        self._refill(list(range(n)))
        for u in range(n):
            self._take_anchors(u, 2)
        self._behind = [self._queue[u].popleft() for u in range(n)]
        self._ahead = [self._queue[u].popleft() for u in range(n)]
        # Behind and ahead anchors side by side: paths [0, _MAX_PATHS) and the rest.
        self._pair = join_paths(_stack([a.field for a in self._behind]),
                                _stack([a.field for a in self._ahead]))
        self._steering = self._pair.steering(self.subband_freqs_hz)
        self._along_m = torch.zeros(n, dtype=torch.float64)  # distance past `behind`
        # Link state at both ends ([0] behind, [1] ahead), kept as tensors for each report.
        self._end_position = torch.zeros(2, n, 3)
        self._end_snr = torch.zeros(2, n)
        self._end_pathloss = torch.zeros(2, n)
        self._end_los = torch.zeros(2, n, dtype=torch.bool)
        self._update_ends(list(range(n)))
        self._prefetch()

    def _move(self, dt_s: float) -> None:
        spacing = self.cfg.anchor_spacing_m
        self._along_m += self.speed_mps.double() * dt_s
        while True:
            passing = torch.nonzero(self._along_m >= spacing).flatten().tolist()
            if not passing:
                break
            for u in passing:
                self._take_anchors(u, 1)
                self._behind[u] = self._ahead[u]
                self._ahead[u] = self._queue[u].popleft()
                self._along_m[u] -= spacing
            index = torch.tensor(passing)
            pair = join_paths(_stack([self._behind[u].field for u in passing]),
                              _stack([self._ahead[u].field for u in passing]))
            self._pair.put(index, pair)
            self._steering[index] = pair.steering(self.subband_freqs_hz)
            self._update_ends(passing)
        self._prefetch()

    def _update_ends(self, ues: list[int]) -> None:
        for end, anchors in enumerate((self._behind, self._ahead)):
            for u in ues:
                anchor = anchors[u]
                self._end_position[end, u] = anchor.position
                self._end_snr[end, u] = anchor.snr_lin
                self._end_pathloss[end, u] = anchor.pathloss_db
                self._end_los[end, u] = anchor.los

    def _true_channel(self) -> TrueChannel:
        spacing = self.cfg.anchor_spacing_m
        frac = (self._along_m / spacing).float()
        a, b = crossfade(frac)
        half = torch.ones(_MAX_PATHS)
        shift = torch.cat([self._along_m[:, None] * half,
                           (self._along_m - spacing)[:, None] * half], dim=1)
        weight = torch.cat([a[:, None] * half, b[:, None] * half], dim=1)
        h = self._pair.response(shift, self._steering, weight)
        snr = a.square() * self._end_snr[0] + b.square() * self._end_snr[1]
        pos, pl = self._end_position, self._end_pathloss
        los = torch.where(frac < 0.5, self._end_los[0], self._end_los[1])
        return TrueChannel(h=h, snr_lin=snr, pathloss_db=pl[0] + (pl[1] - pl[0]) * frac,
                           position_m=pos[0] + (pos[1] - pos[0]) * frac[:, None], los=los)

    def _prefetch(self) -> None:
        """Submit draws for the UEs whose anchors (queued or coming) would run out within
        ``cfg.anchor_lookahead_s`` of simulated time."""
        cfg = self.cfg
        eta = [((len(q) + c + 1) * cfg.anchor_spacing_m - a) / v for q, c, a, v in
               zip(self._queue, self._coming, self._along_m.tolist(), self._speed, strict=True)]
        needy = sorted((u for u in range(cfg.n_ue) if eta[u] < cfg.anchor_lookahead_s),
                       key=lambda u: eta[u])
        if needy:
            self._refill(needy, eta)

    def _refill(self, needy: list[int], eta: list[float] | None = None) -> None:
        """Submit ``anchors_per_segment`` anchors for ``needy`` UEs and for the UEs next in
        line to run out (``eta``: seconds until each UE does), ``ues_per_sionna_call``
        UEs per Sionna call."""
        cfg = self.cfg
        if eta is None:
            eta = [(len(q) + c) * cfg.anchor_spacing_m / v for q, c, v in
                   zip(self._queue, self._coming, self._speed, strict=True)]
        chosen = set(needy)
        others = sorted((u for u in range(cfg.n_ue) if u not in chosen
                         and len(self._queue[u]) + self._coming[u] < cfg.anchors_per_segment),
                        key=lambda u: eta[u])
        per_call = cfg.ues_per_sionna_call
        n_calls = math.ceil(len(needy) / per_call)
        ues = needy + others[: n_calls * per_call - len(needy)]
        for start in range(0, len(ues), per_call):
            self._submit(ues[start:start + per_call])

    def _take_anchors(self, u: int, count: int) -> None:
        """Make sure UE ``u`` has ``count`` anchors queued, waiting for draws if needed."""
        while len(self._queue[u]) < count:
            if not self._pending:  # nothing coming (lookahead 0): draw for it now
                self._refill([u])
            started = time.perf_counter()
            self._collect(self._pending.popleft())
            self.wait_seconds += time.perf_counter() - started

    def _submit(self, ues: list[int]) -> None:
        """Lay out the next anchors of ``ues`` on their tracks and hand the Sionna call to
        the background thread (or make it now). Call i draws from its own generator,
        seeded by (cfg.seed, i), so the rays do not depend on threads or timing."""
        cfg = self.cfg
        k = cfg.anchors_per_segment
        index = torch.tensor(ues)
        ends, headings = [], []
        for _ in range(k):
            self._step_tracks(index)
            ends.append(self._track_end[index])
            headings.append(self._track_heading[index])
        for u in ues:
            self._coming[u] += k
        # UE-major rows (UE i's anchors are rows i k .. i k + k - 1)
        position = torch.stack(ends, dim=1).reshape(-1, 3)
        heading = torch.stack(headings, dim=1).reshape(-1, 3)
        seed = (cfg.seed * 1_000_003 + self.segments_drawn) % (2**63)
        self.segments_drawn += 1
        job = AnchorJob(position, heading, self._indoor[ues].repeat_interleave(k), seed,
                        self._bs_loc, self._bs_orient)
        future: Future[DrawnAnchors]
        if self._in_process:
            future = worker_pool().submit(draw_in_worker, cfg, job)
        elif self._executor is not None:
            future = self._executor.submit(draw_anchors, self._model, cfg, job)
        else:
            future = _done(draw_anchors(self._model, cfg, job))
        self._pending.append(_PendingDraw(future, ues, list(position.unbind(0)), job))

    def _collect(self, pending: _PendingDraw) -> None:
        """Queue the anchors of a submitted draw (waits for it)."""
        try:
            drawn = pending.future.result()
        except BrokenProcessPool:  # the worker died: the same draw, here
            reset_worker_pool()
            drawn = draw_anchors(self._model, self.cfg, pending.job)
        self.draw_seconds += drawn.wall_s
        self.draw_cpu_seconds += drawn.cpu_s
        k = self.cfg.anchors_per_segment
        snr, los, loss = drawn.snr.tolist(), drawn.los.tolist(), drawn.pathloss_db.tolist()
        for i, u in enumerate(pending.ues):
            for j in range(k):
                row = i * k + j
                self._queue[u].append(_Anchor(
                    position=pending.positions[row], field=drawn.field.take(torch.tensor([row])),
                    snr_lin=snr[row], los=bool(los[row]), pathloss_db=loss[row]))
            self._coming[u] -= k

    def _step_tracks(self, ues: torch.Tensor) -> None:
        """Advance the end of the tracks ``ues`` ([m] int64) by one anchor spacing each,
        U-turning at the cell edge (a track's first anchor is its starting point)."""
        end, heading = self._track_end[ues], self._track_heading[ues]
        first = self._first_anchor_pending[ues][:, None]
        step = self.cfg.anchor_spacing_m * heading
        out = ~self._inside(end + step)[:, None]
        self._track_end[ues] = torch.where(first, end,
                                           torch.where(out, end - step, end + step))
        self._track_heading[ues] = torch.where(first | ~out, heading, -heading)
        self._first_anchor_pending[ues] = False

    def _inside(self, position: torch.Tensor) -> torch.Tensor:
        """[m] bool: which positions ([m, 3]) lie in the sector's ring of UE positions."""
        r_min, isd = CELL_GEOMETRY[self.cfg.scenario]
        rel = (position[:, :2] - self._bs_loc[:2]).double()
        radius = rel.norm(dim=-1)
        off = torch.atan2(rel[:, 1], rel[:, 0]) - float(self._bs_orient[0])
        off = torch.remainder(off + math.pi, 2 * math.pi) - math.pi
        inside: torch.Tensor = (radius >= r_min) & (radius <= isd / math.sqrt(3.0)) \
            & (off.abs() <= math.pi / 3)
        return inside


@dataclass(frozen=True)
class _PendingDraw:
    future: Future[DrawnAnchors]
    ues: list[int]
    positions: list[torch.Tensor]
    job: AnchorJob


def _done(value: DrawnAnchors) -> Future[DrawnAnchors]:
    future: Future[DrawnAnchors] = Future()
    future.set_result(value)
    return future


def _stack(fields: list[RayField]) -> RayField:
    return RayField(torch.cat([f.coef for f in fields]), torch.cat([f.slope for f in fields]),
                    torch.cat([f.delay for f in fields]))
