"""Gunicorn's access log keeps query strings and referring URLs out: the
OpenID Connect callback's code and state never reach the logs."""

import http.client
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .live_gunicorn import listening, listening_socket

CONF = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"
SECRET_CODE = "code-that-must-not-be-logged"
SECRET_STATE = "state-that-must-not-be-logged"


def _get_until_served(port: int, url: str, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if listening(port):
                # A loopback URL the test made itself.
                urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5)  # noqa: S310  # nosec B310
                return
        except (OSError, http.client.HTTPException):
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing listened on 127.0.0.1:{port} within 30 s")
        time.sleep(0.2)


def test_the_access_log_holds_no_query_string_or_referer(tmp_path, environ):
    with listening_socket() as listener, (tmp_path / "gunicorn.log").open("w") as output:
        port = listener.getsockname()[1]
        env = {
            **os.environ,
            **environ,
            "APP_ENV": "development",
            "PYTHONPATH": str(CONF.parent / "src"),
            "GUNICORN_BIND": f"fd://{listener.fileno()}",
            "GUNICORN_WORKERS": "1",
        }
        # A fixed argument list, no shell: nothing here comes from outside the test.
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "--config", str(CONF)],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            pass_fds=(listener.fileno(),),
        )
        try:
            query = f"?code={SECRET_CODE}&state={SECRET_STATE}"
            _get_until_served(
                port,
                f"http://127.0.0.1:{port}/healthz{query}",
                {"Referer": f"https://localhost/auth/callback{query}"},
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    written = (tmp_path / "gunicorn.log").read_text()
    assert SECRET_CODE not in written
    assert SECRET_STATE not in written
    assert "GET /healthz HTTP/1.1" in written, written
