"""Print the first shell block of one section of a generated README, so that
scripts/newcomer.sh runs exactly what a reader would copy.

    python readme_block.py README.md "Run it"     # the first ```sh block under "## Run it"
    python readme_block.py README.md "Run it" TEXT   # the first of them holding TEXT

Exits 1 when the section or its shell block is missing: a README that lost
its commands must not pass by running nothing.
"""

import re
import sys
from pathlib import Path


def section_blocks(markdown: str, heading: str) -> list[str]:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    if not match:
        return []
    return re.findall(r"^```sh\n(.*?)^```", match.group(1), re.M | re.S)


def main() -> int:
    path, heading = sys.argv[1], sys.argv[2]
    holding = sys.argv[3] if len(sys.argv) > 3 else ""
    blocks = [b for b in section_blocks(Path(path).read_text(encoding="utf-8"), heading) if holding in b]
    if not blocks:
        print(f"{path}: no ```sh block under '## {heading}' holding {holding!r}", file=sys.stderr)
        return 1
    sys.stdout.write(blocks[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
