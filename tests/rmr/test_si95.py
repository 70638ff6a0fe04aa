"""Behaviour specific to the pure-Python SI95 backend (counters, connections, fallbacks)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.rmr.endpoints import addr, run, settings_for, start_peer, table, take
from tests.rmr.golden import golden_frame
from xapp.rmr.frame import FrameDecoder, encode_frame
from xapp.rmr.message import RmrMessage
from xapp.rmr.mtypes import MessageType
from xapp.rmr.si95 import Si95Transport
from xapp.rmr.transport import RmrError, RmrSendFailed, RmrTransport

REC = MessageType.LINKFM_RECOMMENDATION


def test_is_an_rmr_transport() -> None:
    assert isinstance(Si95Transport(settings_for(Path("."), free_port(), None)), RmrTransport)


def test_a_port_already_listened_on_fails_loudly_instead_of_being_shared(tmp_path: Path) -> None:
    async def scenario() -> None:
        port = free_port()
        first = await start_peer(settings_for(tmp_path, port, table()))
        try:
            with pytest.raises(OSError):
                await Si95Transport(settings_for(tmp_path, port, table())).start()
        finally:
            await first.close()

    run(scenario())


def test_port_zero_listens_on_a_port_chosen_by_the_system_and_names_it_in_src(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        endpoint = await start_peer(settings_for(tmp_path, 0, table()))
        try:
            assert endpoint.port != 0
            assert endpoint.source_name == addr(endpoint.port)
        finally:
            await endpoint.close()

    run(scenario())


def test_send_before_any_route_table_is_refused_as_not_ready(tmp_path: Path) -> None:
    async def scenario() -> None:
        endpoint = await start_peer(settings_for(tmp_path, free_port(), None))
        try:
            result = await endpoint.send(RmrMessage(REC))
            assert not result and result.reason == "not_ready"
            assert not endpoint.is_ready and endpoint.counters.dropped == 1
        finally:
            await endpoint.close()

    run(scenario())


def test_send_of_an_unrouted_mtype_is_refused_as_no_route(tmp_path: Path) -> None:
    async def scenario() -> None:
        endpoint = await start_peer(settings_for(tmp_path, free_port(), table()))
        try:
            result = await endpoint.send(RmrMessage(REC))
            assert not result and result.reason == "no_route"
        finally:
            await endpoint.close()

    run(scenario())


def test_call_without_a_route_fails_at_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        endpoint = await start_peer(settings_for(tmp_path, free_port(), table()))
        try:
            with pytest.raises(RmrSendFailed, match="no_route"):
                await endpoint.call(RmrMessage(REC), timeout=30)
        finally:
            await endpoint.close()

    run(scenario())


def test_load_routes_activates_a_table_at_its_end_line(tmp_path: Path) -> None:
    async def scenario() -> None:
        endpoint = await start_peer(settings_for(tmp_path, free_port(), None))
        try:
            assert endpoint.load_routes("newrt|start\nmse|1|-1|127.0.0.1:9\n") is False
            assert not endpoint.is_ready
            assert endpoint.load_routes("newrt|end\n") is True
            assert endpoint.is_ready
        finally:
            await endpoint.close()

    run(scenario())


def test_multicast_groups_each_receive_a_copy(tmp_path: Path) -> None:
    async def scenario() -> None:
        a_port, b_port = free_port(), free_port()
        a = await start_peer(settings_for(tmp_path, a_port, table()))
        b = await start_peer(settings_for(tmp_path, b_port, table()))
        sender = await start_peer(
            settings_for(
                tmp_path, free_port(), table(f"mse|{REC}|-1|{addr(a_port)};{addr(b_port)}")
            )
        )
        try:
            result = await sender.send(RmrMessage(REC, b"copy"))
            assert result.delivered == (addr(a_port), addr(b_port))
            assert (await a.receive()).payload == (await b.receive()).payload == b"copy"
        finally:
            for endpoint in (sender, a, b):
                await endpoint.close()

    run(scenario())


def test_async_connect_fails_the_first_send_then_delivers(tmp_path: Path) -> None:
    async def scenario() -> None:
        peer_port = free_port()
        peer = await start_peer(settings_for(tmp_path, peer_port, table()))
        sender = await start_peer(
            settings_for(
                tmp_path, free_port(), table(f"mse|{REC}|-1|{addr(peer_port)}"), async_conn=True
            )
        )
        try:
            first = await sender.send(RmrMessage(REC, b"1"))
            assert first.reason == "send_failed" and first.failed == (addr(peer_port),)
            while not await sender.send(RmrMessage(REC, b"2")):
                await asyncio.sleep(0.01)
            assert (await peer.receive()).payload == b"2"
        finally:
            await sender.close()
            await peer.close()

    run(scenario())


def test_sender_reconnects_after_the_peer_restarts(tmp_path: Path) -> None:
    async def scenario() -> None:
        peer_port = free_port()
        peer_settings = settings_for(tmp_path, peer_port, table())
        peer = await start_peer(peer_settings)
        sender = await start_peer(
            settings_for(tmp_path, free_port(), table(f"mse|{REC}|-1|{addr(peer_port)}"))
        )
        try:
            assert await sender.send(RmrMessage(REC, b"before"))
            await peer.receive()
            await peer.close()
            while await sender.send(RmrMessage(REC, b"lost")):  # until the loss is noticed
                await asyncio.sleep(0.01)
            peer = await start_peer(peer_settings)
            assert await sender.send(RmrMessage(REC, b"after"))
            assert (await peer.receive()).payload == b"after"
        finally:
            await sender.close()
            await peer.close()

    run(scenario())


def test_a_peer_that_stops_reading_fails_sends_after_the_send_timeout(tmp_path: Path) -> None:
    async def scenario() -> None:
        stalled: list[asyncio.StreamWriter] = []

        async def never_read(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            stalled.append(writer)

        port = free_port()
        server = await asyncio.start_server(never_read, "127.0.0.1", port)
        sender = await start_peer(
            settings_for(
                tmp_path, free_port(), table(f"mse|{REC}|-1|{addr(port)}"), send_timeout_s=0.2
            )
        )
        try:
            results = []
            for _ in range(5000):  # far more than loopback socket buffers hold
                results.append(await sender.send(RmrMessage(REC, bytes(64 * 1024))))
                if not results[-1]:
                    break
            assert not results[-1] and results[-1].reason == "send_failed"
            assert all(results[:-1])
        finally:
            await sender.close()
            for writer in stalled:
                writer.close()
            server.close()
            await server.wait_closed()

    run(scenario())


def test_rts_writes_back_on_the_inbound_connection_when_src_is_unreachable(tmp_path: Path) -> None:
    async def scenario() -> None:
        port = free_port()
        endpoint = await start_peer(settings_for(tmp_path, port, table()))
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            nobody = addr(free_port())
            writer.write(
                encode_frame(
                    RmrMessage(
                        MessageType.RIC_HEALTH_CHECK_REQ, src=nobody, srcip=nobody, call_id=1
                    )
                )
            )
            decoder = FrameDecoder()
            replies: list[RmrMessage] = []
            while not replies:
                replies = decoder.feed(await reader.read(4096))
            assert (replies[0].mtype, replies[0].payload) == (101, b"OK")
            writer.close()
        finally:
            await endpoint.close()

    run(scenario())


def test_frames_before_a_bad_frame_are_delivered_and_the_reason_counted(tmp_path: Path) -> None:
    async def scenario() -> None:
        port = free_port()
        endpoint = await start_peer(settings_for(tmp_path, port, table()))
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(encode_frame(RmrMessage(REC, b"good")) + golden_frame(REC, b"", version=7))
            assert (await endpoint.receive()).payload == b"good"
            while not endpoint.counters.bad_frames:
                await asyncio.sleep(0.01)
            assert endpoint.counters.bad_frames == {"bad_version": 1}
            writer.close()
        finally:
            await endpoint.close()

    run(scenario())


def test_peer_vanishing_mid_frame_is_counted_and_its_connection_released(tmp_path: Path) -> None:
    async def scenario() -> None:
        port = free_port()
        endpoint = await start_peer(settings_for(tmp_path, port, table()))
        try:
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(encode_frame(RmrMessage(REC, b"x" * 500))[:200])
                while endpoint.open_connections == 0:
                    await asyncio.sleep(0.01)
            while endpoint.open_connections:
                await asyncio.sleep(0.01)
            assert endpoint.counters.bad_frames == {"truncated": 1}
        finally:
            await endpoint.close()

    run(scenario())


def test_oversize_frame_closes_the_connection_without_reading_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        port = free_port()
        endpoint = await start_peer(settings_for(tmp_path, port, table(), max_frame_bytes=1024))
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(encode_frame(RmrMessage(REC, bytes(4096)))[:64])
            assert await reader.read(10) == b""  # closed by the endpoint
            assert endpoint.counters.bad_frames == {"oversize": 1}
            writer.close()
        finally:
            await endpoint.close()

    run(scenario())


def test_route_push_without_table_id_is_loaded_and_acked_like_librmr(tmp_path: Path) -> None:
    async def scenario() -> None:
        port, pusher_port = free_port(), free_port()
        endpoint = await start_peer(settings_for(tmp_path, port, None))
        pusher = await start_peer(
            settings_for(tmp_path, pusher_port, table(f"mse|20|-1|{addr(port)}"))
        )
        try:
            push = b"newrt|start\nnewrt|end\n\0"  # with the NUL a C sender may add
            await pusher.send(RmrMessage(MessageType.RMRRM_TABLE_DATA, push))
            ack = await pusher.receive()
            assert ack.payload == b"OK <id-missing> \n\0"
            assert endpoint.is_ready
        finally:
            await endpoint.close()
            await pusher.close()

    run(scenario())


def test_seed_file_loaded_at_start_makes_the_endpoint_ready(tmp_path: Path) -> None:
    async def scenario() -> None:
        endpoint = await start_peer(settings_for(tmp_path, free_port(), table("mse|1|-1|h:1")))
        try:
            assert endpoint.is_ready
        finally:
            await endpoint.close()

    run(scenario())


def test_missing_seed_file_leaves_the_endpoint_not_ready(tmp_path: Path) -> None:
    async def scenario() -> None:
        settings = settings_for(tmp_path, free_port(), None, seed_rt=tmp_path / "absent.rt")
        endpoint = await start_peer(settings)
        try:
            assert not endpoint.is_ready
        finally:
            await endpoint.close()

    run(scenario())


def test_route_manager_is_asked_for_a_table_with_mtype_21_at_start(tmp_path: Path) -> None:
    async def scenario() -> None:
        rtmgr_port = free_port()
        rtmgr = await start_peer(settings_for(tmp_path, rtmgr_port, table()))
        endpoint = await start_peer(
            settings_for(tmp_path, free_port(), None, rtg_svc=addr(rtmgr_port))
        )
        try:
            request = await rtmgr.receive()
            assert request.mtype == MessageType.RMRRM_REQ_TABLE
            assert request.src == endpoint.source_name
        finally:
            await endpoint.close()
            await rtmgr.close()

    run(scenario())


def test_close_ends_receiving_and_fails_pending_calls(tmp_path: Path) -> None:
    async def scenario() -> None:
        peer_port = free_port()
        peer = await start_peer(settings_for(tmp_path, peer_port, table()))
        endpoint = await start_peer(
            settings_for(tmp_path, free_port(), table(f"mse|{REC}|-1|{addr(peer_port)}"))
        )
        received = asyncio.create_task(_collect(endpoint))
        call = asyncio.create_task(endpoint.call(RmrMessage(REC), timeout=30))
        await peer.receive()  # the call request is out; no reply will come
        await endpoint.close()
        with pytest.raises(RmrError):
            await call
        assert await received == []
        with pytest.raises(RmrError):
            await endpoint.receive()
        await peer.close()

    run(scenario())


async def _collect(endpoint: Si95Transport) -> list[RmrMessage]:
    return [m async for m in endpoint]


def test_counters_snapshot_is_plain_data(tmp_path: Path) -> None:
    async def scenario() -> None:
        peer_port = free_port()
        peer = await start_peer(settings_for(tmp_path, peer_port, table()))
        endpoint = await start_peer(
            settings_for(tmp_path, free_port(), table(f"mse|{REC}|-1|{addr(peer_port)}"))
        )
        try:
            for _ in range(3):
                await endpoint.send(RmrMessage(REC))
            await take(peer, 3)
            assert endpoint.counters.snapshot()["sent"] == 3
            assert peer.counters.snapshot()["received"] == 3
        finally:
            await endpoint.close()
            await peer.close()

    run(scenario())
