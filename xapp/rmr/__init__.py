"""RMR, the RIC message router: wire format, route tables and two interchangeable transports.

- :mod:`xapp.rmr.message`: :class:`RmrMessage`, what every backend delivers and sends.
- :mod:`xapp.rmr.frame`: the sans-IO SI95 frame codec (:func:`encode_frame`,
  :class:`FrameDecoder`).
- :mod:`xapp.rmr.routes`: route-table text, incremental loading and lookup.
- :mod:`xapp.rmr.settings`: :class:`RmrSettings` from librmr's environment variables.
- :mod:`xapp.rmr.transport`: the :class:`RmrTransport` interface and its result types.
- :mod:`xapp.rmr.si95` (pure Python) and :mod:`xapp.rmr.librmr` (C library) backends,
  chosen by :func:`xapp.rmr.backends.open_transport`.
"""

from xapp.rmr.backends import available_backends, open_transport
from xapp.rmr.frame import FrameDecoder, RmrFrameError, decode_frame, encode_frame
from xapp.rmr.message import RmrMessage, new_xid
from xapp.rmr.mtypes import NO_SUB_ID, MessageType
from xapp.rmr.routes import RouteTable, RouteTableError, RouteTableLoader, parse_route_table
from xapp.rmr.settings import RmrSettings
from xapp.rmr.transport import (
    RmrCallTimeout,
    RmrCounters,
    RmrError,
    RmrSendFailed,
    RmrTransport,
    SendResult,
)

__all__ = [
    "NO_SUB_ID",
    "FrameDecoder",
    "MessageType",
    "RmrCallTimeout",
    "RmrCounters",
    "RmrError",
    "RmrFrameError",
    "RmrMessage",
    "RmrSendFailed",
    "RmrSettings",
    "RmrTransport",
    "RouteTable",
    "RouteTableError",
    "RouteTableLoader",
    "SendResult",
    "available_backends",
    "decode_frame",
    "encode_frame",
    "new_xid",
    "open_transport",
    "parse_route_table",
]
