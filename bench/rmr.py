"""``linkfm bench rmr``: the pure-Python RMR backend on loopback, and the SI95 frame codec.

Figures: frame encode/decode rates, one-way throughput (messages/s, payload MB/s) for
100 B and 4 KiB payloads, and call/reply round-trip latency (p50/p99). Both endpoints
run in this process on one asyncio event loop, so the throughput is what a single
core sustains for sender and receiver together.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from bench._timing import machine, percentiles, rate
from xapp.rmr.frame import FrameDecoder, decode_frame, encode_frame
from xapp.rmr.message import RmrMessage, new_xid
from xapp.rmr.mtypes import MessageType
from xapp.rmr.settings import RmrSettings
from xapp.rmr.si95 import Si95Transport

REC = MessageType.LINKFM_RECOMMENDATION
ACK = MessageType.LINKFM_RECOMMENDATION_ACK
PAYLOAD_SIZES = (100, 4096)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--messages",
        type=int,
        default=0,
        help="messages per throughput run (default 50000, 5000 with --quick)",
    )
    parser.add_argument(
        "--calls",
        type=int,
        default=0,
        help="call/reply round trips (default 5000, 1000 with --quick)",
    )


def _codec_rates(payload_size: int, seconds: float) -> dict[str, Any]:
    msg = RmrMessage(
        REC,
        bytes(payload_size),
        sub_id=7,
        meid="gnb_001_001_00000001",
        xid=new_xid(),
        src="linkfm:4560",
        srcip="10.0.0.1:4560",
    )
    frame = encode_frame(msg)
    stream = frame * 1000
    streamed = rate(lambda: FrameDecoder().feed(stream), seconds)
    return {
        "frame_bytes": len(frame),
        "encode_per_s": rate(lambda: encode_frame(msg), seconds)["per_s"],
        "decode_per_s": rate(lambda: decode_frame(frame), seconds)["per_s"],
        "stream_decode_per_s": 1000 * streamed["per_s"],
    }


def _settings(port: int) -> RmrSettings:
    return RmrSettings(
        port=port, bind_if="127.0.0.1", src_id="127.0.0.1", ctl_port=None, async_conn=False
    )


async def _pair() -> tuple[Si95Transport, Si95Transport]:
    receiver = Si95Transport(_settings(0))
    await receiver.start()
    sender = Si95Transport(_settings(0))
    await sender.start()
    route = f"127.0.0.1:{receiver.port}"
    sender.load_routes(f"newrt|start\nmse|{REC}|-1|{route}\nnewrt|end\n")
    receiver.load_routes(f"newrt|start\nmse|{ACK}|-1|127.0.0.1:{sender.port}\nnewrt|end\n")
    return sender, receiver


async def _throughput(payload_size: int, count: int) -> dict[str, float]:
    sender, receiver = await _pair()
    try:
        payload = bytes(payload_size)
        await sender.send(RmrMessage(REC, payload))  # connect before timing
        await receiver.receive()

        async def drain() -> None:
            for _ in range(count):
                await receiver.receive()

        start = time.perf_counter()
        receiving = asyncio.create_task(drain())
        for _ in range(count):
            await sender.send(RmrMessage(REC, payload))
        await receiving
        elapsed = time.perf_counter() - start
        return {
            "messages": count,
            "msgs_per_s": count / elapsed,
            "payload_MB_per_s": count * payload_size / elapsed / 1e6,
        }
    finally:
        await sender.close()
        await receiver.close()


async def _call_latency(count: int) -> dict[str, float]:
    caller, responder = await _pair()

    async def answer() -> None:
        async for msg in responder:
            await responder.rts(msg, ACK, msg.payload)

    answering = asyncio.create_task(answer())
    try:
        await caller.call(RmrMessage(REC, b"warm-up"), timeout=5)
        samples: list[float] = []
        for _ in range(count):
            start = time.perf_counter()
            await caller.call(RmrMessage(REC, bytes(100)), timeout=5)
            samples.append(time.perf_counter() - start)
        return {"calls": count, **percentiles(samples)}
    finally:
        await caller.close()
        await responder.close()
        answering.cancel()


def run(args: argparse.Namespace) -> dict[str, Any]:
    messages = args.messages or (5_000 if args.quick else 50_000)
    calls = args.calls or (1_000 if args.quick else 5_000)
    seconds = 0.3 if args.quick else 1.5
    return {
        "benchmark": "rmr",
        "backend": "si95 (pure Python, asyncio, loopback TCP, one event loop)",
        "machine": machine(),
        "frame_codec": {f"{n}B": _codec_rates(n, seconds) for n in PAYLOAD_SIZES},
        "throughput": {f"{n}B": asyncio.run(_throughput(n, messages)) for n in PAYLOAD_SIZES},
        "call_round_trip_100B": asyncio.run(_call_latency(calls)),
    }
