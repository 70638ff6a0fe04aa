"""One configuration object for the simulator's channels (`ChannelConfig`).

Units are SI unless the name says otherwise (``_db``, ``_dbm``, ``_kmh``, ``_prb``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SYSTEM_LEVEL = ("umi", "uma")
LINK_LEVEL = tuple(f"{kind}-{m}" for kind in ("cdl", "tdl") for m in "abcde")
SCENARIOS = SYSTEM_LEVEL + LINK_LEVEL

# (N1, N2) of the dual-polarised gNB panel for each port count (P = 2 N1 N2).
DEFAULT_PANEL = {2: (1, 1), 4: (2, 1), 8: (2, 2)}
ALLOWED_PANELS = {2: ((1, 1),), 4: ((2, 1),), 8: ((2, 2), (4, 1))}

# Single-sector geometry of TR 38.901 Table 7.2-1: minimum BS-UT distance and ISD [m].
# A UE track U-turns when it would leave the ring [min, ISD / sqrt(3)] or the 120° sector.
CELL_GEOMETRY = {"umi": (10.0, 200.0), "uma": (35.0, 500.0)}


@dataclass(frozen=True)
class ChannelConfig:
    """Everything that defines a drop of UE channels in one cell.

    ``scenario``: ``umi``/``uma`` (system level, SNR from pathloss + shadowing + noise and
    interference) or
    ``cdl-a``..``cdl-e``/``tdl-a``..``tdl-e`` (link level, SNR drawn in ``snr_db_range``).
    ``n_tx`` gNB ports on a dual-polarised panel ``panel`` = (N1 horizontal, N2 vertical);
    ``n_rx`` UE antennas (1: single V, 2: one cross-polarised pair, 4: two pairs).
    Subbands have ``subband_prb`` PRBs (the last one may be shorter).
    Estimation errors are additive white Gaussian with power ``mean |H|^2 / 10^(snr/10)``
    per UE (``ue_est_snr_db`` for the CSI-RS estimate, ``gnb_est_snr_db`` for SRS).
    """

    scenario: str = "umi"
    n_ue: int = 16
    carrier_hz: float = 3.5e9
    scs_hz: float = 30e3
    n_prb: int = 52
    subband_prb: int = 4
    n_tx: int = 4
    panel: tuple[int, int] | None = None
    n_rx: int = 2
    speed_kmh: tuple[float, float] = (3.0, 120.0)
    report_period_s: float = 0.010
    # System level: link budget. 41 dBm is a typical 20 MHz small-cell output power.
    tx_power_dbm: float = 41.0
    noise_figure_db: float = 9.0
    indoor_probability: float = 0.0
    # One cell without neighbours would put most UMi UEs above 40 dB. Other cells raise the
    # noise floor (interference over thermal, a loaded-network figure), and transmitter
    # EVM bounds the SINR softly: snr = 1 / (1 / snr + 1 / cap).
    interference_over_thermal_db: float = 15.0
    snr_cap_db: float = 30.0
    # Link level.
    snr_db_range: tuple[float, float] = (0.0, 25.0)
    delay_spread_s: float = 100e-9
    # Estimation error (SNR of the estimate relative to the channel power).
    ue_est_snr_db: float = 20.0
    gnb_est_snr_db: float = 15.0
    # Path generation along tracks (system level): Sionna draws spatially consistent rays
    # every ``anchor_spacing_m`` along a track, ``anchors_per_segment`` at a time.
    anchor_spacing_m: float = 2.5
    anchors_per_segment: int = 8
    ues_per_sionna_call: int = 16
    # A UE's next anchors are drawn once it would run out of them within this much
    # simulated time, in a background thread when ``prefetch_anchors`` (the channels are
    # the same either way; the thread only takes the draw off the report's critical path).
    anchor_lookahead_s: float = 0.5
    prefetch_anchors: bool = True
    # Where prefetched draws run: "thread" (the drop's own thread) or "process" (one worker
    # process shared by the drops of this process: a draw holds the GIL between its many
    # small torch kernels, so only a process runs it beside the stepping thread). The
    # channels are the same either way (e2sim.channel.anchor_draws).
    anchor_draws: str = "thread"
    seed: int = 0

    def __post_init__(self) -> None:
        problems = []
        if self.scenario not in SCENARIOS:
            problems.append(f"scenario {self.scenario!r} is not one of {SCENARIOS}")
        if self.scs_hz not in (15e3, 30e3):
            problems.append(f"scs_hz={self.scs_hz} must be 15e3 or 30e3")
        if self.n_tx not in DEFAULT_PANEL:
            problems.append(f"n_tx={self.n_tx} must be 2, 4 or 8")
        elif self.panel is not None and tuple(self.panel) not in ALLOWED_PANELS[self.n_tx]:
            problems.append(f"panel={self.panel} does not fit n_tx={self.n_tx}: "
                            f"use one of {ALLOWED_PANELS[self.n_tx]}")
        if self.n_rx not in (1, 2, 4):
            problems.append(f"n_rx={self.n_rx} must be 1, 2 or 4")
        if self.n_ue < 1 or self.n_prb < 1 or not 1 <= self.subband_prb <= self.n_prb:
            problems.append("n_ue, n_prb >= 1 and 1 <= subband_prb <= n_prb are required")
        lo, hi = self.speed_kmh
        if not 0.0 < lo <= hi:
            problems.append(f"speed_kmh={self.speed_kmh} must satisfy 0 < low <= high")
        if self.report_period_s <= 0 or self.anchor_spacing_m <= 0:
            problems.append("report_period_s and anchor_spacing_m must be positive")
        if self.anchor_lookahead_s < 0:
            problems.append(f"anchor_lookahead_s={self.anchor_lookahead_s} must be >= 0")
        if self.anchors_per_segment < 2 or self.ues_per_sionna_call < 1:
            problems.append("anchors_per_segment >= 2 and ues_per_sionna_call >= 1 required")
        if self.anchor_draws not in ("thread", "process"):
            problems.append(f"anchor_draws={self.anchor_draws!r} must be 'thread' or 'process'")
        if problems:
            raise ValueError("invalid ChannelConfig: " + "; ".join(problems))

    @property
    def is_system_level(self) -> bool:
        return self.scenario in SYSTEM_LEVEL

    @property
    def panel_shape(self) -> tuple[int, int]:
        """(N1, N2): horizontal and vertical port pairs of the gNB panel."""
        if self.panel is None:
            return DEFAULT_PANEL[self.n_tx]
        return (int(self.panel[0]), int(self.panel[1]))

    @property
    def n_subbands(self) -> int:
        return math.ceil(self.n_prb / self.subband_prb)

    @property
    def bandwidth_hz(self) -> float:
        """Occupied bandwidth: 12 subcarriers per PRB."""
        return 12 * self.n_prb * self.scs_hz

    @property
    def noise_dbm(self) -> float:
        """Thermal noise over the occupied bandwidth plus the UE noise figure [dBm]."""
        return -174.0 + 10.0 * math.log10(self.bandwidth_hz) + self.noise_figure_db

    @property
    def interference_plus_noise_dbm(self) -> float:
        """Noise floor of system-level SNRs: thermal noise raised by other-cell interference."""
        return self.noise_dbm + self.interference_over_thermal_db

    @property
    def wavelength_m(self) -> float:
        return 299_792_458.0 / self.carrier_hz
