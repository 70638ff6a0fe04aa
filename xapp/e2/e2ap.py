"""The E2AP codec: message dataclasses to aligned-PER bytes and back, with pycrate.

Sans-IO: :func:`encode` takes one of the :data:`~xapp.e2.e2ap_messages.E2apMessage`
dataclasses and returns the APER bytes of its E2AP-PDU; :func:`decode` takes bytes and
returns a dataclass, or raises :class:`E2apDecodeError` and nothing else.

Thread safety: pycrate's compiled types are process-wide singletons holding the last value,
and its PER mode is a global flag. Every set_val/to_aper and from_aper/get_val sequence
therefore runs under the process-wide :data:`xapp.e2._pycrate_lock.PYCRATE_LOCK` (pycrate
objects cannot be cloned per thread). The lock is held for the ~0.1-0.3 ms a message takes;
encode and decode are safe to call from any thread.
"""

from __future__ import annotations

from pycrate_asn1dir import E2AP
from pycrate_asn1rt.codecs import ASN1CodecPER
from pycrate_core.charpy import Charpy
from pycrate_core.utils import PycrateErr

from xapp.e2._pycrate_lock import PYCRATE_LOCK
from xapp.e2.e2ap_ies import E2apDecodeError, Tree
from xapp.e2.e2ap_messages import CauseGroup, E2apMessage
from xapp.e2.e2ap_procedures import from_pdu_tree, to_pdu_tree
from xapp.errors import EncodeError

__all__ = ["MAX_PDU_BYTES", "E2apDecodeError", "cause_names", "decode", "encode"]

MAX_PDU_BYTES = ASN1CodecPER.DEC_MAXL
"""The largest PDU (1 MiB) the codec encodes or decodes. pycrate's decoder refuses any
length above this (``DEC_MAXL``), so encode refuses to produce what decode cannot read,
and decode refuses longer input before parsing, which bounds its time and memory."""

_PDU = E2AP.E2AP_PDU_Descriptions.E2AP_PDU

# What pycrate may raise on malformed input besides its own error family: its internals
# use assert and index/convert freely, so bad lengths can surface as built-in errors.
_DECODER_FAILURES = (
    PycrateErr,
    AssertionError,
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    AttributeError,
    OverflowError,
    RecursionError,
)


def encode(message: E2apMessage) -> bytes:
    """The APER bytes of the E2AP-PDU that carries ``message``.

    Raises:
        EncodeError: a value is out of its ASN.1 range or size, a cause name does not
            exist in its group, the PDU would exceed :data:`MAX_PDU_BYTES`, or ``message``
            is not an E2AP message dataclass.
    """
    try:
        tree = to_pdu_tree(message)
    except (ValueError, TypeError, AttributeError) as err:
        # Enum conversions of wrong names and wrongly typed fields.
        raise EncodeError(f"{type(message).__name__}: {err}") from err
    with PYCRATE_LOCK:
        depth = len(ASN1CodecPER._off)
        try:
            _PDU.set_val(tree)
            data = bytes(_PDU.to_aper())
        except (PycrateErr, ValueError, TypeError) as err:
            raise EncodeError(f"{type(message).__name__}: {err}") from err
        finally:
            _restore_offsets(depth)
    if len(data) > MAX_PDU_BYTES:
        raise EncodeError(f"{type(message).__name__} is {len(data)} bytes > {MAX_PDU_BYTES}")
    return data


def decode(data: bytes | bytearray | memoryview) -> E2apMessage:
    """The message carried by the E2AP-PDU in ``data``.

    Raises:
        E2apDecodeError: ``data`` is over :data:`MAX_PDU_BYTES`, is not APER for
            E2AP-PDU, carries a procedure this codec does not handle, or lacks a
            mandatory IE (see the class for the reason codes).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise E2apDecodeError("bad_value", f"expected bytes, got {type(data).__name__}")
    size = data.nbytes if isinstance(data, memoryview) else len(data)
    if size > MAX_PDU_BYTES:
        raise E2apDecodeError("too_large", f"{size} bytes > {MAX_PDU_BYTES}")
    if size == 0:
        raise E2apDecodeError("aper", "empty input")
    with PYCRATE_LOCK:
        tree = _parse(bytes(data))
        # The tree is converted while still locked: it shares objects with the singleton.
        try:
            return from_pdu_tree(tree)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
            # A shape the readers did not foresee: still bad input, never a crash.
            raise E2apDecodeError("bad_value", f"{type(err).__name__}: {err}"[:200]) from None


def _parse(data: bytes) -> Tree:
    """The E2AP-PDU value tree of ``data``; the whole input must be one PDU."""
    depth = len(ASN1CodecPER._off)
    buffer = Charpy(data)
    try:
        _PDU.from_aper(buffer)
        tree = _PDU.get_val()
    except _DECODER_FAILURES as err:
        raise E2apDecodeError("aper", f"{type(err).__name__}: {err}"[:200]) from None
    finally:
        _restore_offsets(depth)
    trailing = buffer.len_bit() // 8
    if trailing:
        raise E2apDecodeError("aper", f"{trailing} bytes after the end of the PDU")
    return tree


def _restore_offsets(depth: int) -> None:
    # pycrate keeps a process-wide stack of bit offsets and pops it only on success: a
    # failed decode would leave entries behind and grow it without bound.
    del ASN1CodecPER._off[depth:]


def cause_names(group: CauseGroup) -> tuple[str, ...]:
    """The value names the E2AP ASN.1 defines for a cause group, in ASN.1 order."""
    choice = E2AP.E2AP_IEs.Cause._cont[CauseGroup(group).value]
    return tuple(choice._cont.keys())
