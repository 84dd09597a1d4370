"""The dynamic scan's configuration (dast/rules.toml) and its judge
(dast/scan.py). The scan itself runs in make dast and CI's dast job: it takes
a minute or two, too long for the suite."""

from __future__ import annotations

import copy
import importlib.util
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# wapiti 3.2.3's modules (wapiti --list-modules), and those it runs when none is named.
WAPITI_MODULES = {
    "backup", "brute_login_form", "buster", "cms", "cookieflags", "crlf", "csp", "csrf", "exec",
    "file", "htaccess", "htp", "http_headers", "https_redirect", "ldap", "log4shell", "methods",
    "network_device", "nikto", "permanentxss", "redirect", "shellshock", "spring4shell", "sql",
    "ssl", "ssrf", "takeover", "timesql", "upload", "wapp", "wp_enum", "xss", "xxe",
}  # fmt: skip
WAPITI_DEFAULT_MODULES = {
    "cookieflags", "csp", "exec", "file", "http_headers", "permanentxss",
    "redirect", "sql", "ssl", "ssrf", "upload", "xss",
}  # fmt: skip


@pytest.fixture(scope="module")
def scan():
    spec = importlib.util.spec_from_file_location("dast_scan", ROOT / "dast" / "scan.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def rules(scan):
    return scan.load_rules()


def clean_reports(rules):
    """Reports as wapiti writes them for a clean scan that reached every page."""
    reports = {}
    for name, scan_pass in rules["passes"].items():
        paths = [*scan_pass["must_reach"], *filter(None, [scan_pass.get("signed_in")])]
        pages = [
            {"request": {"url": f"https://localhost:8443{path}", "status_code": 200}}
            for path in paths
        ]
        reports[name] = {
            "vulnerabilities": {"Cross Site Scripting": []},
            "anomalies": {"Internal Server Error": []},
            "additionals": {},
            "infos": {
                "version": "Wapiti 3.2.3",
                "crawled_pages_nbr": len(pages),
                "crawled_pages": pages,
                "auth": {"logged_in": True} if "login_path" in scan_pass else None,
            },
        }
    return reports


def answered(rules, name, path, status):
    """Clean reports, but in pass NAME the app answered PATH with STATUS."""
    reports = clean_reports(rules)
    for page in reports[name]["infos"]["crawled_pages"]:
        if page["request"]["url"].endswith(path):
            page["request"]["status_code"] = status
    return reports


FINDING = {"method": "POST", "path": "/notes/new", "parameter": "title", "info": "XSS in title"}


def test_every_default_module_is_run_or_has_a_reason(rules):
    run, not_run = set(rules["scan"]["modules"]), rules["not_run"]
    assert run <= WAPITI_MODULES, f"not wapiti modules: {run - WAPITI_MODULES}"
    assert not run & set(not_run), "a module is both run and not run"
    assert run | set(not_run) >= WAPITI_DEFAULT_MODULES
    assert all(len(reason) > 20 for reason in not_run.values())
    # The injection, CSRF, header and cookie modules always run.
    assert {"xss", "permanentxss", "sql", "exec", "csrf", "http_headers", "cookieflags"} <= run


def test_the_scan_stays_on_this_machine(scan, rules, tmp_path, monkeypatch):
    monkeypatch.setattr(scan, "access_token", lambda url, login: "token", raising=False)
    base = "https://localhost:8443"
    for name in rules["passes"]:
        login = scan.Login("a@b.c", "-pw")  # a password may begin with "-"
        report = tmp_path / "r.json"
        command = scan.wapiti_command("wapiti", rules, name, base, tmp_path, report, login)

        def option(name, command=command):
            return command[command.index(name) + 1]

        assert "--no-bugreport" in command
        assert option("--endpoint") == base + "/"
        assert option("--url") == base + "/" and option("--scope") == "folder"
        assert "ssrf" not in option("--module").split(",")
        if "login_path" in rules["passes"][name]:
            assert "--form-password=-pw" in command and "-pw" not in command
        urls = [value for value in command if value.startswith("http")]
        assert all(url.startswith(base) for url in urls), urls


def test_the_scanned_app_differs_from_production_only_by_its_rate_limits(rules):
    assert all(re.fullmatch(r"[A-Z_]+_RATE_LIMIT", name) for name in rules.get("app", {}))


def test_every_explained_finding_says_what_and_why(rules):
    for entry in rules.get("explained", []):
        assert {"section", "category", "path", "reason"} <= set(entry), entry
        assert entry["section"] in {"vulnerabilities", "anomalies", "additionals"}, entry
        assert len(entry["reason"]) > 20, entry


def test_the_judge_fails_on_what_the_rules_do_not_explain(scan, rules):
    assert scan.judge(clean_reports(rules), rules, {}) == 0

    for section, category in (
        ("vulnerabilities", "Cross Site Scripting"),
        ("anomalies", "Internal Server Error"),
        ("additionals", "HTTP Methods"),
    ):
        reports = clean_reports(rules)
        reports["visitor"][section][category] = [FINDING]
        assert scan.judge(reports, rules, {}) == 1, section

        explained = copy.deepcopy(rules)
        entry = {"section": section, "category": category, "path": "/notes/new", "reason": "why"}
        explained["explained"] = [entry]
        assert scan.judge(reports, explained, {}) == 0
        explained["explained"] = [{**entry, "path": "/notes"}]
        assert scan.judge(reports, explained, {}) == 1
        explained["explained"] = [{**entry, "parameter": "body"}]
        assert scan.judge(reports, explained, {}) == 1


def test_the_judge_fails_on_a_scan_that_did_not_reach_its_pages(scan, rules):
    for name, scan_pass in rules["passes"].items():
        reports = clean_reports(rules)
        del reports[name]
        assert scan.judge(reports, rules, {}) == 1, f"{name}: no report"

        first = scan_pass["must_reach"][0]
        reports = clean_reports(rules)
        pages = reports[name]["infos"]["crawled_pages"]
        pages[:] = [page for page in pages if not page["request"]["url"].endswith(first)]
        assert scan.judge(reports, rules, {}) == 1, f"{name}: a page not reached"

        # Queued but never fetched: listed without a status.
        assert scan.judge(answered(rules, name, first, None), rules, {}) == 1, f"{name}: queued"

        if "signed_in" in scan_pass:
            signed_out = answered(rules, name, scan_pass["signed_in"], 401)
            assert scan.judge(signed_out, rules, {}) == 1, f"{name}: not signed in"

        if "login_path" in scan_pass:
            reports = clean_reports(rules)
            reports[name]["infos"]["auth"]["logged_in"] = False
            assert scan.judge(reports, rules, {}) == 1, f"{name}: the log-in failed"


def test_the_judge_fails_on_requests_lost_or_a_module_broken(scan, rules):
    reports = clean_reports(rules)
    # A module stopped at its time bound loses the requests then in flight.
    bounded = (
        "[*] Launching module xss\nMax attack time was reached for module xss, stopping.\n"
        "1 requests were skipped due to network issues\n"
    )
    assert scan.judge(reports, rules, {"visitor": bounded}) == 0
    # A few, no more, may be lost anywhere (a keep-alive connection closed
    # as wapiti reuses it).
    tolerated = rules["scan"]["lost_requests_tolerated"]
    assert 0 < tolerated <= 3
    few = f"[*] Launching module sql\n{tolerated} requests were skipped due to network issues\n"
    assert scan.judge(reports, rules, {"visitor": few}) == 0
    one_more = "[*] Launching module xss\n1 requests were skipped due to network issues\n"
    assert scan.judge(reports, rules, {"visitor": few + one_more}) == 1
    for trouble in (
        "12 requests were skipped due to network issues",
        "Module sql seems broken and will be skipped",
        "Traceback (most recent call last):",
    ):
        log = f"[*] Launching module sql\n{trouble}\n"
        assert scan.judge(reports, rules, {"visitor": log}) == 1


def test_the_scanner_is_installed_from_its_own_hash_lock():
    wanted = (ROOT / "dast" / "requirements.in").read_text(encoding="utf-8")
    lock = (ROOT / "dast" / "requirements.lock").read_text(encoding="utf-8")
    pins = re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+)", lock, re.MULTILINE)
    entries = re.split(r"\n(?=[a-z0-9])", lock.split("\n", 2)[2].strip())
    assert len(entries) == len(pins) > 50
    assert all("--hash=sha256:" in entry for entry in entries)
    (pin,) = re.findall(r"^wapiti3==\S+$", wanted, re.MULTILINE)
    assert re.search(rf"^{re.escape(pin)} \\$", lock, re.MULTILINE)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--require-hashes -r dast/requirements.lock" in makefile


def test_ci_scans_with_the_tests_servers_before_the_image_is_built():
    jobs = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text(encoding="utf-8"))["jobs"]
    dast, test = jobs["dast"], jobs["test"]
    assert dast.get("services") == test.get("services")
    assert dast.get("env") == test.get("env")
    assert dast["permissions"] == {"contents": "read"}
    runs = "\n".join(step.get("run", "") for step in dast["steps"])
    assert "--require-hashes -r dast/requirements.lock" in runs
    assert "python dast/scan.py --wapiti .venv-dast/bin/wapiti" in runs
    assert "dast" in jobs["image"]["needs"]
