"""Helpers for scripts/bench-app.sh (standard library only, except `profile`,
which runs inside the generated project's virtualenv with pyinstrument).

  login    register an account and log in over HTTP; print the session cookie
  startup  time process start to the first 200 from a URL, several runs
  report   turn the wrk and start-up results into a table, a verdict per
           target, and a Markdown section for docs/performance.md
  profile  profile create_app and requests to each endpoint in-process
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from caught_mail import mailed_link, token_of

# The app runs behind a TLS-terminating proxy in production; these are the
# headers that proxy adds (FORWARDED_PROXIES=1 makes the app believe them).
PROXY_HEADERS = {"Host": "localhost", "X-Forwarded-Proto": "https"}
TARGETS = {"public": 0.85, "healthz": 0.95}
STARTUP_TARGET_S = 1.5


class Browser:
    """A cookie-keeping HTTP client for one origin."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        headers = dict(PROXY_HEADERS)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = headers["Referer"] = "https://localhost"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
            for value in resp.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(value).items():
                    self.cookies[name] = morsel.value
            return resp.status, resp.headers.get("Location", ""), text
        finally:
            conn.close()

    def csrf_token(self, path: str) -> str:
        status, _, page = self.request("GET", path)
        match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        if status != 200 or not match:
            sys.exit(f"GET {path} answered {status} without a CSRF token")
        return match.group(1)


def login(args: argparse.Namespace) -> None:
    browser = Browser(args.base)
    email, password = "bench@example.com", "correct horse battery staple"
    token = browser.csrf_token("/auth/register")
    status, _, _ = browser.request(
        "POST", "/auth/register", {"csrf_token": token, "email": email, "password": password, "confirm": password}
    )
    if status not in (200, 302, 303):
        sys.exit(f"registration answered {status}, want 200 or a redirect")
    if args.mail_dir:
        # The address is confirmed through the mailed link before log-in.
        link = mailed_link(args.mail_dir, email, "/auth/confirm")
        token = browser.csrf_token(link)
        status, _, _ = browser.request(
            "POST", "/auth/confirm", {"csrf_token": token, "token": token_of(link), "password": password}
        )
        if status not in (302, 303):
            sys.exit(f"confirming the address answered {status}, want a redirect")
    token = browser.csrf_token("/auth/login")
    status, location, _ = browser.request(
        "POST", "/auth/login", {"csrf_token": token, "email": email, "password": password}
    )
    if status not in (302, 303) or not location.endswith("/account"):
        sys.exit(f"log-in answered {status} to {location!r}, want a redirect to /account")
    status, _, page = browser.request("GET", "/account")
    if status != 200 or email not in page:
        sys.exit(f"/account answered {status} after log-in")
    print("; ".join(f"{k}={v}" for k, v in browser.cookies.items()))


def first_ok(url: str, deadline: float) -> bool:
    parts = urlsplit(url)
    while time.perf_counter() < deadline:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        try:
            conn.request("GET", parts.path, headers=PROXY_HEADERS)
            if conn.getresponse().status == 200:
                return True
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.005)
    return False


