"""Backend choice: librmr when librmr_si.so loads, else the pure-Python SI95 transport."""

from __future__ import annotations

import pytest

from xapp.rmr.backends import available_backends, open_transport
from xapp.rmr.librmr import LibRmrTransport, load_librmr
from xapp.rmr.settings import RmrSettings
from xapp.rmr.si95 import Si95Transport
from xapp.rmr.transport import RmrError, RmrTransport


def test_pure_backend_is_always_available_and_listed_last() -> None:
    assert available_backends()[-1] == "si95"


def test_librmr_is_listed_exactly_when_its_library_loads() -> None:
    assert ("librmr" in available_backends()) == (load_librmr() is not None)


def test_auto_picks_the_first_available_backend() -> None:
    transport = open_transport(RmrSettings(port=0))
    expected = LibRmrTransport if available_backends()[0] == "librmr" else Si95Transport
    assert isinstance(transport, expected)
    assert isinstance(transport, RmrTransport)


def test_asking_for_the_pure_backend_gives_it() -> None:
    assert isinstance(open_transport(RmrSettings(port=0), prefer="si95"), Si95Transport)


def test_asking_for_an_unavailable_backend_is_an_error() -> None:
    if load_librmr() is not None:
        pytest.skip("librmr loads here, so it is available")
    with pytest.raises(RmrError, match="librmr"):
        open_transport(RmrSettings(port=0), prefer="librmr")
    with pytest.raises(RmrError):
        LibRmrTransport(RmrSettings(port=0))
