"""Choosing an RMR backend: librmr when its library loads, else the pure-Python one."""

from __future__ import annotations

from typing import Literal

from xapp.rmr.librmr import LibRmrTransport, load_librmr
from xapp.rmr.settings import RmrSettings
from xapp.rmr.si95 import Si95Transport
from xapp.rmr.transport import RmrError, RmrTransport

Backend = Literal["librmr", "si95"]


def available_backends() -> list[Backend]:
    """Backends that can run here, preferred first (``si95`` always can)."""
    return ["librmr", "si95"] if load_librmr() is not None else ["si95"]


def open_transport(
    settings: RmrSettings, prefer: Backend | Literal["auto"] = "auto"
) -> RmrTransport:
    """A transport (not started) for ``settings``.

    ``auto`` picks librmr when ``librmr_si.so`` loads, else the pure-Python SI95 backend;
    naming a backend that cannot run raises :class:`RmrError`.
    """
    choice = available_backends()[0] if prefer == "auto" else prefer
    if choice not in available_backends():
        raise RmrError(
            f"RMR backend {choice!r} is not available here "
            f"(available: {', '.join(available_backends())})"
        )
    if choice == "librmr":
        return LibRmrTransport(settings)
    return Si95Transport(settings)
