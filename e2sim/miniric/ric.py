"""The mini-RIC as one object: Subscription Manager REST server + E2 termination over RMR."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from e2sim.miniric.e2t import E2Termination
from e2sim.miniric.submgr import NotifyPolicy, SubscriptionManager
from xapp.rmr.settings import RmrSettings
from xapp.rmr.si95 import Si95Transport


@dataclass
class MiniRic:
    """Listens for E2 nodes and xApps on RMR ``rmr_port`` and serves submgr REST on
    ``http_port`` (0 = pick free ports; read :attr:`rmr_endpoint` and :attr:`submgr_url`).
    """

    host: str = "127.0.0.1"
    rmr_port: int = 0
    http_port: int = 0
    notify: NotifyPolicy = field(default_factory=NotifyPolicy)
    transport: Si95Transport = field(init=False)
    e2t: E2Termination = field(init=False)
    submgr: SubscriptionManager = field(init=False)
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        self.transport = Si95Transport(RmrSettings(
            port=self.rmr_port, bind_if=self.host, src_id=self.host, ctl_port=None,
            async_conn=False))
        await self.transport.start()
        self.e2t = E2Termination(self.transport,
                                 on_node_restart=lambda meid: self.submgr.node_down(meid))
        self.submgr = SubscriptionManager(self.e2t, self.notify)
        self.e2t.start()
        self._runner = web.AppRunner(self.submgr.app())
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.http_port).start()
        self.http_port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        await self.e2t.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.transport.close()

    @property
    def rmr_endpoint(self) -> str:
        return f"{self.host}:{self.transport.port}"

    @property
    def submgr_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"
