"""The production server's settings bound requests and trust no forwarding headers."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"


@pytest.fixture
def conf(monkeypatch):
    for name in list(os.environ):
        if name.startswith("GUNICORN_"):
            monkeypatch.delenv(name)
    return runpy.run_path(str(CONF))


def test_request_sizes_are_bounded(conf):
    assert conf["limit_request_line"] <= 8190
    assert conf["limit_request_fields"] <= 100
    assert conf["limit_request_field_size"] <= 8190


def test_timeouts_are_bounded(conf):
    assert 0 < conf["timeout"] <= 60
    assert 0 < conf["graceful_timeout"] <= 60
    assert conf["keepalive"] <= 10


def test_forwarding_headers_are_left_to_the_app(conf):
    # An empty list: gunicorn trusts no proxy; ProxyFix with FORWARDED_PROXIES does.
    assert conf["forwarded_allow_ips"] == ""


def test_workers_are_recycled(conf):
    assert conf["max_requests"] > 0


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("GUNICORN_BIND", "127.0.0.1:9000")
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    monkeypatch.setenv("GUNICORN_MAX_REQUESTS", "50")
    conf = runpy.run_path(str(CONF))
    assert conf["bind"] == "127.0.0.1:9000"
    assert conf["workers"] == 3
    assert (conf["max_requests"], conf["max_requests_jitter"]) == (50, 5)


def test_gunicorn_accepts_the_config_and_loads_the_app(tmp_path, environ):
    env = {
        **os.environ,
        **environ,
        "APP_ENV": "development",
        "PYTHONPATH": str(CONF.parent / "src"),
    }
    # A fixed argument list, no shell: nothing here comes from outside the test.
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "--check-config", "--config", str(CONF)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_app_is_loaded_once_before_workers_fork(conf):
    # A recycled worker is a fork of a loaded app, not a fresh import; the
    # database connections a worker inherits are dropped (test_fork_safety).
    assert conf["preload_app"] is True
