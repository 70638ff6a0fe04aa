"""Several simulated E2 nodes (one cell each) in one process, stepping in simulated time.

:class:`NodeRunner` gives every node its own pure-Python RMR endpoint (so recommendations
can be routed to it by meid), connects them to a RIC (E2 setup), and steps all cells
together, one report period per :meth:`NodeRunner.tick`:

- ``realtime=True``: tick k happens at wall time ``start + k * period`` (when the cells
  cannot keep up, the runner runs behind and reports its lag instead of skipping);
- ``realtime=False``: ticks follow each other as fast as the cells compute.

Each cell steps in a worker thread (so RMR traffic keeps flowing). With ``parallel=True``
the cells of a tick step concurrently, each in its own thread: a cell's random draws come
from its own generators (the UEs' estimation noise, and one generator per Sionna call of
its channel drop, see ``e2sim.channel.sionna_lock``), so the reports are the same as when
the cells step one at a time, and torch releases the GIL inside its kernels. That can
only pay with free cores: on the shared 2-core machine (load ~3) two cells of 16 UEs took
9.3 ms per tick in parallel against 8.8 ms one at a time (the default), so measure. Each
drop also draws its next ray anchors ahead (ChannelConfig's ``prefetch_anchors``), in a
thread of its own or, with ``anchor_draws="process"`` (``linkfm sim``'s default), in one
worker process shared by the cells: a draw in a thread takes turns with the stepping
thread on the GIL. Torch runs one intra-op thread per step (more threads per step were
measured 10-30x slower on a loaded machine).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from e2sim.cell import Cell, CellConfig, CellStep
from e2sim.channel import ChannelConfig
from e2sim.node.simulated import SimulatedNode
from xapp.e2.csi_types import NrCgi
from xapp.e2.kpm_types import plmn_id
from xapp.rmr.mtypes import MessageType
from xapp.rmr.settings import RmrSettings
from xapp.rmr.si95 import Si95Transport

PLMN = plmn_id("001", "01")


def node_name(index: int) -> str:
    """The RAN name (RMR meid) of node ``index`` (1-based): ``gnb_001_001_0000000N``."""
    return f"gnb_001_001_{index:08x}"


@dataclass(frozen=True)
class SimSpec:
    """What ``linkfm sim`` simulates: ``cells`` nodes of ``ues`` UEs each.

    Attributes:
        scenario: channel scenario (``umi``, ``uma``, ``cdl-c``, ...; see ChannelConfig).
        speed_kmh: UE speed [km/h] (all UEs).
        period_ms: CSI report period, also the simulation step [ms].
        seed: cell i (1-based) uses ``seed * 1000 + i``: same seed, same reports.
        control_delay_ms: from a recommendation's arrival to its earliest effect [ms].
        channel: other channel settings (antennas, carrier); its scenario, speed, UE
            count, period and seed are replaced by the fields above.
    """

    cells: int = 2
    ues: int = 8
    scenario: str = "umi"
    speed_kmh: float = 60.0
    period_ms: int = 10
    seed: int = 0
    control_delay_ms: float = 2.0
    channel: ChannelConfig = field(default_factory=ChannelConfig)

    def cell_configs(self) -> list[CellConfig]:
        channel = replace(self.channel, scenario=self.scenario,
                          speed_kmh=(self.speed_kmh, self.speed_kmh))
        return [CellConfig(channel=channel, n_ues=self.ues, cell_id=NrCgi(PLMN, i),
                           report_period_ms=self.period_ms,
                           control_delay_ms=self.control_delay_ms, seed=self.seed * 1000 + i)
                for i in range(1, self.cells + 1)]


def _transport(host: str) -> Si95Transport:
    return Si95Transport(RmrSettings(port=0, bind_if=host, src_id=host, ctl_port=None,
                                     async_conn=False))


@dataclass
class NodeRunner:
    """The E2 nodes of ``configs`` (cell i is node ``node_name(i)``), talking to the RIC
    whose RMR endpoint is ``ric_endpoint``. Start with :meth:`start`, then :meth:`tick` or
    :meth:`run`; :meth:`stop` at the end."""

    configs: list[CellConfig]
    ric_endpoint: str
    realtime: bool = True
    host: str = "127.0.0.1"
    parallel: bool = False  # step the cells of a tick concurrently (module docstring)
    nodes: list[SimulatedNode] = field(default_factory=list)
    ticks: int = 0
    lag_ms: float = 0.0  # how far simulated time trails the wall clock (real time only)
    _transports: list[Si95Transport] = field(default_factory=list)
    _start_wall: float = 0.0

    async def start(self) -> None:
        """Build the cells, open one RMR endpoint per node and run E2 setup for each."""
        torch.set_num_threads(1)
        start_unix = time.time()
        for index, cfg in enumerate(self.configs, start=1):
            cell = await asyncio.to_thread(Cell, cfg)
            transport = _transport(self.host)
            await transport.start()
            self._transports.append(transport)
            transport.load_routes(
                "newrt|start\n"
                f"mse|{MessageType.E2_SETUP_REQ}|-1|{self.ric_endpoint}\n"
                f"mse|{MessageType.RIC_INDICATION}|-1|{self.ric_endpoint}\n"
                "newrt|end\n")
            node = SimulatedNode(cell, node_name(index), index, transport, start_unix,
                                 self.realtime)
            await node.connect()
            self.nodes.append(node)
        self._start_wall = time.monotonic()

    async def stop(self) -> None:
        for node in self.nodes:
            await node.stop()
        for transport in self._transports:
            await transport.close()

    @property
    def period_ms(self) -> int:
        return self.configs[0].report_period_ms if self.configs else 1

    @property
    def sim_time_ms(self) -> float:
        """Simulated time of the latest reports."""
        return max((n.cell.time_ms for n in self.nodes), default=0.0)

    def node(self, meid: str) -> SimulatedNode:
        return next(n for n in self.nodes if n.meid == meid)

    async def tick(self) -> list[CellStep]:
        """One report period on every cell (in real time, waits for its wall instant);
        returns each node's step, in node order."""
        if self.realtime:
            due = self._start_wall + self.ticks * self.period_ms / 1e3
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self.lag_ms = max(0.0, -wait * 1e3)
        if self.parallel:
            steps = list(await asyncio.gather(*(node.step() for node in self.nodes)))
        else:
            steps = [await node.step() for node in self.nodes]
        self.ticks += 1
        return steps

    async def run(self, duration_s: float,
                  on_tick: Callable[[NodeRunner], object] | None = None) -> None:
        """Tick until ``duration_s`` of simulated time has passed (``inf``: until cancelled)."""
        steps = (itertools.count() if math.isinf(duration_s)
                 else range(max(1, round(duration_s * 1e3 / self.period_ms))))
        for _ in steps:
            await self.tick()
            if on_tick is not None:
                on_tick(self)

    def xapp_routes(self) -> str:
        """The route table an external xApp needs to send recommendations to these nodes
        (by meid); the RIC's E2T adds the indication routes by sub_id itself."""
        owners = [f"mme_ar|{self.host}:{t.port}|{n.meid}"
                  for n, t in zip(self.nodes, self._transports, strict=True)]
        return "\n".join([
            "newrt|start",
            f"mse|{MessageType.LINKFM_RECOMMENDATION}|-1|%meid",
            "newrt|end",
            "meid_map|start", *owners, f"meid_map|end|{len(owners)}"]) + "\n"

    def scoreboard(self) -> dict[str, Any]:
        """Per node: the cell's scoreboard plus the node's message counters."""
        return {n.meid: {**n.cell.scoreboard(), "node": vars(n.counters).copy(),
                         "bad_messages": n.bad_messages}
                for n in self.nodes}
