"""A cache of engine results, keyed by the warehouse's latest load and the model files.

Engine calls take seconds on the demo company; pages and the API ask for the same results again and
again. A result is kept until the warehouse's `loads` table or a `model/*.yaml` file changes:

- the **signature** is (number of loads, latest load id, latest finish time, superseded count) read from
  `loads`, plus the mtime of each model file. It is re-read only when the warehouse file (or its WAL)
  or a model file changed on disk, and the files are looked at no more than once per `recheck_seconds`
  (1 s), so an unchanged workspace costs almost nothing per request and a change shows within a second;
- a new signature empties the cache;
- concurrent requests for the same key wait for one computation (single flight) instead of all
  computing it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from ..runs.reads import loads_signature

MAX_ENTRIES = 512


class ResultCache:
    def __init__(self, ws, max_entries: int = MAX_ENTRIES, recheck_seconds: float = 1.0):
        self.ws = ws
        self.max_entries = max_entries
        self.recheck_seconds = recheck_seconds
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._inflight: dict[Hashable, threading.Lock] = {}
        self._stat: tuple | None = None
        self._signature: tuple | None = None
        self.hits = 0
        self.misses = 0

    # -- signature
    def _files(self) -> list[Path]:
        wh = self.ws.warehouse_path
        return [wh, wh.with_name(wh.name + ".wal"), *sorted(self.ws.model_dir.glob("*.yaml"))]

    def _stat_key(self) -> tuple:
        out: list[tuple[str, int | None, int | None]] = []
        for p in self._files():
            try:
                st = p.stat()
                out.append((p.name, st.st_mtime_ns, st.st_size))
            except FileNotFoundError:
                out.append((p.name, None, None))
        return tuple(out)

    def _read_signature(self, stat_key: tuple) -> tuple:
        models = tuple(k for k in stat_key if k[0].endswith(".yaml"))
        return (loads_signature(self.ws), models)

    def signature(self) -> tuple:
        """The current signature; cheap when nothing changed on disk."""
        now = time.monotonic()
        with self._lock:
            if self._signature is not None and now - self._checked_at < self.recheck_seconds:
                return self._signature
        stat_key = self._stat_key()
        with self._lock:
            if stat_key == self._stat and self._signature is not None:
                self._checked_at = now
                return self._signature
        sig = self._read_signature(stat_key)
        with self._lock:
            if sig != self._signature:
                self._entries.clear()
            self._stat, self._signature, self._checked_at = stat_key, sig, now
        return sig

    # -- values
    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The cached value of `key` for the current signature, computing it once if missing."""
        sig = self.signature()
        full = (sig, key)
        with self._lock:
            if full in self._entries:
                self._entries.move_to_end(full)
                self.hits += 1
                return self._entries[full]
            flight = self._inflight.setdefault(full, threading.Lock())
        with flight:
            with self._lock:
                if full in self._entries:
                    self.hits += 1
                    return self._entries[full]
            try:
                value = compute()  # an exception is not cached: the next request tries again
            except BaseException:
                with self._lock:
                    self._inflight.pop(full, None)
                raise
            with self._lock:
                self.misses += 1
                self._entries[full] = value
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
                self._inflight.pop(full, None)
            return value

    def holds(self, key: Hashable) -> bool:
        """Whether `key` has a value for the current signature."""
        full = (self.signature(), key)
        with self._lock:
            return full in self._entries

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._stat = self._signature = None
