"""Cost of the simulator's channels: wall time per simulated second, as JSON.

Called by ``linkfm bench sim`` (not registered here). For each UE count, one UMi drop
(default) runs ``--sim-seconds`` of reports every ``--period`` seconds; the figures split
the time Sionna spends drawing rays at track anchors from the per-report evolution.
Real time means ``wall_s_per_sim_s`` < 1, i.e. less than one report period of wall time
per report. The machine is shared: the 1-minute load average and the process CPU time
are reported beside.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from bench._timing import machine
from e2sim.channel import ChannelConfig, make_drop
from e2sim.channel.system_level import SystemLevelDrop


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ues", type=int, nargs="+", default=[16, 64, 256],
                        help="UE counts to simulate")
    parser.add_argument("--scenario", default="umi", help="umi, uma, cdl-a..e, tdl-a..e")
    parser.add_argument("--period", type=float, default=0.010, help="report period [s]")
    parser.add_argument("--sim-seconds", type=float, default=5.0,
                        help="simulated time per UE count (--quick: 1 s)")
    parser.add_argument("--n-tx", type=int, default=4, help="gNB ports (2, 4, 8)")
    parser.add_argument("--n-rx", type=int, default=2, help="UE antennas (1, 2, 4)")
    parser.add_argument("--anchor-spacing", type=float, default=None,
                        help="metres between Sionna ray draws (default: ChannelConfig's)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads, 1 or 2 (default: LINKFM_TORCH_THREADS or 1)")


def measure(cfg: ChannelConfig, sim_seconds: float) -> dict[str, Any]:
    """Build a drop for ``cfg`` and time ``sim_seconds`` of reports (one call per UE count)."""
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    drop = make_drop(cfg)
    setup_s = time.perf_counter() - started
    draws_at_setup = drop.draw_seconds if isinstance(drop, SystemLevelDrop) else 0.0
    waits_at_setup = drop.wait_seconds if isinstance(drop, SystemLevelDrop) else 0.0
    worker_cpu_at_setup = drop.draw_cpu_seconds if isinstance(drop, SystemLevelDrop) else 0.0
    steps = max(1, round(sim_seconds / cfg.report_period_s))
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in drop.reports(steps):
        pass
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    if isinstance(drop, SystemLevelDrop) and cfg.anchor_draws == "process":
        cpu += drop.draw_cpu_seconds - worker_cpu_at_setup  # the worker's, not in ours
    simulated = steps * cfg.report_period_s
    result: dict[str, Any] = {
        "ues": cfg.n_ue, "steps": steps, "sim_s": round(simulated, 3),
        "setup_s": round(setup_s, 3), "wall_s": round(wall, 3),
        "wall_s_per_sim_s": round(wall / simulated, 3),
        # CPU time is what the run costs on an idle machine (wall time includes waiting
        # for a core on a busy one).
        "cpu_s_per_sim_s": round(cpu / simulated, 3),
        "cpu_ms_per_report": round(1e3 * cpu / steps, 3),
        "ms_per_report": round(1e3 * wall / steps, 3),
        "real_time": wall < simulated,
        "load_avg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    if isinstance(drop, SystemLevelDrop):
        # Draws run in the drop's background thread: what the reports waited for them is
        # what they cost the stepping thread.
        draw = drop.draw_seconds - draws_at_setup
        wait = drop.wait_seconds - waits_at_setup
        result.update({"sionna_draw_s": round(draw, 3), "waited_for_draws_s": round(wait, 3),
                       "evolution_ms_per_report": round(1e3 * (wall - wait) / steps, 3),
                       "sionna_calls": drop.segments_drawn,
                       "mean_speed_kmh": round(float(drop.speed_mps.mean()) * 3.6, 1)})
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.threads is not None:
        os.environ["LINKFM_TORCH_THREADS"] = str(args.threads)
    sim_seconds = 1.0 if args.quick else args.sim_seconds
    base: dict[str, Any] = {"scenario": args.scenario, "report_period_s": args.period,
                            "n_tx": args.n_tx, "n_rx": args.n_rx}
    if args.anchor_spacing is not None:
        base["anchor_spacing_m"] = args.anchor_spacing
    runs = [measure(ChannelConfig(n_ue=n, **base), sim_seconds) for n in args.ues]
    cfg = ChannelConfig(**base)
    return {"benchmark": "sim_channel", "quick": bool(args.quick), "machine": machine(),
            "torch_threads": int(os.environ.get("LINKFM_TORCH_THREADS", "1")),
            "config": {**base, "n_prb": cfg.n_prb, "subband_prb": cfg.subband_prb,
                       "speed_kmh": list(cfg.speed_kmh),
                       "anchor_spacing_m": cfg.anchor_spacing_m,
                       "anchors_per_segment": cfg.anchors_per_segment,
                       "ues_per_sionna_call": cfg.ues_per_sionna_call},
            "runs": runs}


if __name__ == "__main__":
    import json

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    add_arguments(parser)
    print(json.dumps(run(parser.parse_args()), indent=2))
