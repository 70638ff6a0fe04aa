"""One configuration object for a simulated cell (`CellConfig`).

The cell's own fields rule over the copies inside ``channel``: ``n_ues``,
``report_period_ms`` and ``seed`` replace ``channel.n_ue``, ``channel.report_period_s`` and
``channel.seed`` (see :attr:`CellConfig.channel_config`), so a cell is configured in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from e2sim.channel import ChannelConfig
from xapp.e2.csi_types import NrCgi
from xapp.e2.kpm_types import plmn_id

# Oversampling (O1, O2) of TS 38.214 Table 5.2.2.2.1-2 for each panel (N1, N2).
OVERSAMPLING = {(1, 1): (1, 1), (2, 1): (4, 1), (2, 2): (4, 4), (4, 1): (4, 1)}
BEAM_GRID_SIZES = (16, 32, 64)


def default_cell_id() -> NrCgi:
    """PLMN 001/01 (the 3GPP test network), NR cell identity 1."""
    return NrCgi(plmn_id("001", "01"), 1)


@dataclass(frozen=True)
class CellConfig:
    """Everything that defines a simulated cell and its UEs.

    Attributes:
        channel: scenario, antennas, carrier, speeds, estimation error (see ChannelConfig).
        n_ues: UEs in the cell (ids 0..n_ues-1).
        cell_id: NR CGI of the cell.
        report_period_ms: CSI report (and scheduling/KPM) period [ms].
        beam_grid_size: beams in the gNB's DFT grid: 16, 32 or 64.
        top_k_beams: beams per report (strongest first, L1-RSRP in dBm).
        cqi_table: 4-bit CQI table 1 (64QAM) or 2 (256QAM) of TS 38.214.
        control_delay_ms: from a recommendation's arrival to the earliest instant it acts.
        default_validity_ms: validity of a recommendation that carries none (0).
        channel_estimate: attach the gNB's SRS estimate to every report.
        pf_time_constant_slots: averaging window of the proportional-fair scheduler.
        scoring: score the closed loop at every step (datasets compute their own oracle
            labels and turn it off; the scheduler then serves the reported choices).
        seed: drives every random draw of the cell (same seed, same reports).
    """

    channel: ChannelConfig = field(default_factory=ChannelConfig)
    n_ues: int = 16
    cell_id: NrCgi = field(default_factory=default_cell_id)
    report_period_ms: int = 10
    beam_grid_size: int = 32
    top_k_beams: int = 4
    cqi_table: int = 1
    control_delay_ms: float = 2.0
    default_validity_ms: int = 20
    channel_estimate: bool = True
    pf_time_constant_slots: float = 100.0
    scoring: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        problems = []
        if self.n_ues < 1:
            problems.append(f"n_ues={self.n_ues} must be at least 1")
        if self.report_period_ms < 1:
            problems.append(f"report_period_ms={self.report_period_ms} must be at least 1")
        if self.beam_grid_size not in BEAM_GRID_SIZES:
            problems.append(f"beam_grid_size={self.beam_grid_size} must be one of "
                            f"{BEAM_GRID_SIZES}")
        if not 1 <= self.top_k_beams <= self.beam_grid_size:
            problems.append(f"top_k_beams={self.top_k_beams} must be in 1..beam_grid_size")
        if self.cqi_table not in (1, 2):
            problems.append(f"cqi_table={self.cqi_table} must be 1 or 2")
        if self.control_delay_ms < 0 or self.default_validity_ms < 1:
            problems.append("control_delay_ms >= 0 and default_validity_ms >= 1 are required")
        if self.pf_time_constant_slots < 1:
            problems.append("pf_time_constant_slots must be at least 1")
        if problems:
            raise ValueError("invalid CellConfig: " + "; ".join(problems))

    @property
    def channel_config(self) -> ChannelConfig:
        """The channel configuration with the cell's UE count, period and seed."""
        return replace(self.channel, n_ue=self.n_ues,
                       report_period_s=self.report_period_ms / 1000.0, seed=self.seed)

    @property
    def panel(self) -> tuple[int, int]:
        """(N1, N2) of the gNB panel."""
        return self.channel.panel_shape

    @property
    def oversampling(self) -> tuple[int, int]:
        """(O1, O2) of the Type-I codebook for the panel."""
        return OVERSAMPLING[self.panel]

    @property
    def slot_ms(self) -> float:
        """Slot length: 1 ms at 15 kHz, 0.5 ms at 30 kHz."""
        return 15e3 / self.channel.scs_hz

    @property
    def slots_per_report(self) -> int:
        return max(1, round(self.report_period_ms / self.slot_ms))
