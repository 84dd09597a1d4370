"""`make dast`: a dynamic scan (DAST) of this app as production runs it.

It starts the app under gunicorn with gunicorn.conf.py, APP_ENV=production and
TLS (a throw-away certificate for localhost) on a free loopback port, and
scans it with wapiti (from dast/requirements.lock, in a virtual environment of
its own) as dast/rules.toml says: one pass as a visitor and, where the app has
accounts, one logged in with an account made for the scan, side by side. It
fails on any finding the rules do not explain, on any anomaly (a 500 or a
timeout), on a failed log-in and on a crawl that missed a page the rules say
it must reach. Each pass leaves dast/report-PASS.json and dast/wapiti-PASS.log.

The scan registers accounts and sends attack strings, so it never runs against
data you keep: without DATABASE_URL in the environment it uses a throw-away
SQLite file; set DATABASE_URL (and the cache's setting, which production
requires) to throw-away servers, as CI does.

    python dast/scan.py [--wapiti PATH] [--reports DIR]
    python dast/scan.py --check [--reports DIR]   (only judge the reports there)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import socket
import ssl
import subprocess  # nosec B404: runs gunicorn, flask and wapiti, fixed argument lists
import sys
import tempfile
import time
import tomllib
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "dast" / "rules.toml"
PACKAGE = "demo"
# What wapiti logs when a module or requests failed (it still exits 0).
SCAN_BROKEN = ("seems broken", "Traceback")
LOST_REQUESTS = re.compile(r"(\d+) requests were skipped due to network issues")


class Login(NamedTuple):
    """The account a pass logs in with."""

    email: str
    password: str


def load_rules(path: Path = RULES) -> dict:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def unexplained(report: Mapping, rules: Mapping) -> list[str]:
    """Every finding of the report that no [[explained]] entry of the rules
    covers (same section, category and path, and parameter when it names
    one), as a line each; empty when the scan is clean."""
    explained = rules.get("explained", [])
    problems = []
    for section in ("vulnerabilities", "anomalies", "additionals"):
        for category, findings in sorted(report.get(section, {}).items()):
            for finding in findings:
                if not any(_covers(entry, section, category, finding) for entry in explained):
                    problems.append(
                        f"{section}: {category}: {finding.get('method', '')} "
                        f"{finding.get('path', '')} {finding.get('parameter') or ''} "
                        f"({finding.get('info', '')})".replace("  ", " ")
                    )
    return problems


def _covers(entry: Mapping, section: str, category: str, finding: Mapping) -> bool:
    return (
        entry["section"] == section
        and entry["category"] == category
        and entry["path"] == finding.get("path")
        and entry.get("parameter", finding.get("parameter")) == finding.get("parameter")
    )


def answers(report: Mapping) -> dict[str, set[int]]:
    """The statuses the app answered each crawled path with; a path queued
    but never fetched has none."""
    statuses: dict[str, set[int]] = {}
    for page in report.get("infos", {}).get("crawled_pages", []):
        request = page["request"]
        path = statuses.setdefault(urllib.parse.urlsplit(request["url"]).path, set())
        if request.get("status_code") is not None:
            path.add(request["status_code"])
    return statuses


def unreached(report: Mapping, scan_pass: Mapping) -> list[str]:
    """What the pass must reach and did not: each must_reach path answered
    at all, and its signed_in page with 200, which proves the log-in held. A
    scan that never reached a form proves nothing about it."""
    statuses = answers(report)
    missing = [path for path in scan_pass["must_reach"] if not statuses.get(path)]
    signed_in = scan_pass.get("signed_in")
    if signed_in and 200 not in statuses.get(signed_in, set()):
        missing.append(f"{signed_in} with 200, so the pass was not signed in")
    return missing


def scan_trouble(log: str) -> tuple[list[str], int]:
    """What wapiti logs but does not count as a finding: a module that broke
    (always trouble), and the number of requests lost to network errors. A
    module stopped at max_attack_seconds counts its requests then in flight
    as lost: those are not counted."""
    broken, lost = [], 0
    for section in log.split("[*] Launching module"):
        bounded = "Max attack time was reached" in section
        for line in section.splitlines():
            if any(sign in line for sign in SCAN_BROKEN):
                broken.append(line.strip())
            elif not bounded and (count := LOST_REQUESTS.search(line)):
                lost += int(count.group(1))
    return broken, lost


def judge(reports: Mapping[str, Mapping], rules: Mapping, logs: Mapping[str, str]) -> int:
    """0 if every pass of the rules has its report, reached its pages (and,
    where it logs in, stayed signed in), ran without trouble and found
    nothing unexplained; else 1."""
    for entry in rules.get("explained", []):
        print(f"  explained: {entry['category']} at {entry['path']}: {entry['reason']}")
    problems = []
    for name, scan_pass in rules["passes"].items():
        report = reports.get(name)
        if report is None:
            problems.append(f"{name}: no report")
            continue
        infos = report.get("infos", {})
        print(f"{name}: {infos.get('version')}, {infos.get('crawled_pages_nbr', 0)} pages crawled")
        log = logs.get(name, "")
        for line in log.splitlines():
            if "Max attack time was reached" in line:
                print(f"  {name}: {line.strip()} (max_attack_seconds in dast/rules.toml)")
        if "login_path" in scan_pass and not (infos.get("auth") or {}).get("logged_in"):
            problems.append(f"{name}: the log-in failed, so nothing behind it was scanned")
        problems += [f"{name}: FINDING {problem}" for problem in unexplained(report, rules)]
        problems += [
            f"{name}: NOT REACHED {path} (must_reach or signed_in in dast/rules.toml)"
            for path in unreached(report, scan_pass)
        ]
        broken, lost = scan_trouble(log)
        problems += [f"{name}: SCAN TROUBLE {line}" for line in broken]
        tolerated = rules["scan"]["lost_requests_tolerated"]
        if lost > tolerated:
            problems.append(
                f"{name}: SCAN TROUBLE {lost} requests lost to network errors, more than"
                f" lost_requests_tolerated ({tolerated}) in dast/rules.toml"
            )
        elif lost:
            print(f"  {name}: {lost} requests lost to network errors (up to {tolerated} tolerated)")
    for problem in problems:
        print(f"  {problem}")
    if problems:
        print(f"DAST failed: {len(problems)} problems")
        return 1
    print("DAST passed: every page reached, no finding the rules do not explain")
    return 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _unverified() -> ssl.SSLContext:
    # Unverified: the certificate is this scan's own, made a moment ago.
    return ssl._create_unverified_context()  # noqa: S323  # nosec B323


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    context = _unverified()
    for _ in range(150):
        if process.poll() is not None:
            sys.exit(f"the app stopped before it answered:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, context=context, timeout=2):  # noqa: S310  # nosec B310: https on loopback
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"the app did not answer {url} in 30 s:\n{log.read_text()[-2000:]}")


@contextmanager
def running(command: list[str], env: Mapping[str, str], log: Path) -> Iterator[subprocess.Popen]:
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603  # nosec B603: a fixed argument list
            command, cwd=ROOT, env=dict(env), stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def scan_account(env: Mapping[str, str]) -> Login:
    """A fresh account with a confirmed address that the scan logs in with,
    so that it reaches what accounts can; the e-mail address and password
    are new each run."""
    from datetime import UTC, datetime

    from demo import (
        create_app,
    )
    from demo.extensions import (
        db,
    )
    from demo.models import (
        User,
    )
    from demo.passwords import (
        hash_password,
    )

    email, password = f"dast-{secrets.token_hex(6)}@example.com", secrets.token_urlsafe(24)
    app = create_app(env)
    with app.app_context():
        confirmed = datetime.now(UTC)
        db.session.add(
            User(email=email, password_hash=hash_password(password), email_verified_at=confirmed)
        )
        db.session.commit()
    return Login(email, password)


def app_environment(
    rules: Mapping, work: Path, cert: Path, key: Path, stack: ExitStack
) -> dict[str, str]:
    """Production's settings, with fresh secrets, throw-away servers and the
    rules' [app] settings (each explained there)."""
    env = {
        **os.environ,
        "APP_ENV": "production",
        "FLASK_SKIP_DOTENV": "1",
        "TRUSTED_HOSTS": "localhost",
        "FORWARDED_PROXIES": "0",
        "SECRET_KEY": secrets.token_hex(32),
        "ENCRYPTION_KEYS": secrets.token_hex(32),
        "LOG_LEVEL": "WARNING",
        **rules.get("app", {}),
    }
    env.setdefault("DATABASE_URL", f"sqlite:///{work / 'dast.sqlite3'}")
    if not env.get("REDIS_URL"):
        sys.exit(
            "make dast needs REDIS_URL (production requires the cache): point it at "
            "a throw-away server, for example after make services"
        )
    sys.path.insert(0, str(ROOT))
    from tests.mail_server import MailServer  # the tests' own SMTP server

    mail = stack.enter_context(MailServer(work).running())
    env.update(mail.settings())
    return env


