"""KPM decoding in a worker process: same values and same refusals as decoding inline, a
bound on what waits, and through the running xApp the values still reach the windows."""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool

import pytest

from tests.xapp.harness import MEID, world
from tests.xapp.test_ingest import csi_msg, kpm_msg
from xapp.errors import MalformedInput
from xapp.ingest.decode import IngestError, decode_kpm, decode_ric_indication
from xapp.ingest.kpm_worker import MAX_RESTARTS, KpmWorker
from xapp.ingest.windows import UeKey


async def test_the_worker_gives_the_values_inline_decoding_gives() -> None:
    payload = kpm_msg(5).payload
    worker = KpmWorker()
    try:
        assert await worker.decode(payload) == decode_kpm(decode_ric_indication(payload))
        assert worker.pending == 0
    finally:
        worker.close()


@pytest.mark.parametrize("payload", [b"\x00garbage\xff" * 3, csi_msg(1).payload])
async def test_a_refused_payload_raises_what_inline_decoding_raises(payload: bytes) -> None:
    with pytest.raises(MalformedInput) as inline:
        decode_kpm(decode_ric_indication(payload))
    worker = KpmWorker()
    try:
        with pytest.raises(MalformedInput) as remote:
            await worker.decode(payload)
    finally:
        worker.close()
    assert type(remote.value) is type(inline.value)
    assert (remote.value.source, remote.value.reason) == (inline.value.source,
                                                          inline.value.reason)


async def test_kpm_beyond_the_pending_bound_is_refused_not_queued() -> None:
    worker = KpmWorker(max_pending=0)
    with pytest.raises(IngestError) as refused:
        await worker.decode(kpm_msg(1).payload)
    assert refused.value.reason == "kpm_backlog"
    worker.close()


async def test_kpm_decoded_off_the_loop_reaches_the_ues_window() -> None:
    async with world(kpm_in_process=True) as w:
        assert w.app.kpm_worker is not None
        await w.app.start()
        ue = UeKey(MEID, 1000)

        def kpm_seen() -> bool:
            if ue not in w.app.store:
                return False
            _, known = w.app.store.windows([ue])["kpm.DRB.UEThpDl"]
            return bool(known.all())

        await w.wait_for(kpm_seen, "a KPM value in UE 1000's window", timeout=30.0)
        assert w.app.kpm_worker.decoded >= 1 and w.app.bad.total == 0


async def test_a_worker_that_keeps_dying_gives_way_to_inline_decoding(
        monkeypatch: pytest.MonkeyPatch) -> None:
    class DeadPool:  # what a process pool whose worker cannot run does
        def submit(self, *args: object, **kwargs: object) -> None:
            raise BrokenProcessPool("worker died")

        def shutdown(self, *args: object, **kwargs: object) -> None:
            pass

    started: list[DeadPool] = []

    def executor() -> DeadPool:
        started.append(DeadPool())
        return started[-1]

    worker = KpmWorker()
    monkeypatch.setattr(worker, "_executor", executor)
    payload = kpm_msg(2).payload
    for _ in range(MAX_RESTARTS + 2):
        assert await worker.decode(payload) == decode_kpm(decode_ric_indication(payload))
    assert worker.broken == MAX_RESTARTS and len(started) == MAX_RESTARTS
