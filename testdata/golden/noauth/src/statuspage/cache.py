"""The application cache: JSON values under this project's key prefix, on
Redis (or, in development without a server, in this process).

Use it through ``get_cache()`` inside a request or app context::

    get_cache().set("exchange-rates", rates, ttl=300)

Values are JSON, never pickle: whoever can write to the cache server must not
be able to make the application run code.
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

from flask import current_app

from .about import PROJECT_NAME

KEY_PREFIX = f"{PROJECT_NAME}:cache:"
# memcached keys are at most 250 bytes without spaces or control characters;
# the same rule on every backend keeps the code portable between them.
_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,200}")


def _full_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError(f"cache keys are 1-200 characters of A-Z a-z 0-9 _ . : -; got {key!r}")
    return KEY_PREFIX + key


def _encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _decode(raw: bytes | str | None) -> Any:
    return None if raw is None else json.loads(raw)


class RedisCache:
    def __init__(self, client) -> None:
        self._client = client

    def get(self, key: str) -> Any:
        return _decode(self._client.get(_full_key(key)))

    def set(self, key: str, value: Any, ttl: int) -> None:
        self._client.set(_full_key(key), _encode(value), ex=ttl)

    def delete(self, key: str) -> None:
        self._client.delete(_full_key(key))


class LocalCache:
    """Per-process stand-in for development and tests without a server."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        full = _full_key(key)
        with self._lock:
            expires, raw = self._items.get(full, (0.0, None))
            if raw is not None and expires <= time.monotonic():
                del self._items[full]
                raw = None
        return _decode(raw)

    def set(self, key: str, value: Any, ttl: int) -> None:
        raw = _encode(value)
        with self._lock:
            self._items[_full_key(key)] = (time.monotonic() + ttl, raw)

    def delete(self, key: str) -> None:
        with self._lock:
            self._items.pop(_full_key(key), None)


def get_cache() -> RedisCache | LocalCache:
    return current_app.extensions["cache"]
