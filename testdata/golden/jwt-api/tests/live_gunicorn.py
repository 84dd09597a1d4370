"""Run the project's gunicorn.conf.py for real, for the tests that need the
production server itself: its worker processes, their recycling, their memory."""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "gunicorn.conf.py"
HOST = "localhost"
START_SECONDS = 30
# Headers a TLS proxy in front would add: the app trusts one proxy here.
BEHIND_A_PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.10"}


def production_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The test environment turned into production's, with throw-away secrets,
    behind one trusted proxy that speaks HTTPS to clients."""
    production = {
        **environ,
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "TRUSTED_HOSTS": HOST,
        "FORWARDED_PROXIES": "1",
    }
    # The test servers may sit on another host of a private CI network.
    production["BACKEND_TLS"] = "private-network"
    production["ENCRYPTION_KEYS"] = secrets.token_hex(32)
    production["JWT_SECRET_KEY"] = secrets.token_hex(32)
    production["CLIENT_APP_URL"] = "https://app.example.com"
    return production


@contextmanager
def listening_socket() -> Iterator[socket.socket]:
    """A socket listening on a free loopback port, for gunicorn to take over
    (GUNICORN_BIND=fd://N, pass_fds). The port is held from the start: with a
    port only probed free, another server (a second test run at the same
    time) could bind it first and answer in the test's server's place."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listener.set_inheritable(True)
        yield listener


def listening(port: int) -> bool:
    """Whether a server listens on 127.0.0.1:port. A client dialling a free
    port in the ephemeral range can be given that very port as its own source
    port and connect to itself (a TCP self-connect): it would read back its
    own request, and hold the port the server is about to bind."""
    with socket.socket() as probe:
        probe.settimeout(1)
        try:
            probe.connect(("127.0.0.1", port))
        except OSError:
            return False
        return probe.getsockname() != probe.getpeername()


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


class Server:
    def __init__(self, process: subprocess.Popen, port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """One request on a new connection, so requests spread over the workers."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(
                method,
                path,
                body=body,
                headers={"Host": HOST, "Connection": "close", **(headers or {})},
            )
            response = connection.getresponse()
            return Answer(response.status, response.headers, response.read())
        finally:
            connection.close()

    def worker_pids(self) -> set[int]:
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return {int(child) for child in children.split()}

    def peak_memory_mib(self) -> dict[int, float]:
        """The most resident memory each process (master and workers) has used."""
        peaks = {}
        for pid in {self.process.pid, *self.worker_pids()}:
            status = Path(f"/proc/{pid}/status").read_text()
            line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
            peaks[pid] = int(line.split()[1]) / 1024  # reported in kB
        return peaks

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _wait_until_serving(server: Server) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError("gunicorn exited:\n" + server.output())
        try:
            if listening(server.port) and server.request("GET", "/healthz").status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.1)
    raise AssertionError("gunicorn did not answer /healthz:\n" + server.output())


@contextmanager
def gunicorn(environ: Mapping[str, str], workdir: Path, app: str | None = None) -> Iterator[Server]:
    """Start gunicorn with the project's config in ``workdir`` (also its TMPDIR),
    with exactly ``environ`` plus PATH, and stop it and its workers afterwards.
    ``app`` replaces the config's wsgi_app (a module in ``workdir``)."""
    with listening_socket() as listener:
        port = listener.getsockname()[1]
        env = {
            "PATH": os.environ.get("PATH", ""),
            "TMPDIR": str(workdir),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(workdir)]),
            **environ,
            "GUNICORN_BIND": f"fd://{listener.fileno()}",
        }
        log = workdir / "gunicorn.log"
        command = [sys.executable, "-m", "gunicorn", "--config", str(CONF), *([app] if app else [])]
        with log.open("wb") as output:
            # A fixed argument list, no shell: nothing here comes from outside the test.
            process = subprocess.Popen(  # noqa: S603
                command,
                cwd=workdir,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                pass_fds=(listener.fileno(),),
            )
    server = Server(process, port, log)
    try:
        _wait_until_serving(server)
        yield server
    finally:
        # SIGINT: gunicorn's quick shutdown, workers included.
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
