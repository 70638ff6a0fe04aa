"""Encoding and decoding from many threads at once gives every thread its own right answer.

pycrate's types are process-wide singletons; without the codec's lock, one thread's
set_val/from_aper would overwrite another's value between its calls.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from tests.e2.e2ap_strategies import samples
from xapp.e2 import E2apMessage, decode, encode

ROUNDS = 150


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Make the interpreter switch threads far more often, so races show up quickly."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


@pytest.mark.usefixtures("frequent_thread_switches")
def test_concurrent_encode_and_decode_of_different_messages_are_all_correct() -> None:
    messages = samples()  # one message of each type: every thread works on a different one
    expected_wire = [encode(message) for message in messages]
    start = threading.Barrier(len(messages))
    failures: list[str] = []

    def work(index: int, message: E2apMessage) -> None:
        start.wait()
        for round_ in range(ROUNDS):
            try:
                wire = encode(message)
                decoded = decode(wire)
            except Exception as err:  # any error is a failure of this test, not of the thread
                failures.append(f"{type(message).__name__} round {round_}: {err!r}")
                return
            if wire != expected_wire[index] or decoded != message:
                failures.append(f"{type(message).__name__} round {round_}: wrong result")
                return

    threads = [
        threading.Thread(target=work, args=(index, message))
        for index, message in enumerate(messages)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
