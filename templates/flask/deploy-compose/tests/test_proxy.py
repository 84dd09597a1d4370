"""Caddy is the only way in: it reads requests whole, compresses no page and
refuses /readyz (scripts/e2e.sh in rampart proves the same against a live Caddy)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CADDYFILE = ROOT / "deploy" / "compose" / "Caddyfile"

Block = list[tuple[list[str], "Block"]]


def parse_caddyfile(text: str) -> Block:
    """Directives as (words, block) pairs; enough of the syntax for this file."""
    root: Block = []
    stack = [root]
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        if words == ["}"]:
            stack.pop()
            continue
        children: Block = []
        opens = words[-1] == "{"
        stack[-1].append((words[:-1] if opens else words, children))
        if opens:
            stack.append(children)
    assert len(stack) == 1, "unbalanced braces"
    return root


def find(block: Block, *first_words: str) -> list[tuple[list[str], Block]]:
    return [
        (words, children)
        for words, children in block
        if words[: len(first_words)] == list(first_words)
    ]


def site() -> Block:
    tree = parse_caddyfile(CADDYFILE.read_text(encoding="utf-8"))
    [(_, block)] = find(tree, "{$PUBLIC_HOST}")
    return block


def test_only_the_proxy_is_reachable_from_outside():
    services = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))["services"]
    assert [name for name, service in services.items() if "ports" in service] == ["proxy"]
    # The network the proxy is on is shared with the app alone.
    edge = set(services["proxy"]["networks"])
    assert edge <= set(services["app"]["networks"])
    for name, service in services.items():
        if name not in ("proxy", "app"):
            assert not edge & set(service.get("networks", [])), name


def test_caddy_reads_requests_whole_before_passing_them_on():
    # gunicorn has no deadline for a slow client; Caddy's deadlines and
    # buffering keep slow clients away from its threads.
    tree = parse_caddyfile(CADDYFILE.read_text(encoding="utf-8"))
    [options] = [block for words, block in tree if not words]  # global options: no name
    [(_, servers)] = find(options, "servers")
    [(_, timeouts)] = find(servers, "timeouts")
    assert {words[0] for words, _ in timeouts} >= {"read_header", "read_body"}
    [(_, proxy)] = find(site(), "reverse_proxy", "app:8000")
    [(words, _)] = find(proxy, "request_buffers")
    [(limit, _)] = find(find(site(), "request_body")[0][1], "max_size")
    assert words[1] == limit[1]


def test_caddy_compresses_no_page():
    # BREACH: a compressed page carrying a CSRF token leaks it through its size.
    [(words, encode)] = find(site(), "encode")
    assert words == ["encode", "gzip"]
    [(_, match)] = find(encode, "match")
    types = [words[2] for words in (w for w, _ in match) if words[:2] == ["header", "Content-Type"]]
    assert types and len(types) == len(match)
    assert all(
        t.startswith(("text/css", "text/javascript", "application/javascript")) for t in types
    )


def test_caddy_refuses_the_readiness_probe():
    [(matcher, _)] = find(site(), "@readiness")
    assert matcher[1:] == ["path", "/readyz", "/readyz/*"]
    assert find(site(), "respond", "@readiness", "404")


def test_caddy_refuses_the_api_over_plain_http():
    # A token sent in clear has leaked: refuse it visibly instead of letting
    # a client follow a redirect and never learn it.
    tree = parse_caddyfile(CADDYFILE.read_text(encoding="utf-8"))
    [(_, plain)] = find(tree, "http://{$PUBLIC_HOST}")
    [(matcher, _)] = find(plain, "@api")
    assert matcher[1:] == ["path", "/api", "/api/*"]
    # Inside handle blocks: Caddy orders a bare redir before a bare respond.
    assert not find(plain, "respond") and not find(plain, "redir")
    [(_, api)] = find(plain, "handle", "@api")
    [(respond, _)] = find(api, "respond")
    assert respond[-1] == "403"
    [pages] = [block for words, block in plain if words == ["handle"]]
    [(redirect, _)] = find(pages, "redir")
    assert redirect[1:] == ["https://{host}{uri}", "308"]
