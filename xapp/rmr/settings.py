"""RMR settings: the librmr environment variables, read in one place.

Both backends take an :class:`RmrSettings`; the xApp configuration builds one too, so
a deployment sets the same variables whichever backend runs.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from xapp.rmr.frame import DEFAULT_MAX_FRAME_BYTES
from xapp.rmr.mtypes import RMR_DATA_PORT, RMR_ROUTE_PORT

# RMR_LOG_VLEVEL 0..5 (critical .. debug) mapped onto Python logging levels.
_VLEVELS = (
    logging.CRITICAL,
    logging.ERROR,
    logging.WARNING,
    logging.INFO,
    logging.INFO,
    logging.DEBUG,
)


@dataclass(frozen=True)
class RmrSettings:
    """Where an RMR endpoint listens, who it says it is and where its routes come from.

    Attributes:
        port: data port to listen on (the ``rmr_init`` argument, usually 4560).
        bind_if: interface address to bind (``RMR_BIND_IF``; all interfaces when empty).
        seed_rt: static route table file read at start (``RMR_SEED_RT``).
        rtg_svc: Route Manager ``host:port`` to request a table from with mtype 21
            (``RMR_RTG_SVC``); ``None`` for seed file only (``-1``) or push-only (a port).
        src_id: name put in the ``src`` header field (``RMR_SRC_ID``; host name when
            unset); ``:port`` is appended when it has none.
        ctl_port: port on which Route Manager pushes (mtype 20) arrive
            (``RMR_CTL_PORT``); ``None`` to not listen for them separately.
        async_conn: when true (``RMR_ASYNC_CONN`` unset or 1) a send to an endpoint not
            yet connected starts connecting and fails at once, as librmr does; when
            false the send waits for the connection.
        log_vlevel: ``RMR_LOG_VLEVEL`` 0..5.
        max_frame_bytes: largest frame accepted from a peer.
        connect_timeout_s: how long an outbound connection attempt may take.
        send_timeout_s: how long a send may wait for a peer that does not read before
            its connection is closed and the send fails.
    """

    port: int = RMR_DATA_PORT
    bind_if: str = ""
    seed_rt: Path | None = None
    rtg_svc: str | None = None
    src_id: str | None = None
    ctl_port: int | None = RMR_ROUTE_PORT
    async_conn: bool = True
    log_vlevel: int = 0
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    connect_timeout_s: float = 2.0
    send_timeout_s: float = 10.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str], port: int = RMR_DATA_PORT) -> RmrSettings:
        """Settings from librmr's environment variables (pass ``os.environ``).

        Raises:
            ValueError: a variable holds something librmr would not accept either.
        """
        rtg = environ.get("RMR_RTG_SVC", "").strip()
        ctl = environ.get("RMR_CTL_PORT", "").strip()
        return cls(
            port=port,
            bind_if=environ.get("RMR_BIND_IF", "").strip(),
            seed_rt=Path(environ["RMR_SEED_RT"]) if environ.get("RMR_SEED_RT") else None,
            # A bare port number is librmr's older push-mode setting: nothing to request.
            rtg_svc=rtg if ":" in rtg else None,
            src_id=environ.get("RMR_SRC_ID", "").strip() or None,
            ctl_port=int(ctl) if ctl else RMR_ROUTE_PORT,
            async_conn=environ.get("RMR_ASYNC_CONN", "1").strip() != "0",
            log_vlevel=int(environ.get("RMR_LOG_VLEVEL", "0") or 0),
        )

    def to_env(self) -> dict[str, str]:
        """The environment librmr needs to behave like these settings."""
        env = {
            "RMR_ASYNC_CONN": "1" if self.async_conn else "0",
            "RMR_LOG_VLEVEL": str(self.log_vlevel),
        }
        # Without rtg_svc, RMR_RTG_SVC stays unset rather than -1: -1 would make librmr
        # ignore Route Manager pushes on RMR_CTL_PORT, which this backend accepts.
        if self.rtg_svc:
            env["RMR_RTG_SVC"] = self.rtg_svc
        if self.bind_if:
            env["RMR_BIND_IF"] = self.bind_if
        if self.seed_rt is not None:
            env["RMR_SEED_RT"] = str(self.seed_rt)
        if self.src_id:
            env["RMR_SRC_ID"] = self.src_id
        if self.ctl_port is not None:
            env["RMR_CTL_PORT"] = str(self.ctl_port)
        return env

    def source_name(self, port: int | None = None) -> str:
        """The ``host:port`` written in the ``src`` header field.

        ``port`` is the port actually bound (when ``self.port`` is 0); default ``self.port``.
        """
        name = self.src_id or socket.gethostname()
        return name if ":" in name else f"{name}:{self.port if port is None else port}"

    def source_ip(self, port: int | None = None) -> str:
        """The ``ip:port`` written in ``srcip`` (the bind address when one is set)."""
        port = self.port if port is None else port
        ip = self.bind_if
        if not ip or ip in ("0.0.0.0", "::"):
            try:
                ip = socket.gethostbyname(socket.gethostname())
            except OSError:
                ip = "127.0.0.1"
        return f"{ip}:{port}"

    @property
    def log_level(self) -> int:
        """The Python logging level matching ``log_vlevel``."""
        return _VLEVELS[max(0, min(self.log_vlevel, len(_VLEVELS) - 1))]
