"""Checks a running app's JSON log for the warnings the live probe provoked.

    python logged_events.py LOG EVENT...

Each EVENT must appear as a WARNING line with the method, path and client
address; no line may carry a CSRF token value, a cookie or a password the
probe sent. Prints one ok/FAIL line per event; exit 1 on any failure.
"""

import json
import sys

# What the probe sends that must never reach a log line.
SECRETS = ("wrong-password-123", "csrf_token=", "__Host-session=")


def main() -> int:
    path, *events = sys.argv[1:]
    entries, leaks = [], []
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            if any(secret in line for secret in SECRETS):
                leaks.append(line.strip()[:200])
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # gunicorn's own lines
            if isinstance(entry, dict):
                entries.append(entry)
    failed = False
    for event in events:
        found = [e for e in entries if e.get("event") == event]
        good = [
            e for e in found if e.get("level") == "WARNING" and e.get("path") and e.get("client")
        ]
        if good:
            shown = {k: v for k, v in good[0].items() if k not in ("time", "logger", "request_id")}
            print(f"  ok   the app logged {event}: {len(good)} warning(s), e.g. {json.dumps(shown)}")
        else:
            print(f"  FAIL the app did not log {event} as a warning with path and client ({found[:1]})")
            failed = True
    for leak in leaks:
        print(f"  FAIL a log line carries what the probe sent as a secret: {leak}")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
