"""The app cache stores JSON under the project's prefix, on redis when configured."""

import os

import pytest

from orders_api import cache as cache_module
from orders_api.cache import (
    KEY_PREFIX,
    LocalCache,
    RedisCache,
    get_cache,
)

SERVER_SETTING = "REDIS_URL"


def test_values_round_trip(app):
    with app.app_context():
        cache = get_cache()
        cache.set("greeting", {"text": "hello", "n": [1, 2]}, ttl=60)
        assert cache.get("greeting") == {"text": "hello", "n": [1, 2]}
        cache.delete("greeting")
        assert cache.get("greeting") is None


def test_missing_key_is_none(app):
    with app.app_context():
        assert get_cache().get("never-set") is None


def test_the_configured_server_is_used(app):
    with app.app_context():
        cache = get_cache()
        if os.environ.get(SERVER_SETTING):
            assert isinstance(cache, RedisCache)
            cache.set("stored-as-json", {"a": 1}, ttl=60)
            raw = app.extensions["redis"].get(KEY_PREFIX + "stored-as-json")
            assert raw == b'{"a":1}'
            cache.delete("stored-as-json")
        else:
            assert isinstance(cache, LocalCache)


def test_only_json_values_are_stored(app):
    # No pickle: a value that is not JSON is refused rather than serialized as code.
    with app.app_context(), pytest.raises(TypeError):
        get_cache().set("object", object(), ttl=60)


@pytest.mark.parametrize("key", ["", "has space", "new\nline", "x" * 201, "ключ"])
def test_unsafe_keys_are_refused(app, key):
    with app.app_context(), pytest.raises(ValueError, match="cache keys"):
        get_cache().get(key)


def test_local_cache_entries_expire(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: now[0])
    cache = LocalCache()
    cache.set("short", "lived", ttl=10)
    now[0] += 9
    assert cache.get("short") == "lived"
    now[0] += 2
    assert cache.get("short") is None


def test_sessions_and_rate_limits_use_the_server_when_configured(app):
    if os.environ.get(SERVER_SETTING):
        assert app.config["SESSION_TYPE"] == "redis"
        assert app.config["RATELIMIT_STORAGE_URI"].startswith("redis://")
    else:
        # Development without a server: nothing shared, and the README says so.
        assert "SESSION_TYPE" not in app.config
        assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
