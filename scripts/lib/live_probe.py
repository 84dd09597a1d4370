"""Probe a running generated app over real HTTP and HTTPS (standard library only).

Usage: live_probe.py --host localhost --cafile CERT --login KIND
       live_probe.py --host localhost --cafile CERT --login KIND --proxy NAME --direct HOST:PORT

Checks every security header and cookie attribute, the HTTP to HTTPS
redirect, CSRF rejection, 429 after repeated failed log-ins, 413, a foreign
Host refused, /readyz refused to proxied requests, and no traceback in error
bodies. With --proxy, the app is behind the deploy target's own proxy
(gunicorn at --direct): no page or JSON is compressed (BREACH), /readyz is
refused through the proxy and answered directly. Prints one line per check
and exits 1 if any failed. Every loop is bounded.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import socket
import ssl
import subprocess
import sys
from http.cookies import SimpleCookie

from caught_mail import mailed_link, token_of

FAILED: list[str] = []
# Without a shared cache each gunicorn worker counts on its own (an accepted
# risk the threat model states), so allow workers x limit attempts and more.
ATTEMPTS = 50
TRACEBACK_MARKERS = (
    "Traceback",
    'File "',
    "Werkzeug Debugger",
    "sqlalchemy.",
    "psycopg",
    "pymysql",
)


def check(name: str, ok: bool, detail: str = "") -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")
    if not ok:
        FAILED.append(name)


class Client:
    def __init__(self, host: str, cafile: str) -> None:
        self.host = host
        self.context = ssl.create_default_context(cafile=cafile)
        self.context_cafile = cafile
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        https: bool = True,
        host_header: str | None = None,
    ) -> tuple[int, http.client.HTTPMessage, str]:
        if https:
            conn = http.client.HTTPSConnection(self.host, 443, context=self.context, timeout=10)
        else:
            conn = http.client.HTTPConnection(self.host, 80, timeout=10)
        all_headers = {
            "Host": host_header or self.host,
            "Referer": f"https://{self.host}/",
        }
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        all_headers.update(headers or {})
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for raw in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(raw)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return response.status, response.headers, text

    def csrf_token(self, path: str) -> str:
        _, _, page = self.request("GET", path)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        return match.group(1) if match else ""


def probe_headers(client: Client) -> None:
    status, headers, body = client.request("GET", "/")
    check("GET https://HOST/ is 200", status == 200, str(status))
    csp = headers.get("Content-Security-Policy", "")
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ):
        check(f"CSP has {directive}", directive in csp)
    check("CSP has no unsafe-inline or unsafe-eval", "unsafe-" not in csp, csp)
    hsts = headers.get("Strict-Transport-Security", "")
    match = re.search(r"max-age=(\d+)", hsts)
    check(
        "HSTS max-age is at least a year",
        bool(match) and int(match.group(1)) >= 31536000,
        hsts,
    )
    expected = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Cache-Control": "no-store",
    }
    for name, value in expected.items():
        check(f"{name}: {value}", headers.get(name) == value, str(headers.get(name)))
    permissions = headers.get("Permissions-Policy", "")
    check(
        "Permissions-Policy denies camera, microphone, geolocation",
        all(f"{f}=()" in permissions for f in ("camera", "microphone", "geolocation")),
        permissions,
    )
    check("no X-Powered-By", "X-Powered-By" not in headers)
    server = headers.get("Server", "")
    check(
        "Server header carries no version",
        not re.search(r"\d", server),
        server or "absent",
    )
    check("page has no inline script", "<script>" not in body and "<style>" not in body)


def probe_cookies(client: Client, paths: list[str]) -> None:
    raw_cookies = []
    for path in paths:
        _, headers, _ = client.request("GET", path)
        raw_cookies += headers.get_all("Set-Cookie") or []
    if not raw_cookies:
        check("pages set no cookie (nothing to protect)", True)
    for raw in raw_cookies:
        name = raw.split("=", 1)[0]
        attributes = [a.strip().lower() for a in raw.split(";")[1:]]
        check(f"cookie {name} has the __Host- prefix", name.startswith("__Host-"))
        check(f"cookie {name} is Secure", "secure" in attributes)
        check(f"cookie {name} is HttpOnly", "httponly" in attributes)
        check(
            f"cookie {name} is SameSite=Lax or Strict",
            "samesite=lax" in attributes or "samesite=strict" in attributes,
        )
        check(
            f"cookie {name} has Path=/ and no Domain",
            "path=/" in attributes and not any(a.startswith("domain=") for a in attributes),
        )


def oversized_post_status(client: Client, size: int = 2 * 1024 * 1024) -> int | str:
    """POST a body over the limit. The app may answer 413 and close before the
    body is all sent; the answer is read even then."""
    conn = http.client.HTTPSConnection(client.host, 443, context=client.context, timeout=10)
    try:
        conn.putrequest("POST", "/")
        conn.putheader("Content-Type", "application/octet-stream")
        conn.putheader("Content-Length", str(size))
        conn.endheaders()
        try:
            for _ in range(size // 65536):
                conn.send(b"x" * 65536)
        except OSError:
            pass  # answered and closed mid-upload: read what it said
        return conn.getresponse().status
    except (OSError, http.client.HTTPException) as error:
        return f"no answer: {error!r}"
    finally:
        conn.close()


def probe_transport(client: Client) -> None:
    status, headers, _ = client.request("GET", "/?from=http", https=False)
    location = headers.get("Location", "")
    check(
        "http://HOST/ redirects to https://HOST/",
        status in (301, 308) and location == f"https://{client.host}/?from=http",
        f"{status} {location}",
    )
    status, _, _ = client.request("GET", "/healthz", https=False)
    check("/healthz answers over plain HTTP for probes", status == 200, str(status))
    status, _, body = client.request("GET", "/", host_header="evil.example")
    check("a foreign Host header gets 400", status == 400, str(status))
    check("a 2 MiB body gets 413", (status := oversized_post_status(client)) == 413, str(status))
    status, _, body = client.request("GET", "/no-such-page")
    check(
        "404 page is generic",
        status == 404 and not any(m in body for m in TRACEBACK_MARKERS),
        str(status),
    )


def probe_readiness_is_not_public(client: Client) -> None:
    # Every generated proxy sets X-Forwarded-For; the orchestrator does not.
    status, _, _ = client.request("GET", "/readyz")
    check("/readyz answers a direct request (the orchestrator's)", status == 200, str(status))
    status, _, body = client.request("GET", "/readyz", headers={"X-Forwarded-For": "203.0.113.9"})
    check(
        "/readyz with X-Forwarded-For (set by every proxy) gets 404",
        status == 404 and '"checks"' not in body,
        str(status),
    )


def probe_behind_proxy(client: Client, login: str, proxy: str, direct: str) -> None:
    """Run with the deploy target's own proxy on 443 and gunicorn at DIRECT."""
    gzip = {"Accept-Encoding": "gzip, deflate, br"}
    pages = {"form": "/auth/login", "provider": "/"}.get(login, "/")
    status, headers, body = client.request("GET", pages, headers=gzip)
    encoding = headers.get("Content-Encoding")
    check(
        f"{proxy} compresses no page (BREACH): GET {pages} with Accept-Encoding: gzip",
        status == 200 and encoding is None,
        f"{status}, Content-Encoding {encoding}",
    )
    if login == "form":
        check("that page carries a CSRF token", 'name="csrf_token"' in body)
    if login == "token":
        payload = json.dumps({"email": "nobody@example.com", "password": "wrong-password-123"}).encode()
        status, headers, _ = client.request(
            "POST",
            "/api/v1/auth/token",
            body=payload,
            headers={**gzip, "Content-Type": "application/json"},
        )
        encoding = headers.get("Content-Encoding")
        check(f"{proxy} compresses no JSON", encoding is None, f"{status}, Content-Encoding {encoding}")
    status, headers, _ = client.request("GET", "/static/style.css", headers=gzip)
    print(
        f"  info {proxy}: /static/style.css {status}, Content-Encoding"
        f" {headers.get('Content-Encoding')} (stylesheets carry no secret)"
    )
    status, _, _ = client.request("GET", "/readyz")
    check(f"/readyz through {proxy} gets 404", status == 404, str(status))
    status, headers, _ = client.request("GET", "/?from=http", https=False)
    location = headers.get("Location", "")
    check(
        f"{proxy}: a page over plain HTTP is redirected to HTTPS",
        status in (301, 308) and location == f"https://{client.host}/?from=http",
        f"{status} {location}",
    )
    status, headers, _ = client.request(
        "POST", "/api/v1/auth/token", body=b"{}", headers={"Content-Type": "application/json"}, https=False
    )
    check(
        f"{proxy}: the API over plain HTTP is refused (403), not redirected",
        status == 403 and "Location" not in headers,
        f"{status} {headers.get('Location', '')}",
    )
    host, port = direct.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", "/readyz", headers={"Host": client.host})
        status = conn.getresponse().status
    finally:
        conn.close()
    check(f"/readyz straight at gunicorn ({direct}, as the orchestrator asks) is 200", status == 200, str(status))


