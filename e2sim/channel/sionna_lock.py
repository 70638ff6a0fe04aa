"""Where Sionna's random draws come from: the process-wide seed, or a generator per draw.

Sionna's blocks draw from ``sionna.phy.config.torch_rng``, one generator per process, read
through the ``torch_rng`` property of every Sionna object. Two ways to make a drop's draws
depend on the drop alone:

- ``SIONNA_SEED_LOCK``: reseed the process-wide generator and draw while holding the lock,
  so that drops in other threads cannot reseed under the draw. Used once per drop, at
  creation (the UE drop of Sionna's topology helpers reads the global generator directly).
- `own_generator`: give every Sionna object of one model its own ``torch.Generator`` for
  the duration of a draw. Nothing process-wide is read or written, so draws of different
  drops run in parallel threads (torch releases the GIL inside its kernels) and every
  draw depends only on the generator it was given. The hook is a replacement of the
  ``torch_rng`` property of ``sionna.phy.object.Object`` that prefers a generator set on
  the object and otherwise returns exactly what Sionna returns; the package is pinned
  (sionna-no-rt==2.2.0) and tests/e2sim/test_channel_threads.py checks that a draw does
  not change when the process-wide seed and torch's default generator are reseeded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from sionna.phy.config import config
from sionna.phy.object import Object

SIONNA_SEED_LOCK = threading.RLock()

_OWN_RNG = "_e2sim_torch_rng"


def _torch_rng(self: Object) -> torch.Generator:
    own: torch.Generator | None = self.__dict__.get(_OWN_RNG)
    return own if own is not None else config.torch_rng(self.device)


Object.torch_rng = property(_torch_rng)


def _sionna_objects(root: Object) -> Iterator[Object]:
    """``root`` and every Sionna object it holds (as a submodule or a plain attribute)."""
    seen: set[int] = set()
    stack: list[Object] = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        yield obj
        stack.extend(m for m in obj.children() if isinstance(m, Object))
        stack.extend(v for v in vars(obj).values() if isinstance(v, Object))


@contextmanager
def own_generator(model: Object, generator: torch.Generator) -> Iterator[None]:
    """Within the block, every Sionna object of ``model`` draws from ``generator``.

    One draw per model at a time: the generator is set on the model's objects, so two
    threads must not use the same model concurrently (each drop owns its model).
    """
    objects = list(_sionna_objects(model))
    for obj in objects:
        obj.__dict__[_OWN_RNG] = generator
    try:
        yield
    finally:
        for obj in objects:
            obj.__dict__.pop(_OWN_RNG, None)
