"""Print the shell a generated pipeline would run, so a proof runs exactly it.

  ci_steps.py github WORKFLOW JOB STEP-NAME   the run: of that named step
  ci_steps.py gitlab PIPELINE JOB             the job's script: items, in order
  ci_steps.py gitlab-variables PIPELINE JOB   the job's variables:, NAME=VALUE lines
"""

import sys

import yaml


def main(argv: list[str]) -> int:
    kind, path, job = argv[1], argv[2], argv[3]
    with open(path, encoding="utf-8") as handle:
        pipeline = yaml.safe_load(handle)
    if kind == "github":
        steps = pipeline["jobs"][job]["steps"]
        runs = [step["run"] for step in steps if step.get("name") == argv[4]]
        if len(runs) != 1:
            sys.exit(f"{path}: job {job} has {len(runs)} steps named {argv[4]!r}")
        print(runs[0])
    elif kind == "gitlab":
        print("\n".join(pipeline[job]["script"]))
    elif kind == "gitlab-variables":
        for name, value in pipeline[job].get("variables", {}).items():
            print(f"{name}={value}")
    else:
        sys.exit(f"unknown pipeline kind {kind!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