def wapiti_command(
    wapiti: str, rules: Mapping, name: str, base: str, work: Path, report: Path, login: Login
) -> list[str]:
    scan, scan_pass = rules["scan"], rules["passes"][name]
    command = [
        wapiti,
        "--url", base + "/",
        "--scope", "folder",
        "--module", ",".join(scan["modules"]),
        "--depth", str(scan["depth"]),
        "--max-scan-time", str(scan["max_scan_seconds"]),
        "--max-attack-time", str(scan["max_attack_seconds"]),
        "--timeout", str(scan["request_timeout_seconds"]),
        "--verify-ssl", "0",
        # Nothing leaves this machine: no crash reports, no third-party endpoint.
        "--no-bugreport",
        "--endpoint", base + "/",
        "--store-session", str(work / name / "session"),
        "--store-config", str(work / name / "config"),
        "--flush-session",
        "--format", "json",
        "--detailed-report", "1",
        "--output", str(report),
        "--verbose", "1",
    ]  # fmt: skip
    for path in scan_pass.get("start", []):
        command += ["--start", base + path]
    for parameter in scan.get("skip_parameters", []):
        command += ["--skip", parameter]
    for path in scan_pass.get("exclude", []):
        command += ["--exclude", base + path]
    if "openapi" in scan_pass:
        command += ["--swagger", base + scan_pass["openapi"]]
    if "login_path" in scan_pass:
        command += ["--form-url", base + scan_pass["login_path"]]
        # One argument each: a password may begin with "-".
        command += [f"--form-user={login.email}", f"--form-password={login.password}"]
    return command