def session_writes(redis_scan: str | None, memcached: str | None) -> int | None:
    """Sessions the cache server holds (Redis: keys under the session prefix)
    or writes it has taken (memcached: cmd_set, as it cannot list keys)."""
    if redis_scan:
        # The command is e2e.sh's own (redis-cli with the throw-away password).
        out = subprocess.run(redis_scan, shell=True, check=True, capture_output=True, text=True)  # noqa: S602
        return len(out.stdout.split())
    if memcached:
        host, _, port = memcached.rpartition(":")
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            connection.sendall(b"stats\r\n")
            reply = b""
            while not reply.endswith(b"END\r\n"):
                part = connection.recv(65536)
                if not part:
                    break
                reply += part
        for line in reply.decode().splitlines():
            if line.startswith("STAT cmd_set "):
                return int(line.split()[2])
    return None


def probe_hardening(
    client: Client, login: str, redis_scan: str | None, memcached: str | None, mail_dir: str | None
) -> None:
    """What issue 13's live attack found, re-checked over real HTTP."""
    # Chunked bodies have no Content-Length, so a pre-check reading only that
    # header let them through.
    conn = http.client.HTTPSConnection(client.host, 443, context=client.context, timeout=30)
    try:
        chunks = iter([b"x" * 65536] * 20)  # 1.25 MiB, over the 1 MiB limit
        conn.request(
            "POST",
            "/",
            body=chunks,
            headers={"Host": client.host, "Content-Type": "application/octet-stream"},
            encode_chunked=True,
        )
        status = conn.getresponse().status
    except (ConnectionError, http.client.HTTPException) as error:
        status = f"connection ended: {error}"
    finally:
        conn.close()
    check("a 1.25 MiB chunked body gets 413", status == 413, str(status))

    status, headers, _ = client.request(
        "POST", "/api/v1/auth/token", body=b"{}", headers={"Content-Type": "application/json"}, https=False
    )
    check(
        "the API over plain HTTP is refused (403), not redirected",
        status == 403 and "Location" not in headers,
        f"{status} {headers.get('Location', '')}",
    )

    before = session_writes(redis_scan, memcached)
    if before is not None:
        page = "/auth/login" if login == "form" else "/"
        for _ in range(50):
            Client(client.host, client.context_cafile).request("GET", page)
        after = session_writes(redis_scan, memcached)
        check(
            f"50 cookieless GETs of {page} write no server-side session",
            after == before,
            f"{before} before, {after} after",
        )

    if login == "token":
        nested = b"[" * 200_000 + b"]" * 200_000
        status, headers, body = client.request(
            "POST", "/api/v1/auth/revoke", body=nested, headers={"Content-Type": "application/json"}
        )
        check(
            "200,000 levels of nested JSON get a 400 in the API's JSON format",
            status == 400
            and headers.get("Content-Type", "").startswith("application/json")
            and not any(m in body for m in TRACEBACK_MARKERS),
            f"{status} {headers.get('Content-Type')}",
        )

    if login == "form":
        email = "live-probe@example.com"
        password = "live probe password 123"
        token = client.csrf_token("/auth/register")
        form = f"csrf_token={token}&email=live-probe%40example.com&password={password}&confirm={password}"
        client.request(
            "POST",
            "/auth/register",
            body=form.replace(" ", "+").encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if mail_dir:
            # The address is confirmed through the mailed link before log-in.
            link = mailed_link(mail_dir, email, "/auth/confirm")
            token = client.csrf_token(link)
            client.request(
                "POST",
                "/auth/confirm",
                body=f"csrf_token={token}&token={token_of(link)}&password={password}".replace(" ", "+").encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        token = client.csrf_token("/auth/login")
        form = f"csrf_token={token}&email={email.replace('@', '%40')}&password={password}"
        status, headers, _ = client.request(
            "POST",
            "/auth/login?next=/account%0D%0ASet-Cookie:%20x=y%07",
            body=form.replace(" ", "+").encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        location = headers.get("Location", "")
        check(
            "a log-in with control characters in next= is redirected to a clean local path",
            status in (302, 303) and "\r" not in location and "\n" not in location
            and location.endswith("/account"),
            f"{status} {location!r}",
        )
        client.cookies.clear()
        # A NUL in the address (PostgreSQL refuses it in text) is refused
        # before the database sees it, not a 500: found by make dast.
        token = client.csrf_token("/auth/login")
        status, _, _ = client.request(
            "POST",
            "/auth/login",
            body=f"csrf_token={token}&email=ada%40example.com%00&password=x".encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        check("a log-in with a NUL character in the address gets 400", status == 400, str(status))
        client.cookies.clear()


def probe_csrf_and_rate_limit(client: Client, login: str) -> None:
    if login == "form":
        status, _, _ = client.request(
            "POST",
            "/auth/login",
            body=b"email=a%40example.com&password=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        check("log-in POST without a CSRF token gets 400", status == 400, str(status))
        codes = []
        for _ in range(ATTEMPTS):
            token = client.csrf_token("/auth/login")
            form = f"csrf_token={token}&email=nobody%40example.com&password=wrong-password-123"
            status, _, _ = client.request(
                "POST",
                "/auth/login",
                body=form.encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            codes.append(status)
            if status == 429:
                break
        check(
            "repeated failed log-ins get 429",
            codes[-1] == 429,
            " ".join(map(str, codes)),
        )
    elif login == "provider":
        status, _, _ = client.request("POST", "/auth/logout")
        check("log-out POST without a CSRF token gets 400", status == 400, str(status))
        codes = []
        for _ in range(ATTEMPTS):
            status, _, _ = client.request("GET", "/auth/login")
            codes.append(status)
            if status == 429:
                break
        check(
            "repeated log-in starts get 429",
            codes[-1] == 429,
            " ".join(map(str, codes)),
        )
    elif login == "token":
        status, _, _ = client.request(
            "POST",
            "/api/v1/auth/token",
            body=b"email=a&password=b",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        check(
            "the token API refuses a form post (JSON only, so no CSRF through forms)",
            status in (400, 415),
            str(status),
        )
        codes = []
        for _ in range(ATTEMPTS):
            body = json.dumps({"email": "nobody@example.com", "password": "wrong-password-123"}).encode()
            status, _, _ = client.request(
                "POST",
                "/api/v1/auth/token",
                body=body,
                headers={"Content-Type": "application/json"},
            )
            codes.append(status)
            if status == 429:
                break
        check(
            "repeated failed token requests get 429",
            codes[-1] == 429,
            " ".join(map(str, codes)),
        )
    else:
        print("  n/a  CSRF and log-in rate limit: this project has no forms and no log-in")


def probe_backend_down(client: Client, login: str, backend: str) -> None:
    """Run while the database or cache server is stopped."""
    status, _, body = client.request("GET", "/readyz")
    check(f"/readyz is 503 while {backend} is down", status == 503, str(status))
    check("the 503 body names no internals", not any(m in body for m in TRACEBACK_MARKERS))
    if login == "form":
        token = client.csrf_token("/auth/login") if backend == "the database" else "x"
        form = f"csrf_token={token}&email=ada%40example.com&password=a-long-pass-phrase"
        status, _, body = client.request(
            "POST",
            "/auth/login",
            body=form.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    elif login == "token":
        payload = json.dumps({"email": "ada@example.com", "password": "a-long-pass-phrase"}).encode()
        status, _, body = client.request(
            "POST",
            "/api/v1/auth/token",
            body=payload,
            headers={"Content-Type": "application/json"},
        )
    else:
        status, _, body = client.request("GET", "/")
    if status >= 500:
        check(
            f"a request that needs {backend} gets a generic {status}, no traceback",
            not any(m in body for m in TRACEBACK_MARKERS),
            body[:80].replace("\n", " "),
        )
    else:
        print(f"  n/a  no 5xx to inspect: {status} (this request does not need {backend})")


# The log-in kinds this probe knows (the login attribute of the manifest's
# auth choices; internal/matrix's tests keep the two in step).
LOGINS = ("form", "provider", "token", "none")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--cafile", required=True)
    parser.add_argument(
        "--login",
        required=True,
        choices=LOGINS,
        help="how users log in: the auth choice's login attribute in the manifest",
    )
    parser.add_argument("--down", metavar="BACKEND", help="probe with this backend stopped")
    parser.add_argument("--abuse", action="store_true", help="CSRF and the log-in rate limit (run last)")
    parser.add_argument("--proxy", help="the deploy target's proxy (caddy, nginx) is on 443")
    parser.add_argument("--direct", metavar="HOST:PORT", help="gunicorn's address behind --proxy")
    parser.add_argument("--redis-scan", help="a shell command listing the app's session keys in Redis")
    parser.add_argument("--memcached", metavar="HOST:PORT", help="the app's memcached server")
    parser.add_argument("--mail-dir", help="where the project's mail catcher saves mail (confirmation links)")
    args = parser.parse_args()

    client = Client(args.host, args.cafile)
    if args.proxy:
        probe_behind_proxy(client, args.login, args.proxy, args.direct)
    elif args.down:
        probe_backend_down(client, args.login, args.down)
    elif args.abuse:
        # Last: once the limit is reached, log-ins from this address get 429.
        probe_csrf_and_rate_limit(client, args.login)
    else:
        probe_headers(client)
        cookie_pages = {"form": ["/", "/auth/login"], "provider": ["/", "/auth/login"]}.get(args.login, ["/"])
        probe_cookies(Client(args.host, args.cafile), cookie_pages)
        probe_transport(client)
        probe_readiness_is_not_public(client)
        probe_hardening(client, args.login, args.redis_scan, args.memcached, args.mail_dir)
    if FAILED:
        print(f"  {len(FAILED)} live check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
