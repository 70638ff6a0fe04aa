"""How the xApp learns each cell's antennas and reporting: the :class:`CellContext` source.

An OSC xApp does not see the E2 setup (the RAN function definition with the antenna set-up
goes to E2T/E2 manager), so it learns a node's sizes in three layers, last one winning:

1. defaults (4 ports as (N1, N2) = (2, 1), (O1, O2) = (4, 1), 2 receive antennas, 13
   subbands, 32 beams: the simulator's reference cell);
2. per-node controls (``config-file.json`` ``controls.nodes.<meid>``: ``n_tx``, ``n_rx``,
   ``n_subbands``, ``n_beams``, ``n1``, ``n2``, ``o1``, ``o2``, ``scs_khz``), or a decoded
   E2SM-CSI RAN function definition for that node when one is available;
3. each report's channel estimate: its shape ``[subbands, n_rx, n_tx]`` is the truth for
   that UE and overrides the configured sizes.

The report period is the CSI subscription's; the horizon is the A1 policy's.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from model.pmi_space import CODEBOOK_CONFIGS, CodebookConfig
from xapp.e2.csi_types import CsiRanFunctionDefinition, CsiReport
from xapp.ingest.decode import IngestError
from xapp.ingest.windows import CellContext


@dataclass(frozen=True)
class NodeAntennas:
    """A node's downlink antenna set-up as configured (ports N_T = 2 * n1 * n2)."""

    n_tx: int = 4
    n_rx: int = 2
    n_subbands: int = 13
    n_beams: int = 32
    n1: int = 2
    n2: int = 1
    o1: int = 4
    o2: int = 1
    scs_khz: int = 30  # subcarrier spacing: a slot lasts 15 / scs_khz ms

    @property
    def slot_ms(self) -> float:
        return 15.0 / self.scs_khz

    @classmethod
    def from_definition(cls, definition: CsiRanFunctionDefinition) -> NodeAntennas:
        a = definition.antenna
        return cls(a.n_tx_ports, a.n_rx, definition.numerology.num_subbands,
                   a.beam_codebook_size, a.n1, a.n2, a.o1, a.o2,
                   definition.numerology.scs_khz)


def codebook_for(n_tx: int, antennas: NodeAntennas) -> CodebookConfig:
    """The model's codebook configuration for ``n_tx`` ports (the configured layout when it
    has that many ports, else the first supported layout of that size)."""
    wanted = CodebookConfig(n_tx, antennas.n1, antennas.n2, antennas.o1, antennas.o2)
    if n_tx == 2:
        wanted = CodebookConfig(2, 1, 1, 1, 1)
    if wanted in CODEBOOK_CONFIGS:
        return wanted
    for cfg in CODEBOOK_CONFIGS:
        if cfg.n_ports == n_tx:
            return cfg
    raise IngestError("unsupported_antennas",
                      f"{n_tx} CSI-RS ports (supported: "
                      f"{sorted({c.n_ports for c in CODEBOOK_CONFIGS})})")


@dataclass
class CellContexts:
    """Per-node antenna knowledge -> the :class:`CellContext` of each report.

    Attributes:
        nodes: configured antennas per E2 node (meid); others use ``default``.
        default: antennas of nodes with no configuration.
        horizon_ms: prediction horizon (the A1 policy's ``horizon_ms``).
    """

    nodes: dict[str, NodeAntennas] = field(default_factory=dict)
    default: NodeAntennas = field(default_factory=NodeAntennas)
    horizon_ms: float = 10.0
    _cache: dict[tuple[str, tuple[int, ...] | None, float, float], CellContext] = field(
        default_factory=dict, init=False, repr=False)

    def antennas(self, meid: str) -> NodeAntennas:
        return self.nodes.get(meid, self.default)

    def context(self, meid: str, report: CsiReport, period_ms: float) -> CellContext:
        """The context of one UE report (channel-estimate shape wins over configuration)."""
        shape: tuple[int, ...] | None = None
        if report.channel_estimate is not None:
            shape = report.channel_estimate.shape
        elif report.csi is not None and report.csi.subband_cqi:
            shape = (len(report.csi.subband_cqi),)
        # UEs of a cell share their context: build each distinct one once.
        key = (meid, shape, float(period_ms), self.horizon_ms)
        context = self._cache.get(key)
        if context is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            context = self._cache[key] = self._build(meid, shape, float(period_ms))
        return context

    def _build(self, meid: str, shape: tuple[int, ...] | None, period_ms: float) -> CellContext:
        antennas = self.antennas(meid)
        if shape is not None and len(shape) == 3:
            antennas = replace(antennas, n_subbands=shape[0], n_rx=shape[1], n_tx=shape[2])
        elif shape is not None:
            antennas = replace(antennas, n_subbands=shape[0])
        return CellContext(
            n_tx=antennas.n_tx, n_rx=antennas.n_rx, n_subbands=antennas.n_subbands,
            n_beams=antennas.n_beams, codebook=codebook_for(antennas.n_tx, antennas),
            report_period_ms=period_ms, horizon_ms=self.horizon_ms)
