"""Fuzz a running project's JSON API from its own OpenAPI document with
schemathesis: register an account, confirm it through the link the mail
catcher caught, log in, and let schemathesis call every operation with that
access token (and without it). Fails on any 5xx, and on any answer whose
status, content type, headers or body the document does not allow, or that
a missing token does not stop.

Usage: fuzz_api.py --base https://localhost [--cafile CERT] --mail-dir DIR
                   --schemathesis BIN --report DIR
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "ignored_auth",
    ]
)


def post(base: str, path: str, body: dict, context: ssl.SSLContext | None) -> tuple[int, dict, dict]:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"{}"), dict(answer.headers)
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}"), dict(refused.headers)


def post_when_allowed(base, path, body, context) -> tuple[int, dict]:
    """POST, waiting out a 429 (the probes before this one may have spent
    the minute's log-in allowance of this client address)."""
    for _ in range(3):
        status, answer, headers = post(base, path, body, context)
        if status != 429:
            return status, answer
        time.sleep(min(int(headers.get("Retry-After", "60")), 65) + 1)
    return status, answer


def mailed_token(folder: Path, recipient: str, page: str) -> str:
    pattern = re.compile(re.escape(page) + r"\?token=([A-Za-z0-9._-]+)")
    for _ in range(100):
        for mail in sorted(folder.glob("*.txt"), reverse=True):
            text = mail.read_text(encoding="utf-8", errors="replace")
            found = f"To: {recipient}" in text and pattern.search(text)
            if found:
                return found.group(1)
        time.sleep(0.1)
    sys.exit(f"  FAIL fuzz: no {page} link for {recipient} reached {folder} in 10 s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--cafile", help="the CA of an https:// base")
    parser.add_argument("--mail-dir", required=True, type=Path)
    parser.add_argument("--schemathesis", required=True)
    parser.add_argument("--report", required=True, type=Path)
    args = parser.parse_args()
    context = ssl.create_default_context(cafile=args.cafile) if args.cafile else None

    email = f"fuzz-{secrets.token_hex(4)}@example.com"
    # Not a password any example in the document shows, so no generated
    # request can delete the account or change it on purpose.
    password = secrets.token_urlsafe(24)
    status, _ = post_when_allowed(args.base, "/api/v1/auth/register", {"email": email, "password": password}, context)
    if status != 202:
        print(f"  FAIL fuzz: registering {email} answered {status}")
        return 1
    token = mailed_token(args.mail_dir, email, "confirm-address")
    status, _ = post_when_allowed(args.base, "/api/v1/auth/confirm", {"token": token, "password": password}, context)
    if status != 200:
        print(f"  FAIL fuzz: confirming {email} answered {status}")
        return 1
    status, tokens = post_when_allowed(args.base, "/api/v1/auth/token", {"email": email, "password": password}, context)
    if status != 200:
        print(f"  FAIL fuzz: logging in as {email} answered {status}")
        return 1
    print(f"  ok   fuzz: {email} registered, confirmed through the mailed link and logged in")

    args.report.mkdir(parents=True, exist_ok=True)
    command = [
        args.schemathesis, "run", f"{args.base}/api/v1/openapi.json",
        "--header", f"Authorization: Bearer {tokens['access_token']}",
        "--checks", CHECKS,
        "--max-examples", "20",
        "--seed", "20261205",
        "--workers", "1",
        *(["--tls-verify", str(Path(args.cafile).resolve())] if args.cafile else []),
        "--report", "junit",
        "--report-dir", str(args.report.resolve()),
        "--no-color",
        # It would end the very log-in the run uses (tests/test_openapi.py calls it).
        "--exclude-operation-id", "api_account_log_out_everywhere",
    ]  # fmt: skip
    started = time.monotonic()
    # In the report folder: schemathesis keeps its cache (.schemathesis) in the working directory.
    run = subprocess.run(
        command, capture_output=True, text=True, check=False, cwd=args.report.resolve()
    )
    output = run.stdout + run.stderr
    # Each phase's heading and the tally under it, such as "Coverage: 21 passed".
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    summary = [
        f"{re.sub(r'^[^A-Za-z]*', '', line).split(' (')[0]}: {re.sub(r'[^A-Za-z0-9 ]', '', lines[i + 1]).strip()}"
        for i, line in enumerate(lines[:-1])
        if re.search(r"\b(Examples|Coverage|Fuzzing|Stateful) \(in ", line)
    ]
    if run.returncode != 0:
        print(output[-6000:])
        print(f"  FAIL fuzz: schemathesis found answers the document does not allow (exit {run.returncode})")
        return 1
    # A token that stopped working halfway would have made every later answer a documented 401.
    me = urllib.request.Request(
        f"{args.base}/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    try:
        with urllib.request.urlopen(me, context=context, timeout=30) as answer:
            still = answer.status
    except urllib.error.HTTPError as refused:
        still = refused.code
    if still != 200:
        print(f"  FAIL fuzz: the run's access token no longer works afterwards (GET /me: {still})")
        return 1
    print(f"  ok   fuzz: schemathesis, every operation of the OpenAPI document, checks {CHECKS} "
          f"({round(time.monotonic() - started)} s): {'; '.join(summary)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
