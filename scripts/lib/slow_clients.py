"""Slow clients against the proxy in front of gunicorn, and against gunicorn itself.

Usage: slow_clients.py --cafile CERT [--host localhost] [--direct 127.0.0.1:8000]
                       [--body-path /auth/logout]

Opens CONNECTIONS connections that start a request and send one more header
line every two seconds (slowloris; with --body-path, a form the app reads, half of
them send whole headers to it and trickle the body instead), and while they
are open asks /healthz:
  1. through the proxy (https://HOST): it must answer within 2 s;
  2. straight at gunicorn (--direct): it must NOT answer within 3 s, which
     shows the slow clients are enough to stall gunicorn on its own (so the
     first check can fail), then answer again once they have gone.
Standard library only; prints one line per check, exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import http.client
import socket
import ssl
import sys
import threading
import time

CONNECTIONS = 24  # more than workers x threads (2 x 4), spread over both workers
TRICKLE_EVERY = 2.0
SETTLE = 0.5  # for the servers to take every connection in
FAILED: list[str] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")
    if not ok:
        FAILED.append(name)


class Trickle:
    """Connections that never finish their request, fed a line at a time."""

    def __init__(
        self, host: str, port: int, context: ssl.SSLContext | None, body_path: str | None
    ) -> None:
        self.body_path = body_path
        self.sockets: list[socket.socket] = []
        self.stop = threading.Event()
        for n in range(CONNECTIONS):
            sock = socket.create_connection((host, port), timeout=5)
            if context is not None:
                sock = context.wrap_socket(sock, server_hostname=host)
            if self.slow_body(n):
                # Headers complete, body announced and never finished.
                head = f"POST {self.body_path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 100000\r\n"
                head += "Content-Type: application/x-www-form-urlencoded\r\n\r\n"
            else:
                head = f"GET / HTTP/1.1\r\nHost: {host}\r\n"
            sock.sendall(head.encode())
            self.sockets.append(sock)
        self.thread = threading.Thread(target=self._feed, daemon=True)
        self.thread.start()

    def slow_body(self, n: int) -> bool:
        return self.body_path is not None and n % 2 == 1

    def _feed(self) -> None:
        while not self.stop.wait(TRICKLE_EVERY):
            for n, sock in enumerate(self.sockets):
                try:
                    sock.sendall(b"a=b&" if self.slow_body(n) else b"X-Slow: 1\r\n")
                except OSError:
                    pass  # the server gave up on it: what a deadline is for

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        for sock in self.sockets:
            sock.close()


def healthz(conn: http.client.HTTPConnection, host: str) -> tuple[int | None, float]:
    """Status of GET /healthz (None if no answer in the timeout) and seconds taken."""
    start = time.monotonic()
    try:
        conn.request("GET", "/healthz", headers={"Host": host})
        status: int | None = conn.getresponse().status
    except (TimeoutError, OSError):
        status = None
    finally:
        conn.close()
    return status, time.monotonic() - start


def through_proxy(host: str, context: ssl.SSLContext, body_path: str | None) -> None:
    slow = Trickle(host, 443, context, body_path)
    try:
        time.sleep(SETTLE)
        status, took = healthz(http.client.HTTPSConnection(host, 443, context=context, timeout=2), host)
        check(
            f"/healthz through the proxy answers with {CONNECTIONS} slow clients on it",
            status == 200,
            f"{status} in {took:.2f} s",
        )
    finally:
        slow.close()


def straight_at_gunicorn(host: str, port: int, public_host: str) -> None:
    # Headers only: enough to stall gunicorn, whatever the app reads. Which
    # worker accepts a connection is up to the kernel, so one worker may take
    # fewer than its threads' worth and still answer: add slow clients, a batch
    # at a time, until both are stalled (24 are usually enough; one CI run
    # needed more than 96, so up to 192).
    batches: list[Trickle] = []
    status: int | None = 200
    took = 0.0
    try:
        for _ in range(8):
            batches.append(Trickle(host, port, None, None))
            time.sleep(SETTLE)
            status, took = healthz(http.client.HTTPConnection(host, port, timeout=3), public_host)
            if status is None:
                break
        check(
            f"control: slow clients straight at gunicorn {host}:{port} stall /healthz",
            status is None,
            f"{status} in {took:.2f} s with {CONNECTIONS * len(batches)} slow clients",
        )
    finally:
        for slow in batches:
            slow.close()
    status, took = healthz(http.client.HTTPConnection(host, port, timeout=5), public_host)
    check("gunicorn answers again once they have gone", status == 200, f"{status} in {took:.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--cafile", required=True)
    parser.add_argument("--direct", metavar="HOST:PORT", help="gunicorn's own address")
    parser.add_argument("--body-path", help="a POST the app reads the body of (a form)")
    args = parser.parse_args()
    through_proxy(args.host, ssl.create_default_context(cafile=args.cafile), args.body_path)
    if args.direct:
        host, port = args.direct.rsplit(":", 1)
        straight_at_gunicorn(host, int(port), args.host)
    if FAILED:
        print(f"  {len(FAILED)} slow-client check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
