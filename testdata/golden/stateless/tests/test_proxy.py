"""nginx is the only way in: gunicorn listens on loopback, nginx reads requests
whole, compresses no page and refuses /readyz (scripts/e2e.sh in rampart proves
the same against a live nginx)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NGINX_CONF = ROOT / "deploy" / "vm" / "nginx.conf"

Block = list[tuple[list[str], "Block"]]


def parse_nginx(text: str) -> Block:
    """Directives as (words, block) pairs; enough of the syntax for this file."""
    text = re.sub(r"#[^\n]*", "", text)
    root: Block = []
    stack = [root]
    pending: list[str] = []
    for token in re.findall(r"[^;{}]+|[;{}]", text):
        words = token.split()
        if token == "}":
            stack.pop()
        elif token == "{":
            children: Block = []
            stack[-1].append((pending, children))
            stack.append(children)
        elif token == ";":
            stack[-1].append((pending, []))
        pending = words
    assert len(stack) == 1, "unbalanced braces"
    return root


def find(block: Block, *first_words: str) -> list[tuple[list[str], Block]]:
    return [
        (words, children)
        for words, children in block
        if words[: len(first_words)] == list(first_words)
    ]


def https_server() -> Block:
    servers = [
        block for _, block in find(parse_nginx(NGINX_CONF.read_text(encoding="utf-8")), "server")
    ]
    [server] = [
        block for block in servers if any("443" in words[1] for words, _ in find(block, "listen"))
    ]
    return server


def seconds(words: list[str]) -> int:
    return int(words[1].removesuffix("s"))


def test_gunicorn_listens_on_loopback_behind_nginx():
    [unit] = (ROOT / "deploy" / "vm").glob("*.service")
    assert re.search(r"^Environment=.*\bGUNICORN_BIND=127\.0\.0\.1:8000\b", unit.read_text(), re.M)
    [(_, location)] = find(https_server(), "location", "/")
    assert find(location, "proxy_pass", "http://127.0.0.1:8000")


def test_nginx_reads_requests_whole_before_passing_them_on():
    # gunicorn has no deadline for a slow client; nginx's deadlines and
    # buffering keep slow clients away from its threads.
    server = https_server()
    for name in ("client_header_timeout", "client_body_timeout"):
        [(words, _)] = find(server, name)
        assert 0 < seconds(words) <= 30
    [(_, location)] = find(server, "location", "/")
    assert find(location, "proxy_request_buffering", "on")


def test_nginx_compresses_no_page():
    # BREACH: a compressed page carrying a CSRF token leaks it through its size.
    # Debian's nginx.conf turns gzip on for every site; this one turns it off.
    assert find(https_server(), "gzip", "off")
    assert "gzip on" not in re.sub(r"#[^\n]*", "", NGINX_CONF.read_text(encoding="utf-8"))


def test_nginx_refuses_the_readiness_probe():
    [(_, location)] = find(https_server(), "location", "=", "/readyz")
    assert location == [(["return", "404"], [])]


def test_nginx_refuses_the_api_over_plain_http():
    # A token sent in clear has leaked: refuse it visibly instead of letting
    # a client follow a redirect and never learn it.
    servers = [
        block for _, block in find(parse_nginx(NGINX_CONF.read_text(encoding="utf-8")), "server")
    ]
    [plain] = [
        block
        for block in servers
        if any(words[1].endswith("80") for words, _ in find(block, "listen"))
    ]
    [(_, api)] = find(plain, "location", "/api/")
    assert find(api, "return", "403")
    [(_, pages)] = find(plain, "location", "/")
    [(redirect, _)] = find(pages, "return")
    assert redirect[1:] == ["308", "https://$host$request_uri"]


def test_nginx_logs_paths_without_query_strings_or_referer():
    # Query strings can carry an OpenID Connect code and state, or a token.
    tree = parse_nginx(NGINX_CONF.read_text(encoding="utf-8"))
    [(log_format, _)] = find(tree, "log_format")
    line = " ".join(log_format[2:])
    assert "$uri" in line
    for leaky in ("$request ", "$request_uri", "$args", "$query_string", "$http_referer"):
        assert leaky not in line + " ", leaky
    servers = [block for _, block in find(tree, "server")]
    assert len(servers) == 2
    for server in servers:
        [(access_log, _)] = find(server, "access_log")
        assert access_log[-1] == log_format[1]
