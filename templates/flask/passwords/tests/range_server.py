"""A Pwned Passwords range API on 127.0.0.1, for the breach check's tests.

It answers GET <prefix> as the real service does (api.pwnedpasswords.com,
which the tests cannot reach): one "SUFFIX:COUNT" line per SHA-1 hash that
starts with the five hex digits asked, padded with lines whose count is 0
when the request says Add-Padding. It records what each request carried.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PADDING_LINES = 800


@dataclass
class RangeServer:
    breached: dict[str, int] = field(default_factory=dict)
    # Listed with a count of 0: what padding looks like for a real suffix.
    padded: set[str] = field(default_factory=set)
    delay_seconds: float = 0.0
    # Misbehaviour to survive: a redirect (once), an answer cut short of
    # its Content-Length, an answer sent a little at a time.
    redirect_to: str = ""
    truncate: bool = False
    trickle_seconds: float = 0.0
    requests: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                server.requests.append({"path": self.path, **dict(self.headers.items())})
                time.sleep(server.delay_seconds)
                body = server.answer(self.path.rsplit("/", 1)[-1], "Add-Padding" in self.headers)
                try:
                    if server.redirect_to:
                        # Once: a client that follows it would get an answer.
                        target, server.redirect_to = server.redirect_to, ""
                        self.send_response(302)
                        self.send_header("Location", target)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if server.truncate:
                        self.wfile.write(body[: len(body) // 2])
                        self.close_connection = True
                        return
                    part = max(len(body) // 10, 1)
                    for start in range(0, len(body), part):
                        self.wfile.write(body[start : start + part])
                        self.wfile.flush()
                        time.sleep(server.trickle_seconds)
                except ConnectionError:
                    pass  # the client gave up waiting (the slow-service test)

            def log_message(self, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/range/"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def answer(self, prefix: str, padding: bool) -> bytes:
        lines = []
        for password, count in self.breached.items():
            digest = sha1(password)
            if digest.startswith(prefix):
                lines.append(f"{digest[5:]}:{count}")
        for password in self.padded:
            digest = sha1(password)
            if digest.startswith(prefix):
                lines.append(f"{digest[5:]}:0")
        if padding:
            lines += [f"{secrets.token_hex(18)[:35].upper()}:0" for _ in range(PADDING_LINES)]
        return "\r\n".join(sorted(lines)).encode()

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()


def sha1(password: str) -> str:
    return hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()
