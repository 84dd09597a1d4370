"""Links from the mail a generated project's catcher saved (tests/dev_mail.py
writes NNNN.txt: the recipients, the subject and the text part)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlsplit


def mailed_link(folder: str, email: str, path: str, timeout: float = 10) -> str:
    """The path and query of the newest link to ``path`` mailed to ``email``."""
    pattern = re.compile(r"https?://\S+?(" + re.escape(path) + r"\?token=[A-Za-z0-9._-]+)")
    deadline = time.monotonic() + timeout
    while True:
        for saved in sorted(Path(folder).glob("*.txt"), reverse=True):
            text = saved.read_text(encoding="utf-8")
            match = pattern.search(text)
            if match and f"To: {email}\n" in text:
                return match.group(1)
        if time.monotonic() > deadline:
            raise SystemExit(f"no {path} link for {email} reached {folder} in {timeout} s")
        time.sleep(0.1)


def token_of(link: str) -> str:
    return urlsplit(link).query.partition("token=")[2]
