"""Datasets for the model: shards of UE windows with oracle labels (`linkfm dataset`).

Windows are built by `xapp.ingest.windows.UeWindowStore` from the `CsiReport`s and KPM a
`e2sim.cell.Cell` emits, with the `CellContext` the xApp derives from the cell's RAN
function definition: training sees exactly what the xApp sees.

How a shard is made (deterministic from its seed): one cell of one scenario family runs
at a time step ``dt = gcd(report period, horizons)``; every ``report_period / dt`` steps
its UEs report (and their KPM of the last step is observed in that slot). After the first
``window`` reports, every ``stride`` reports each UE's window becomes a sample, labelled
with the ORACLE (best RI/PMI/beam on the TRUE channel, `e2sim.cell.oracle`) at t + h for
every horizon h. Reports come from the UEs' noisy CSI-RS estimates, so the last report
(``legacy.*``) is the persistence baseline.

Shard format: one safetensors file per shard, N samples, every tensor's first dim N:
- ``x.<feature>`` / ``m.<feature>``: the window values and bool masks of every per-slot
  feature of `model.registry` ([N, T, ...], padded, oldest slot first), and the context
  features ``x.ctx.*`` / ``m.ctx.*`` ([N]). ``csi.h_est`` (the SRS estimate, complex64) is
  present only for shards made with ``channel_estimate=True`` (E2SM-CSI sends it only when
  the subscription asks). ``x.ctx.horizon_ms`` holds the first horizon: set it to the
  horizon of the label trained on.
- ``y.<h>ms.<label>`` for each horizon h: ``ri`` (1..4), ``pmi`` (flat index of
  `e2sim.csi.TypeICodebook` at ``ri``), ``i11 i12 i13 i2`` (dense PMI parts), ``beam``,
  ``cqi`` (wideband), ``se`` (oracle SE, bit/s/Hz), ``se_per_rank`` [N, 4] and
  ``pmi_per_rank`` [N, 4] (best PMI per rank; 0 where the rank is not allowed),
  ``beam_rsrp_db`` [N, n_beams] (true L1-RSRP over the per-antenna noise), ``se_legacy``
  (SE of the last report's RI/PMI on the true channel at t + h) and ``h_true``
  [N, n_sb, n_rx, n_tx] complex64, the true whitened channel at t + h at the shard's own
  size, so that ANY prediction can be scored exactly offline with `e2sim.csi.se_of`.
- ``legacy.<name>``: the last report: ``ri pmi i11 i12 i13 i2 beam cqi`` [N].
- ``meta.<name>``: ``ue_id``, ``family_id`` (index in `FAMILIES`, see `FAMILY_ID`),
  ``seed`` (of the shard), ``time_ms`` (window end), ``speed_kmh``, ``snr_db``, ``los``.
- header metadata ``"shard"``: JSON with the family, scenario, seed, antennas, period,
  horizons, window, stride and the registry version.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from e2sim.cell import Cell, CellConfig
from e2sim.cell.oracle import oracle
from e2sim.channel import ChannelConfig
from e2sim.csi import se_of
from model.registry import FeatureRegistry
from xapp.ingest.cells import CellContexts, NodeAntennas
from xapp.ingest.windows import UeKey, UeWindowStore

FORMAT = "linkfm-dataset/1"
MEID = "gnb-sim"


@dataclass(frozen=True)
class Family:
    """A named scenario family: the channel model, speeds and antennas a shard draws from."""

    name: str
    scenario: str
    speed_kmh: tuple[float, float]
    n_tx: int = 4
    panel: tuple[int, int] | None = None
    n_rx: int = 2
    snr_db_range: tuple[float, float] = (0.0, 25.0)
    held_out: bool = False


FAMILIES = (
    Family("umi-pedestrian", "umi", (3.0, 10.0)),
    Family("umi-vehicular", "umi", (30.0, 60.0)),
    Family("uma-vehicular", "uma", (30.0, 90.0)),
    Family("cdl-a", "cdl-a", (3.0, 120.0)),
    Family("cdl-c", "cdl-c", (3.0, 120.0)),
    Family("tdl-c", "tdl-c", (3.0, 120.0)),
    Family("umi-2port", "umi", (3.0, 60.0), n_tx=2),
    # Out-of-distribution tests: never in the default training mix.
    Family("uma-highspeed", "uma", (90.0, 120.0), held_out=True),
    Family("cdl-e", "cdl-e", (3.0, 120.0), held_out=True),
    Family("umi-8port", "umi", (3.0, 60.0), n_tx=8, panel=(2, 2), n_rx=4, held_out=True),
)
FAMILY_BY_NAME = {f.name: f for f in FAMILIES}
FAMILY_ID = {f.name: i for i, f in enumerate(FAMILIES)}  # meta.family_id of a sample
DEFAULT_TRAINING_MIX = tuple(f.name for f in FAMILIES if not f.held_out)
HELD_OUT = tuple(f.name for f in FAMILIES if f.held_out)
LABELS = ("ri", "pmi", "i11", "i12", "i13", "i2", "beam", "cqi")


@dataclass(frozen=True)
class ShardSpec:
    """Everything one shard depends on (a worker needs nothing else)."""

    index: int
    family: str
    seed: int
    n_ues: int = 16
    n_reports: int = 100
    report_period_ms: int = 10
    horizons_ms: tuple[int, ...] = (5, 10, 20)
    window: int = 16
    stride: int = 4
    channel_estimate: bool = False
    beam_grid_size: int = 32

    @property
    def file_name(self) -> str:
        return f"shard-{self.index:05d}-{self.family}.safetensors"

    @property
    def dt_ms(self) -> int:
        return math.gcd(self.report_period_ms, *self.horizons_ms)


def cell_config(spec: ShardSpec) -> CellConfig:
    """The cell a shard simulates (time step dt, no closed-loop scoring)."""
    fam = FAMILY_BY_NAME[spec.family]
    channel = ChannelConfig(scenario=fam.scenario, n_tx=fam.n_tx, panel=fam.panel,
                            n_rx=fam.n_rx, speed_kmh=fam.speed_kmh,
                            snr_db_range=fam.snr_db_range)
    return CellConfig(channel=channel, n_ues=spec.n_ues, report_period_ms=spec.dt_ms,
                      beam_grid_size=spec.beam_grid_size, channel_estimate=spec.channel_estimate,
                      scoring=False, seed=spec.seed)


@dataclass
class _Collected:
    steps: list[int]  # fine step index of each emission
    windows: list[dict[str, tuple[torch.Tensor, torch.Tensor]]]
    legacy: list[dict[str, torch.Tensor]]
    meta: list[dict[str, torch.Tensor]]


def _simulate(spec: ShardSpec, registry: FeatureRegistry) -> tuple[Cell, torch.Tensor,
                                                                   _Collected]:
    """Run the cell; collect windows at emission instants and every true channel."""
    cell = Cell(cell_config(spec))
    k = spec.report_period_ms // spec.dt_ms
    max_h = max(spec.horizons_ms) // spec.dt_ms
    n_steps = (spec.n_reports - 1) * k + 1 + max_h
    store = UeWindowStore(registry, n_slots=spec.window, inactivity_s=1e9)
    contexts = CellContexts(nodes={MEID: NodeAntennas.from_definition(cell.definition)},
                            horizon_ms=float(spec.horizons_ms[0]))
    keys = [UeKey(MEID, u) for u in cell.ue_ids]
    h_true = []
    got = _Collected([], [], [], [])
    for i in range(n_steps):
        step = cell.step()
        h_true.append(step.snapshot.h_true)
        j, rest = divmod(i, k)
        if rest or j >= spec.n_reports:
            continue
        now_s = step.time_ms / 1e3
        for report, key in zip(step.reports, keys, strict=True):
            store.add_kpm(key, step.ue_kpm[report.ue_id], now_s)
            store.add_csi(key, report, contexts.context(MEID, report, spec.report_period_ms),
                          now_s)
        if j + 1 < spec.window or (j + 1 - spec.window) % spec.stride:
            continue
        legacy = cell.legacy_csi()
        assert legacy is not None
        snap = step.snapshot
        got.steps.append(i)
        got.windows.append(store.windows(keys))
        got.legacy.append({"ri": legacy.ri, "pmi": legacy.pmi, "i11": legacy.i11,
                           "i12": legacy.i12, "i13": legacy.i13, "i2": legacy.i2,
                           "beam": legacy.best_beam, "cqi": legacy.cqi_wb})
        got.meta.append({"ue_id": torch.tensor(cell.ue_ids),
                         "family_id": torch.full((spec.n_ues,), FAMILY_ID[spec.family]),
                         "seed": torch.full((spec.n_ues,), spec.seed),
                         "time_ms": torch.full((spec.n_ues,), step.time_ms),
                         "speed_kmh": snap.speed_mps * 3.6, "snr_db": snap.snr_db,
                         "los": snap.los})
    return cell, torch.stack(h_true), got


def build_shard(spec: ShardSpec, registry: FeatureRegistry | None = None
                ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors and header metadata of one shard (module docstring)."""
    registry = registry or FeatureRegistry()
    cell, h_true, got = _simulate(spec, registry)
    if not got.steps:
        raise ValueError(f"{spec.n_reports} reports give no window of {spec.window} slots")
    tensors: dict[str, torch.Tensor] = {}
    for name in got.windows[0]:
        if name == "csi.h_est" and not spec.channel_estimate:
            continue
        tensors[f"x.{name}"] = torch.cat([w[name][0] for w in got.windows])
        tensors[f"m.{name}"] = torch.cat([w[name][1] for w in got.windows])
    for group, rows in (("legacy", got.legacy), ("meta", got.meta)):
        for name in rows[0]:
            tensors[f"{group}.{name}"] = torch.cat([r[name] for r in rows])
    steps = torch.tensor(got.steps)
    for h in spec.horizons_ms:
        later = h_true[steps + h // spec.dt_ms].flatten(0, 1)  # [N, n_sb, n_rx, n_tx]
        best = oracle(cell.codebook, cell.grid, later, cell.cfg.cqi_table)
        prefix = f"y.{h}ms."
        for name in (*LABELS, "se", "se_per_rank", "pmi_per_rank", "beam_rsrp_db"):
            tensors[prefix + name] = getattr(best, name)
        tensors[prefix + "se_legacy"] = se_of(cell.codebook, later, tensors["legacy.ri"],
                                              tensors["legacy.pmi"])
        tensors[prefix + "h_true"] = later
    tensors = {k: v.contiguous() for k, v in sorted(tensors.items())}
    fam = FAMILY_BY_NAME[spec.family]
    ch = cell.cfg.channel
    meta = {"format": FORMAT, "family": asdict(fam), "spec": asdict(spec),
            "samples": int(steps.numel() * spec.n_ues), "registry_version": registry.version,
            "antennas": {"n_tx": ch.n_tx, "n_rx": ch.n_rx, "panel": list(cell.cfg.panel),
                         "oversampling": list(cell.cfg.oversampling),
                         "n_subbands": ch.n_subbands, "n_beams": cell.grid.n_beams},
            "dt_ms": spec.dt_ms}
    return tensors, meta


def write_shard(spec: ShardSpec, out_dir: Path) -> tuple[Path, dict[str, torch.Tensor],
                                                          dict[str, Any]]:
    """Build and save one shard; returns its path, tensors and header metadata."""
    torch.set_num_threads(1)  # one thread per worker process: workers are the parallelism
    tensors, meta = build_shard(spec)
    path = out_dir / spec.file_name
    save_file(tensors, str(path), metadata={"shard": json.dumps(meta, sort_keys=True)})
    return path, tensors, meta


def load_shard(path: Path | str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """A shard's tensors and its header metadata."""
    tensors: dict[str, torch.Tensor] = {}
    with safe_open(str(path), framework="pt") as f:
        meta = json.loads((f.metadata() or {})["shard"])
        for key in f.keys():  # noqa: SIM118 (safe_open is not a mapping)
            tensors[key] = f.get_tensor(key)
    return tensors, meta


def windows_of(tensors: dict[str, torch.Tensor]) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """The ``x.*`` / ``m.*`` pairs as the ``windows`` mapping of `model.tokenize.tokenize`."""
    return {k[2:]: (v, tensors["m." + k[2:]]) for k, v in tensors.items() if k.startswith("x.")}
