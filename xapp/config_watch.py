"""Hot reload of the controls when the mounted ``config-file.json`` changes.

Kubernetes updates a ConfigMap volume by writing a new timestamped folder
(``..2026_01_01_...``) and renaming a ``..data_tmp`` symlink over ``..data``; the file
the xApp opens (``config-file.json -> ..data/config-file.json``) never changes inode
itself. So the watcher watches the file's DIRECTORY (inotify through ``inotify_simple``
when it is installed) and, on any event and on every poll tick anyway, compares the
fingerprint (inode, mtime, size) of the fully resolved path. A changed file is re-read;
valid new controls that differ from the current ones go to the callback; an invalid file
keeps the current controls and is counted and logged.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from xapp.config import ConfigError, Controls, read_controls

log = logging.getLogger(__name__)

_inotify: ModuleType | None
try:
    import inotify_simple
except ImportError:  # pragma: no cover - depends on the installed extras
    _inotify = None
else:
    _inotify = inotify_simple

Fingerprint = tuple[str, int, int, int] | None


def _fingerprint(path: Path) -> Fingerprint:
    """(resolved path, inode, mtime ns, size) of what ``path`` points at; None if absent."""
    try:
        resolved = os.path.realpath(path)
        stat = os.stat(resolved)
    except OSError:
        return None
    return resolved, stat.st_ino, stat.st_mtime_ns, stat.st_size


class ConfigWatcher:
    """Calls ``on_change(controls)`` whenever the config file holds new, valid controls.

    Args:
        path: the config file (``CONFIG_FILE``), usually a symlink into ``..data``.
        current: the controls in force now (what the xApp started with).
        on_change: called with the new :class:`Controls`, from the watcher thread when
            started with :meth:`start`, or from the caller of :meth:`check`. An asyncio
            program hands it on with ``loop.call_soon_threadsafe``.
        poll_interval_s: how often the file is checked even without an inotify event.
        use_inotify: False forces polling; None uses inotify when it is available.

    Attributes:
        reloads: new controls delivered so far.
        rejected: changed files refused (unreadable, bad JSON, invalid controls).
        last_error: the latest refusal, or None.
    """

    def __init__(self, path: Path, current: Controls, on_change: Callable[[Controls], None],
                 *, poll_interval_s: float = 1.0, use_inotify: bool | None = None) -> None:
        self.path = Path(path)
        self.controls = current
        self._on_change = on_change
        self._poll_interval_s = poll_interval_s
        self._use_inotify = _inotify is not None if use_inotify is None else use_inotify
        if self._use_inotify and _inotify is None:
            raise RuntimeError("inotify_simple is not installed; pass use_inotify=False")
        self._seen = _fingerprint(self.path)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reloads = 0
        self.rejected = 0
        self.last_error: ConfigError | None = None

    @property
    def uses_inotify(self) -> bool:
        return self._use_inotify

    def check(self) -> bool:
        """Look at the file once; True when new controls were delivered."""
        with self._lock:
            seen = _fingerprint(self.path)
            if seen == self._seen:
                return False
            self._seen = seen
            if seen is None:
                # Mid-swap or deleted: keep the current controls; a later change re-reads.
                return False
            try:
                controls = read_controls(self.path)
            except ConfigError as exc:
                self.rejected += 1
                self.last_error = exc
                log.error("config reload refused, keeping the current controls: %s", exc)
                return False
            if controls == self.controls:
                return False
            self.controls = controls
            self.reloads += 1
        log.info("config reloaded from %s", self.path)
        self._on_change(controls)
        return True

    def start(self) -> None:
        """Watch in a daemon thread until :meth:`stop`."""
        if self._thread is not None:
            raise RuntimeError("the watcher is already running")
        self._stop.clear()
        target = self._watch_inotify if self._use_inotify else self._watch_polling
        self._thread = threading.Thread(target=target, name="config-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching and wait for the thread (at most one poll interval)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _safe_check(self) -> None:
        try:
            self.check()
        except Exception:  # the callback's failure must not end hot reload
            log.exception("config reload callback failed")

    def _watch_polling(self) -> None:
        while not self._stop.wait(self._poll_interval_s):
            self._safe_check()

    def _watch_inotify(self) -> None:
        assert _inotify is not None
        flags = _inotify.flags
        mask = (flags.CREATE | flags.DELETE | flags.MODIFY | flags.CLOSE_WRITE
                | flags.MOVED_TO | flags.MOVED_FROM | flags.ATTRIB)
        timeout_ms = max(1, int(self._poll_interval_s * 1000))
        with _inotify.INotify() as notifier:
            notifier.add_watch(str(self.path.parent), mask)
            while not self._stop.is_set():
                notifier.read(timeout=timeout_ms)
                # Checked on events and on every timeout: a missed event costs one tick.
                self._safe_check()