def scan(wapiti: str, reports: Path, rules: Mapping) -> int:
    bin_dir = Path(sys.executable).parent
    scanner_python = str(Path(wapiti).parent / "python")
    with tempfile.TemporaryDirectory() as directory, ExitStack() as stack:
        work = Path(directory)
        cert, key = work / "cert.pem", work / "key.pem"
        subprocess.run(  # noqa: S603  # nosec B603: a fixed argument list
            [scanner_python, str(ROOT / "dast" / "certificate.py"), str(cert), str(key)], check=True
        )
        env = app_environment(rules, work, cert, key, stack)
        migrate = [str(bin_dir / "flask"), "--app", PACKAGE, "db", "upgrade"]
        subprocess.run(migrate, cwd=ROOT, env=env, check=True)  # noqa: S603  # nosec B603
        # The account the logged-in pass uses, if there is one.
        login = Login("", "")
        login = scan_account(env)
        port = free_port()
        base = f"https://localhost:{port}"
        gunicorn = [
            str(bin_dir / "gunicorn"), "--config", "gunicorn.conf.py",
            "--bind", f"127.0.0.1:{port}", "--certfile", str(cert), "--keyfile", str(key),
        ]  # fmt: skip
        found: dict[str, dict] = {}
        logs: dict[str, str] = {}
        # On one stack, the app first: on the way out the scanners stop before it.
        app_log = reports / "app.log"
        app = stack.enter_context(running(gunicorn, env, app_log))
        wait_until_up(base + "/healthz", app, app_log)
        passes = ", ".join(rules["passes"])
        print(f"scanning {base} (production mode, TLS) with wapiti, passes: {passes}")
        # The passes side by side: each wapiti keeps one core busy.
        scans = {}
        for name in rules["passes"]:
            report = reports / f"report-{name}.json"
            report.unlink(missing_ok=True)
            (work / name).mkdir()
            command = wapiti_command(wapiti, rules, name, base, work, report, login)
            log = reports / f"wapiti-{name}.log"
            scans[name] = (report, log, stack.enter_context(running(command, env, log)))
        deadline = time.monotonic() + longest_scan_seconds(rules)
        for name, (report, log, process) in scans.items():
            try:
                status = process.wait(timeout=max(deadline - time.monotonic(), 1))
            except subprocess.TimeoutExpired:
                print(f"{name}: wapiti still ran after {longest_scan_seconds(rules)} s; stopped")
                continue
            logs[name] = log.read_text(encoding="utf-8", errors="replace")
            if status != 0 or not report.exists():
                print(f"{name}: wapiti failed (exit {status}); its log is {log}")
                continue
            found[name] = json.loads(report.read_text(encoding="utf-8"))
        # The app must have lived through the scan: requests to a dead app
        # are network errors, which wapiti does not count as findings.
        if app.poll() is not None:
            found.clear()
            print(f"the app stopped during the scan; its log is {app_log}")
    return judge(found, rules, logs)


def longest_scan_seconds(rules: Mapping) -> int:
    """How long a pass may take: the crawl's bound, each module's, a margin."""
    scan = rules["scan"]
    return scan["max_scan_seconds"] + len(scan["modules"]) * scan["max_attack_seconds"] + 120


def read_reports(directory: Path) -> tuple[dict[str, dict], dict[str, str]]:
    reports = {
        path.stem.removeprefix("report-"): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("report-*.json"))
    }
    logs = {
        path.stem.removeprefix("wapiti-"): path.read_text(encoding="utf-8", errors="replace")
        for path in sorted(directory.glob("wapiti-*.log"))
    }
    return reports, logs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wapiti", default=str(ROOT / ".venv-dast" / "bin" / "wapiti"))
    parser.add_argument(
        "--reports", type=Path, default=ROOT / "dast", help="where report-PASS.json go"
    )
    parser.add_argument(
        "--check", action="store_true", help="judge the reports already there; scan nothing"
    )
    args = parser.parse_args(argv)
    rules = load_rules()
    if args.check:
        reports, logs = read_reports(args.reports)
        return judge(reports, rules, logs)
    return scan(args.wapiti, args.reports.resolve(), rules)


if __name__ == "__main__":
    sys.exit(main())
