"""``linkfm bench sim``: the simulated cell's cost, and the persistence baseline, as JSON.

1. Cost: for each UE count (16/64/256), one UMi cell steps through ``--warmup-seconds``
   and then, measured, ``--sim-seconds`` of 10 ms report periods (channels + UE CSI + PF
   scheduler KPM + closed-loop scoring with the oracle). ``wall_s_per_sim_s`` < 1 means
   faster than real time. The channel-only cost of the same drop (bench.sim_channel) is
   reported beside, so the rest is the cost of CSI, KPM and scoring. The machine is
   shared: CPU time (the process plus the anchor worker, and per phase the stepping
   thread), load and the Sionna anchor draws are reported too. The draws run in a worker
   process (``--anchor-draws process``, on another core) or in the drop's background
   thread (``thread``: they take turns with the stepping thread on the GIL, so wall time
   is about their CPU time added up); both are measured by default, same channels.
2. Persistence baseline (RADIO.md section 6): every UE reports RI/PMI/beam from its noisy
   CSI-RS estimate at t; the report is scored against the oracle of the TRUE channel at
   t + h for h in ``--horizons`` (0 ms isolates the estimation error), at each speed:
   RI accuracy, PMI accuracy (rank and PMI both right), SE ratio, beam top-1 and RSRP loss.
   CDL-C 4x2 at 10 dB compares with RADIO.md's table; UMi (spatially consistent tracks,
   SNR from the link budget) is where beams move.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from dataclasses import asdict
from typing import Any

import torch

from bench._timing import machine
from bench.sim_channel import measure as channel_cost
from e2sim.cell import Cell, CellConfig
from e2sim.cell.oracle import oracle, persistence_score
from e2sim.channel import ChannelConfig, SystemLevelDrop

# RADIO.md section 6, persistence on CDL-C 4x2 at 10 dB: horizon -> (RI acc, PMI acc, SE ratio).
RADIO_MD_REFERENCE = {
    "cdl-c 30 km/h": {"0.5ms": (0.96, 0.85, 1.00), "2.5ms": (0.83, 0.46, 0.97),
                      "5ms": (0.75, 0.26, 0.93), "10ms": (0.69, 0.15, 0.88),
                      "20ms": (0.67, 0.08, 0.83)},
    "cdl-c 120 km/h": {"0.5ms": (0.85, 0.53, 0.98), "2.5ms": (0.66, 0.12, 0.87),
                       "5ms": (0.63, 0.07, 0.82), "10ms": (0.63, 0.06, 0.82),
                       "20ms": (0.64, 0.05, 0.81)},
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ues", type=int, nargs="+", default=[16, 64, 256],
                        help="UE counts for the cost figures")
    parser.add_argument("--sim-seconds", type=float, default=2.0,
                        help="simulated time per UE count (--quick: 0.5 s, 16 and 64 UEs)")
    parser.add_argument("--warmup-seconds", type=float, default=1.0,
                        help="simulated time stepped before measuring (--quick: 0.2 s)")
    parser.add_argument("--period-ms", type=int, default=10, help="report period")
    parser.add_argument("--anchor-draws", nargs="+", choices=("thread", "process"),
                        default=["process", "thread"],
                        help="where the Sionna anchor draws run (ChannelConfig.anchor_draws); "
                             "each is measured (--quick: process only)")
    parser.add_argument("--horizons", type=int, nargs="+", default=[0, 5, 10, 20, 40],
                        help="persistence horizons [ms] (multiples of 5)")
    parser.add_argument("--speeds", type=float, nargs="+", default=[30.0, 120.0],
                        help="UE speeds [km/h] for the persistence baseline")
    parser.add_argument("--baseline-ues", type=int, default=32,
                        help="UEs per persistence run (--quick: 12)")
    parser.add_argument("--baseline-reports", type=int, default=80,
                        help="report instants per persistence run (--quick: 24)")


def cell_cost(n_ues: int, period_ms: int, sim_seconds: float,
              warmup_seconds: float = 1.0, anchor_draws: str = "process") -> dict[str, Any]:
    """Wall and CPU time per simulated second of a UMi cell with scoring on, after
    ``warmup_seconds`` of simulated time (so that ray anchors are drawn at their steady
    rate: a fresh drop starts with several anchors per UE in stock)."""
    started = time.perf_counter()
    cell = Cell(CellConfig(channel=ChannelConfig(scenario="umi", anchor_draws=anchor_draws),
                           n_ues=n_ues,
                           report_period_ms=period_ms, seed=1))
    setup = time.perf_counter() - started
    for _ in range(1 + round(warmup_seconds * 1000 / period_ms)):
        cell.step()  # the first step scores nothing: leave it out in any case
    gc.freeze()  # as linkfm sim does once its cells are built (full collections stay cheap)
    steps = max(2, round(sim_seconds * 1000 / period_ms))
    drop = cell.channel_drop
    drawn = _draw_counters(drop)
    load = os.getloadavg()[0]
    cell.phase_s = dict.fromkeys(cell.phase_s, 0.0)
    cell.phase_cpu_s = dict.fromkeys(cell.phase_cpu_s, 0.0)
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        cell.step()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    simulated = steps * period_ms / 1000
    drawn = {k: v - drawn[k] for k, v in _draw_counters(drop).items()}
    if anchor_draws == "process":  # the worker's CPU is not in this process's
        cpu += drawn["cpu_s"]
    only_channel = channel_cost(ChannelConfig(scenario="umi", n_ue=n_ues, seed=1,
                                              report_period_s=period_ms / 1000,
                                              anchor_draws=anchor_draws), simulated)
    return {"ues": n_ues, "anchor_draws": anchor_draws, "steps": steps,
            "warmup_s": warmup_seconds,
            "setup_s": round(setup, 2),
            "wall_s_per_sim_s": round(wall / simulated, 3),
            "cpu_s_per_sim_s": round(cpu / simulated, 3),
            "ms_per_step": round(1e3 * wall / steps, 2),
            "ms_per_step_by_phase": _per_step(cell.phase_s, steps),
            # CPU of the stepping thread only; the anchor draws (in the drop's thread or
            # the worker process) are counted in cpu_s_per_sim_s and below.
            "cpu_ms_per_step_by_phase": _per_step(cell.phase_cpu_s, steps),
            "sionna_calls_per_sim_s": round(drawn["calls"] / simulated, 2),
            "sionna_draw_ms_per_step": round(1e3 * drawn["draw_s"] / steps, 2),
            "sionna_draw_cpu_ms_per_step": round(1e3 * drawn["cpu_s"] / steps, 2),
            "waited_for_draws_ms_per_step": round(1e3 * drawn["wait_s"] / steps, 2),
            "real_time": wall < simulated,
            "channel_only_wall_s_per_sim_s": only_channel["wall_s_per_sim_s"],
            "channel_only_cpu_s_per_sim_s": only_channel.get("cpu_s_per_sim_s"),
            "load_avg_1min": round(load, 2)}


def _per_step(spent_s: dict[str, float], steps: int) -> dict[str, float]:
    return {name: round(1e3 * spent / steps, 2) for name, spent in spent_s.items()}


def _draw_counters(drop: object) -> dict[str, float]:
    if not isinstance(drop, SystemLevelDrop):
        return {"calls": 0.0, "draw_s": 0.0, "cpu_s": 0.0, "wait_s": 0.0}
    return {"calls": float(drop.segments_drawn), "draw_s": drop.draw_seconds,
            "cpu_s": drop.draw_cpu_seconds, "wait_s": drop.wait_seconds}


def persistence(scenario: str, speed_kmh: float, horizons: list[int], n_ues: int,
                n_reports: int) -> dict[str, Any]:
    """Persistence against the oracle at each horizon (module docstring)."""
    dt = 5
    snr = (10.0, 10.0)
    channel = ChannelConfig(scenario=scenario, speed_kmh=(speed_kmh, speed_kmh),
                            snr_db_range=snr)
    cell = Cell(CellConfig(channel=channel, n_ues=n_ues, report_period_ms=dt, scoring=False,
                           seed=7))
    max_h = max(horizons) // dt
    h_true, reported = [], []
    for _ in range(n_reports + max_h):
        step = cell.step()
        h_true.append(step.snapshot.h_true)
        csi = cell.legacy_csi()
        assert csi is not None
        reported.append((csi.ri, csi.pmi, csi.best_beam))
    truth = torch.stack(h_true)  # [steps, n_ue, n_sb, n_rx, n_tx]
    best = oracle(cell.codebook, cell.grid, truth.flatten(0, 1))
    out: dict[str, Any] = {"scenario": scenario, "speed_kmh": speed_kmh,
                           "snr_db": None if channel.is_system_level else snr[0],
                           "samples_per_horizon": n_reports * n_ues}
    n = n_ues
    for h in horizons:
        k = h // dt
        later = torch.arange(k, k + n_reports)
        rows = (later[:, None] * n + torch.arange(n)).flatten()
        ri = torch.cat([reported[t][0] for t in range(n_reports)])
        pmi = torch.cat([reported[t][1] for t in range(n_reports)])
        beam = torch.cat([reported[t][2] for t in range(n_reports)])
        score = persistence_score(cell.codebook, truth[later].flatten(0, 1), ri, pmi, beam,
                                  best.take(rows))
        out[f"{h}ms"] = {k2: (round(v, 4) if isinstance(v, float) else v)
                         for k2, v in asdict(score).items() if k2 != "samples"}
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(1)
    quick = bool(args.quick)
    ues = [16, 64] if quick else args.ues
    sim_seconds = 0.5 if quick else args.sim_seconds
    warmup = 0.2 if quick else args.warmup_seconds
    modes = ["process"] if quick else args.anchor_draws
    cost = [cell_cost(n, args.period_ms, sim_seconds, warmup, mode) for n in ues for mode in modes]
    b_ues = 12 if quick else args.baseline_ues
    b_reports = 24 if quick else args.baseline_reports
    baseline = [persistence(scenario, v, args.horizons, b_ues, b_reports)
                for scenario in ("cdl-c", "umi") for v in args.speeds]
    return {"benchmark": "sim", "quick": quick, "machine": machine(),
            "torch_threads": torch.get_num_threads(), "report_period_ms": args.period_ms,
            "cost": cost, "persistence": baseline,
            "radio_md_reference_ri_pmi_se": RADIO_MD_REFERENCE}
