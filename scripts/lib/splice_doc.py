"""Replace the text between <!-- NAME:begin --> and <!-- NAME:end --> in a
Markdown file with the contents of another file, so the figures in a
document are the ones a script printed, never typed in.

Usage: splice_doc.py DOC NAME FRAGMENT
"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> None:
    doc, name, fragment = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = doc.read_text()
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        sys.exit(f"{doc}: needs exactly one {begin} followed by one {end}")
    head, rest = text.split(begin)
    _, tail = rest.split(end)
    doc.write_text(f"{head}{begin}\n{fragment.read_text().rstrip()}\n{end}{tail}")


if __name__ == "__main__":
    main()