def startup(args: argparse.Namespace) -> None:
    """Each run starts the command afresh and polls every 5 ms; the figure
    includes the interpreter, gunicorn's master and worker, imports and
    create_app, up to the first complete response."""
    times = []
    for _ in range(args.runs):
        with open(args.log, "ab") as log:
            start = time.perf_counter()
            proc = subprocess.Popen(args.command, stdout=log, stderr=log, start_new_session=True)
            try:
                if not first_ok(args.url, start + 30):
                    sys.exit(f"{args.url} gave no 200 within 30 s of starting {' '.join(args.command)}")
                times.append(time.perf_counter() - start)
            finally:
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    json.dump({"seconds": times}, sys.stdout)
    print()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(args: argparse.Namespace) -> None:
    results = Path(args.results)
    runs: dict[str, list[dict]] = {}
    for path in sorted(results.glob("wrk-*-*.json")):
        _, round_no, name = path.stem.split("-", 2)
        run = json.loads(path.read_text())
        run["round"] = int(round_no)
        run["rps"] = run["requests"] / (run["duration_us"] / 1e6)
        bad = {s: n for s, n in run["statuses"].items() if s != "200"}
        if bad or run["socket_errors"]:
            sys.exit(f"{path.name}: responses other than 200 {bad} or socket errors {run['socket_errors']}")
        runs.setdefault(name, []).append(run)
    endpoints = json.loads(args.endpoints)
    baseline = {r["round"]: r["rps"] for r in runs["baseline"]}
    rows, verdicts = [], []
    for name, path, what in endpoints:
        measured = runs[name]
        ratio = median([r["rps"] / baseline[r["round"]] for r in measured])
        rows.append(
            (
                name,
                path,
                median([r["rps"] for r in measured]),
                median([r["p50_us"] / 1000 for r in measured]),
                median([r["p99_us"] / 1000 for r in measured]),
                ratio,
                what,
            )
        )
        if name in TARGETS:
            target = TARGETS[name]
            verdicts.append(
                (
                    f"{name} throughput ≥ {target:.0%} of baseline",
                    f"{ratio:.1%}",
                    ratio >= target,
                    f"{(target - ratio) * 100:.1f} points short" if ratio < target else "",
                )
            )
    starts = json.loads((results / "startup.json").read_text())["seconds"]
    baseline_starts = json.loads((results / "startup-baseline.json").read_text())["seconds"]
    create_app = json.loads((results / "create-app.json").read_text())
    start = median(starts)
    verdicts.append(
        (
            f"start-up to first /healthz < {STARTUP_TARGET_S} s",
            f"{start:.3f} s",
            start < STARTUP_TARGET_S,
            f"{start - STARTUP_TARGET_S:.3f} s over" if start >= STARTUP_TARGET_S else "",
        )
    )
    meta = json.loads(args.meta)

    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()};"
        f" {meta['python']}; combination `{meta['combination']}`; gunicorn {meta['gunicorn']}"
        f" with the project's gunicorn.conf.py ({meta['workers']} workers x {meta['threads']} threads);"
        f" wrk {meta['wrk_threads']} thread(s), {meta['connections']} connections,"
        f" {meta['duration']} s per run, {meta['rounds']} round(s), medians over rounds.",
        "",
        "| endpoint | path | requests/s | p50 ms | p99 ms | vs baseline | what it exercises |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for name, path, rps, p50, p99, ratio, what in rows:
        lines.append(f"| {name} | `{path}` | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {ratio:.1%} | {what} |")
    lines += [
        "",
        f"Start-up, process start to first 200 (median of {len(starts)} runs):"
        f" generated app {start:.3f} s (min {min(starts):.3f}, max {max(starts):.3f});"
        f" bare Flask baseline {median(baseline_starts):.3f} s."
        f" In one process, importing the package takes {create_app['import_s']:.3f} s"
        f" and `create_app()` {create_app['create_app_s']:.3f} s.",
        "",
        "| target | measured | verdict |",
        "|---|---:|---|",
    ]
    for target, measured, ok, short in verdicts:
        lines.append(f"| {target} | {measured} | {'met' if ok else 'MISSED, ' + short} |")
    text = "\n".join(lines) + "\n"
    Path(args.markdown).write_text(text)
    print(text)
    if args.strict and not all(ok for _, _, ok, _ in verdicts):
        sys.exit(1)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu})"


def profile(args: argparse.Namespace) -> None:
    """Runs in the project's virtualenv: where do start-up and each
    endpoint's requests spend their time, in one process, without gunicorn."""
    import importlib

    from pyinstrument import Profiler

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    package = importlib.import_module(args.package)
    app = package.create_app()
    profiler.stop()
    (out / "create_app.txt").write_text(profiler.output_text(unicode=True, show_all=False))
    cookie = args.cookie
    for name, path in json.loads(args.endpoints):
        client = app.test_client(use_cookies=False)  # its cookie jar would drop the Cookie header
        headers = {"X-Forwarded-Proto": "https", "Host": "localhost"}
        if name == "logged-in":
            headers["Cookie"] = cookie
        for _ in range(20):  # warm: templates compiled, pools filled
            client.get(path, headers=headers)
        profiler = Profiler(interval=0.0002)
        profiler.start()
        for _ in range(args.requests):
            response = client.get(path, headers=headers)
            if response.status_code != 200:
                sys.exit(f"profile: {path} answered {response.status_code}")
        profiler.stop()
        (out / f"{name}.txt").write_text(profiler.output_text(unicode=True, show_all=False))
        (out / f"{name}.html").write_text(profiler.output_html())
    print(f"profiles in {out}")


def create_app_time(args: argparse.Namespace) -> None:
    """Runs in the project's virtualenv: import and create_app, timed apart."""
    import importlib

    start = time.perf_counter()
    package = importlib.import_module(args.package)
    imported = time.perf_counter()
    package.create_app()
    done = time.perf_counter()
    json.dump({"import_s": imported - start, "create_app_s": done - imported}, sys.stdout)
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("login")
    p.add_argument("--base", required=True)
    p.add_argument("--mail-dir", help="where the project's mail catcher saves mail")
    p.set_defaults(run=login)
    p = sub.add_parser("startup")
    p.add_argument("--url", required=True)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--log", required=True)
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(run=startup)
    p = sub.add_parser("report")
    p.add_argument("--results", required=True)
    p.add_argument("--endpoints", required=True, help="JSON list of [name, path, what]")
    p.add_argument("--meta", required=True)
    p.add_argument("--markdown", required=True)
    p.add_argument("--strict", action="store_true")
    p.set_defaults(run=report)
    p = sub.add_parser("profile")
    p.add_argument("--package", required=True)
    p.add_argument("--endpoints", required=True, help="JSON list of [name, path]")
    p.add_argument("--cookie", default="")
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--out", required=True)
    p.set_defaults(run=profile)
    p = sub.add_parser("create-app-time")
    p.add_argument("--package", required=True)
    p.set_defaults(run=create_app_time)
    args = parser.parse_args()
    if args.action == "startup" and args.command[:1] == ["--"]:
        args.command = args.command[1:]
    args.run(args)


if __name__ == "__main__":
    main()
