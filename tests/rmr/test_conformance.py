"""Conformance of every available RMR backend, each against the pure-Python peer.

Real sockets on 127.0.0.1. The librmr variant runs only where librmr_si.so loads
(CI deselects the ``librmr`` marker; see .ci/run).
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from tests.conftest import free_port, require
from tests.rmr.endpoints import addr, run, settings_for, start, start_peer, table, take
from xapp.rmr.frame import encode_frame
from xapp.rmr.librmr import load_librmr
from xapp.rmr.message import RmrMessage
from xapp.rmr.mtypes import MessageType
from xapp.rmr.transport import RmrCallTimeout, RmrTransport

REC = MessageType.LINKFM_RECOMMENDATION
ACK = MessageType.LINKFM_RECOMMENDATION_ACK


@pytest.fixture(params=["si95", pytest.param("librmr", marks=pytest.mark.librmr)])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "librmr":
        require(load_librmr() is not None, "librmr_si.so (the RMR C library)")
    return str(request.param)


def test_endpoint_listens_on_its_data_port(backend: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        port = free_port()
        dut = await start(backend, settings_for(tmp_path, port, table()))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                assert sock.getpeername()[1] == port
        finally:
            await dut.close()

    run(scenario())


async def _pair(
    backend: str,
    tmp_path: Path,
    dut_routes: list[str],
    peer_routes: list[str],
    dut_port: int,
    peer_port: int,
) -> tuple[RmrTransport, RmrTransport]:
    peer = await start_peer(settings_for(tmp_path, peer_port, table(*peer_routes)))
    dut = await start(backend, settings_for(tmp_path, dut_port, table(*dut_routes)))
    return dut, peer


def test_ten_thousand_messages_arrive_complete_and_in_order(backend: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        dut_port, peer_port = free_port(), free_port()
        dut, peer = await _pair(
            backend, tmp_path, [f"mse|{REC}|-1|{addr(peer_port)}"], [], dut_port, peer_port
        )
        try:
            receiving = asyncio.create_task(take(peer, 10_000))
            for seq in range(10_000):
                assert await dut.send(RmrMessage(REC, seq.to_bytes(4, "big") + b"x" * 96))
            got = await receiving
            assert [int.from_bytes(m.payload[:4], "big") for m in got] == list(range(10_000))
        finally:
            await dut.close()
            await peer.close()

    run(scenario())


def test_ten_thousand_messages_are_received_complete_and_in_order(
    backend: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        dut_port, peer_port = free_port(), free_port()
        dut, peer = await _pair(
            backend, tmp_path, [], [f"mse|{REC}|-1|{addr(dut_port)}"], dut_port, peer_port
        )
        try:
            receiving = asyncio.create_task(take(dut, 10_000))
            for seq in range(10_000):
                assert await peer.send(RmrMessage(REC, seq.to_bytes(4, "big"), sub_id=seq))
            got = await receiving
            assert [m.sub_id for m in got] == list(range(10_000))
        finally:
            await dut.close()
            await peer.close()

    run(scenario())


def test_return_to_sender_reaches_the_sender_with_the_same_xid(
    backend: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        dut_port, peer_port = free_port(), free_port()
        dut, peer = await _pair(
            backend, tmp_path, [], [f"mse|12010|-1|{addr(dut_port)}"], dut_port, peer_port
        )
        try:
            xid = bytes(range(100, 132))
            await peer.send(RmrMessage(12010, b"sub-req", meid="gnb_1", xid=xid))
            request = await dut.receive()
            assert request.src == addr(peer_port)
            assert await dut.rts(request, 12011, b"sub-resp")
            reply = await peer.receive()
            assert (reply.mtype, reply.payload, reply.xid) == (12011, b"sub-resp", xid)
            assert reply.meid == "gnb_1"
            assert reply.src == addr(dut_port)
        finally:
            await dut.close()
            await peer.close()

    run(scenario())


async def _answer(peer: RmrTransport, count: int) -> None:
    for _ in range(count):
        msg = await peer.receive()
        await peer.rts(msg, ACK, b"ack:" + msg.payload)


def test_calls_get_their_own_replies_matched_on_the_xid(backend: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        dut_port, peer_port = free_port(), free_port()
        dut, peer = await _pair(
            backend, tmp_path, [f"mse|{REC}|-1|{addr(peer_port)}"], [], dut_port, peer_port
        )
        try:
            responder = asyncio.create_task(_answer(peer, 20))
            replies = await asyncio.gather(
                *(dut.call(RmrMessage(REC, b"%d" % i), timeout=10) for i in range(20))
            )
            assert [r.payload for r in replies] == [b"ack:%d" % i for i in range(20)]
            assert all(r.mtype == ACK for r in replies)
            await responder
        finally:
            await dut.close()
            await peer.close()

    run(scenario())


def test_call_without_a_reply_times_out(backend: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        dut_port, peer_port = free_port(), free_port()
        dut, peer = await _pair(
            backend, tmp_path, [f"mse|{REC}|-1|{addr(peer_port)}"], [], dut_port, peer_port
        )
        try:
            with pytest.raises(RmrCallTimeout):
                await dut.call(RmrMessage(REC, b"unanswered"), timeout=0.3)
        finally:
            await dut.close()
            await peer.close()

    run(scenario())


def test_health_check_is_answered_101_ok_and_not_delivered(backend: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        dut_port, peer_port = free_port(), free_port()
        health = MessageType.RIC_HEALTH_CHECK_REQ
        dut, peer = await _pair(
            backend,
            tmp_path,
            [],
            [f"mse|{health}|-1|{addr(dut_port)}", f"mse|{REC}|-1|{addr(dut_port)}"],
            dut_port,
            peer_port,
        )
        try:
            reply = await peer.call(RmrMessage(health, b""), timeout=10)
            assert (reply.mtype, reply.payload) == (MessageType.RIC_HEALTH_CHECK_RESP, b"OK")
            await peer.send(RmrMessage(REC, b"after"))
            assert (await dut.receive()).payload == b"after"  # the 100 never reached the app
        finally:
            await dut.close()
            await peer.close()

    run(scenario())


def test_route_table_pushed_as_mtype_20_is_loaded_and_acked_with_22(
    backend: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        dut_port, peer_port = free_port(), free_port()
        dut_settings = settings_for(tmp_path, dut_port, None)
        push = MessageType.RMRRM_TABLE_DATA
        peer = await start_peer(
            settings_for(
                tmp_path, peer_port, table(f"mse|{push}|-1|{addr(dut_settings.ctl_port or 0)}")
            )
        )
        dut = await start(backend, dut_settings)
        try:
            assert not dut.is_ready
            await peer.send(
                RmrMessage(
                    push, b"newrt|start|push-1\n" + f"mse|{REC}|-1|{addr(peer_port)}\n".encode()
                )
            )
            await peer.send(RmrMessage(push, b"newrt|end|1\n"))
            ack = await peer.receive()
            assert ack.mtype == MessageType.RMRRM_TABLE_STATE
            assert ack.payload.split()[:2] == [b"OK", b"push-1"]
            assert dut.is_ready
            assert await dut.send(RmrMessage(REC, b"routed by the pushed table"))
            assert (await peer.receive()).payload == b"routed by the pushed table"
        finally:
            await dut.close()
            await peer.close()

    run(scenario())


def test_route_table_reload_while_sending_switches_cleanly_without_loss(
    backend: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        dut_port, first_port, second_port = free_port(), free_port(), free_port()
        dut_settings = settings_for(tmp_path, dut_port, table(f"mse|{REC}|-1|{addr(first_port)}"))
        push = MessageType.RMRRM_TABLE_DATA
        first = await start_peer(
            settings_for(
                tmp_path, first_port, table(f"mse|{push}|-1|{addr(dut_settings.ctl_port or 0)}")
            )
        )
        second = await start_peer(settings_for(tmp_path, second_port, table()))
        dut = await start(backend, dut_settings)
        total = 3000
        try:
            for seq in range(total):
                assert await dut.send(RmrMessage(REC, seq.to_bytes(4, "big")))
                if seq == 1000:
                    await first.send(
                        RmrMessage(
                            push,
                            b"newrt|start|reload\n"
                            + f"mse|{REC}|-1|{addr(second_port)}\nnewrt|end\n".encode(),
                        )
                    )
                if seq % 100 == 0:
                    await asyncio.sleep(0.001)  # let the push be read while sending goes on
            got: dict[str, list[int]] = {"first": [], "second": []}

            async def collect(name: str, peer: RmrTransport) -> None:
                async for msg in peer:
                    if msg.mtype == REC:  # the first peer also gets the 22 ack
                        got[name].append(int.from_bytes(msg.payload, "big"))

            collectors = [
                asyncio.create_task(collect("first", first)),
                asyncio.create_task(collect("second", second)),
            ]
            while len(got["first"]) + len(got["second"]) < total:
                await asyncio.sleep(0.01)
            for collector in collectors:
                collector.cancel()
            assert got["first"] + got["second"] == list(range(total))
            assert got["second"], "the pushed table was never used"
        finally:
            for endpoint in (dut, first, second):
                await endpoint.close()

    run(scenario())


def test_peer_vanishing_mid_frame_leaves_the_endpoint_working(backend: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        dut_port, peer_port = free_port(), free_port()
        dut, peer = await _pair(
            backend, tmp_path, [], [f"mse|{REC}|-1|{addr(dut_port)}"], dut_port, peer_port
        )
        try:
            frame = encode_frame(RmrMessage(REC, b"half" * 100, src=addr(peer_port)))
            _, writer = await asyncio.open_connection("127.0.0.1", dut_port)
            writer.write(frame[: len(frame) // 2])
            await writer.drain()
            writer.close()
            await writer.wait_closed()
            await peer.send(RmrMessage(REC, b"whole"))
            assert (await dut.receive()).payload == b"whole"
        finally:
            await dut.close()
            await peer.close()

    run(scenario())
