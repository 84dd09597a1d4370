"""Tables, a straight-line fit and a verdict per target for
scripts/bench-generate.sh, printed and written as Markdown for
docs/performance.md (standard library only)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

TARGET_MS = 20.0
TARGET_PEAK_MB = 40.0


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


def fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least squares y = a + b x; returns a, b and R²."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    a = my - b * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - (a + b * x)) ** 2 for x, y in zip(xs, ys))
    return a, b, 1 - ss_res / ss_tot if ss_tot else 1.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", required=True)
    parser.add_argument("--largest", required=True)
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()
    results = Path(args.results)

    rows = []
    for line in (results / "cases.tsv").read_text().splitlines():
        label, files, size, peak_kb, flags = line.split("\t")
        run = json.loads((results / f"hyperfine-{label}.json").read_text())["results"][0]
        times = [t * 1000 for t in run["times"]]
        rows.append(
            {
                "label": label,
                "files": int(files),
                "kb": int(size) / 1024,
                "peak_mb": int(peak_kb) / 1024,
                "median": statistics.median(times),
                "stddev": statistics.stdev(times),
                "min": min(times),
                "max": max(times),
                "runs": len(times),
                "git": "+git" in label,
            }
        )
    plain = [r for r in rows if not r["git"] and r["label"] != "defaults"]
    a, b, r2 = fit([r["kb"] for r in plain], [r["median"] for r in plain])

    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()};"
        f" hyperfine, {rows[0]['runs']} runs after a warm-up, each into a fresh directory;"
        " peak memory is the largest maximum resident set of 5 runs (`/usr/bin/time`).",
        "",
        "| combination | files | KB written | median ms | σ ms | min–max ms | peak MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| `{r['label']}` | {r['files']} | {r['kb']:.0f} | {r['median']:.1f} | {r['stddev']:.1f}"
            f" | {r['min']:.1f}–{r['max']:.1f} | {r['peak_mb']:.1f} |"
        )
    lines += [
        "",
        f"Rows without `+git` pass `--no-git`; `+git` rows include `git init`, `git add` and `git commit`"
        f" (three git processes). Straight-line fit over the {len(plain)} `--no-git` combinations:"
        f" time = {a:.2f} ms + {b * 1000:.1f} µs per KB (R² = {r2:.2f}); the fixed part is the process"
        " start, loading the blueprint and writing the staging directory. Per file, after the fixed part:",
        "",
        "| combination | µs per file | µs per KB |",
        "|---|---:|---:|",
    ]
    for r in plain:
        variable = r["median"] - a
        lines.append(f"| `{r['label']}` | {variable / r['files'] * 1000:.0f} | {variable / r['kb'] * 1000:.1f} |")

    bench = []
    for line in (results / "go-bench.txt").read_text().splitlines():
        m = re.match(r"^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+([\d.]+) ns/op(?:\s+([\d.]+) MB/s)?\s+(\d+) B/op\s+(\d+) allocs/op", line)
        if m:
            bench.append(m.groups())
    lines += [
        "",
        "In-process Go benchmarks (`go test -bench . -benchmem ./generator/`):",
        "",
        "| benchmark | ms/op | MB/s | KB allocated/op | allocs/op |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, _, ns, mbs, bytes_op, allocs in bench:
        lines.append(
            f"| {name} | {float(ns) / 1e6:.2f} | {mbs or '–'} | {int(bytes_op) / 1024:,.0f} | {int(allocs):,} |"
        )

    largest = next(r for r in rows if r["label"] == args.largest)
    largest_git = next((r for r in rows if r["label"] == args.largest + "+git"), None)
    peak = max(r["peak_mb"] for r in rows)
    verdicts = [
        (f"largest combination, whole process, median < {TARGET_MS:.0f} ms", f"{largest['median']:.1f} ms",
         largest["median"] < TARGET_MS, TARGET_MS - largest["median"]),
        (f"peak memory < {TARGET_PEAK_MB:.0f} MB", f"{peak:.1f} MB", peak < TARGET_PEAK_MB, None),
        ("cost linear in bytes written (R² of the fit)", f"{r2:.2f}", r2 >= 0.9, None),
    ]
    lines += ["", "| target | measured | verdict |", "|---|---:|---|"]
    for target, measured, ok, _ in verdicts:
        lines.append(f"| {target} | {measured} | {'met' if ok else 'MISSED'} |")
    if largest_git:
        over = largest_git["median"] - TARGET_MS
        lines.append(
            f"| the same with git (default `rampart new`) | {largest_git['median']:.1f} ms |"
            f" {'met' if over < 0 else f'MISSED by {over:.1f} ms: the three git processes'} |"
        )
    text = "\n".join(lines) + "\n"
    Path(args.markdown).write_text(text)
    print(text)
    if args.strict and not all(ok for _, _, ok, _ in verdicts):
        sys.exit(1)


if __name__ == "__main__":
    main()
