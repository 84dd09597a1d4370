"""Static checks of one generated project, for scripts/matrix.sh.

Fails (exit 1, one line per problem) on a leftover template delimiter in
any text file, and on any YAML, TOML or JSON file that does not parse.

    python check_files.py PROJECT_DIR
"""

import json
import sys
import tomllib
from pathlib import Path

import yaml

DELIMITERS = ("<%", "%>")
SKIP_DIRS = {".git", ".venv", "__pycache__"}


def problems(root: Path):
    for path in sorted(root.rglob("*")):
        if not path.is_file() or SKIP_DIRS & set(path.relative_to(root).parts):
            continue
        name = path.relative_to(root)
        data = path.read_bytes()
        if b"\0" in data:
            continue  # a data file copied byte for byte (the common-password list)
        text = data.decode("utf-8")
        for delimiter in DELIMITERS:
            if delimiter in text:
                line = text[: text.index(delimiter)].count("\n") + 1
                yield f"{name}:{line}: leftover template delimiter {delimiter}"
        try:
            if path.suffix in {".yaml", ".yml"}:
                list(yaml.safe_load_all(text))
            elif path.suffix == ".toml":
                tomllib.loads(text)
            elif path.suffix == ".json":
                json.loads(text)
        except (yaml.YAMLError, tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
            yield f"{name}: does not parse: {error}"


def main() -> int:
    found = list(problems(Path(sys.argv[1])))
    for problem in found:
        print(problem)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
