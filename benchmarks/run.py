"""Measure the performance targets and write them to benchmarks/README.md.

    python3 run.py test                           # once: makes .venv-test (Frictionless, for comparison)
    python3 run.py build                          # once: makes .venv (the tool, as curators run it)
    .venv/bin/python benchmarks/run.py            # real data, 1,000, 10,000 and 100,000 actions (about 8 minutes)
    .venv/bin/python benchmarks/run.py --quick    # real data, 1,000 and 10,000 only
    .venv/bin/python benchmarks/run.py --report   # README.md again from results.json, measuring nothing

`etl` is measured as curators run it: one ordinary process from .venv, which holds only what the tool
needs. Every time is the median of repeated runs of a fresh process; memory is the process's peak
resident set. The curator's targets are ratios to a floor measured in the same run, each run of the
command paired with a run of the floor just before it, so that a machine whose speed drifts (this
one's varies by a third) moves both alike: the ratio shown is the median of the pairs' ratios.
Python is allowed to keep bytecode (PYTHONDONTWRITEBYTECODE is removed), as on a curator's machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks/results.json"  # every measurement, from which README.md is written
BIN = Path(sys.executable).parent
ETL = [str(BIN / "etl")]
PYTHON = [sys.executable]
IMPORTS = "import pandera.polars, pyarrow, click"  # what the validation path imports: the import floor
FRICTIONLESS = str(REPO / ".venv-test" / "bin" / "frictionless")  # `python3 run.py test` makes it (pandas reads Parquet)
ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
sys.path.insert(0, str(REPO / "benchmarks"))

from generate import generate  # noqa: E402

Measured = dict  # {"seconds": median, "peak_mb": largest peak, and for paired runs "floor": ..., "ratio": ...}


def run_once(command: list[str], cwd: Path = REPO) -> tuple[float, int]:
    """Seconds and peak memory (MB) of one fresh run; a failing run stops the benchmark."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=ENVIRONMENT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        assert process.stderr is not None
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss // 1024


def measure(command: list[str], repeat: int, before: Callable[[], object] | None = None) -> Measured:
    """The median of `repeat` fresh runs, each after `before`."""
    times, peaks = [], []
    for _ in range(repeat):
        if before:
            before()
        seconds, peak = run_once(command)
        times.append(seconds)
        peaks.append(peak)
    return {"seconds": statistics.median(times), "peak_mb": max(peaks)}


def paired(command: list[str], floor: list[str], repeat: int, before: Callable[[], object] | None = None) -> Measured:
    """`command` against `floor`: each run of the command just after one of the floor."""
    times, floors, ratios, peaks = [], [], [], []
    for _ in range(repeat):
        floor_seconds, _ = run_once(floor)
        if before:
            before()
        seconds, peak = run_once(command)
        times.append(seconds)
        floors.append(floor_seconds)
        ratios.append(seconds / floor_seconds)
        peaks.append(peak)
    return {"seconds": statistics.median(times), "peak_mb": max(peaks), "floor": statistics.median(floors),
            "ratio": statistics.median(ratios)}


def yaml_floor(root: Path) -> list[str]:
    """A command that parses the project's raw files with yaml.CSafeLoader and nothing else."""
    code = (
        "import sys, yaml, pathlib\n"
        "for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.yaml')):\n"
        "    yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader)\n"
    )
    return [*PYTHON, "-c", code, str(root / "raw")]


def clear_cache(root: Path) -> Callable[[], None]:
    return lambda: shutil.rmtree(root / ".etl-cache", ignore_errors=True)


def append_to_one_file(path: Path) -> Callable[[], None]:
    """Change one raw file's bytes (a different YAML comment at its end each time): it must be read
    and checked again, though what it says is unchanged."""
    original = path.read_text()
    counter = [0]

    def change() -> None:
        counter[0] += 1
        path.write_text(f"{original}# edit {counter[0]}\n")

    return change


def touch_one_file(root: Path) -> Callable[[], None]:
    """Change one raw file's content (a different summary each time), as a curator's edit would."""
    path = sorted((root / "raw/jurisdictions").rglob("*.yaml"))[0]
    original = path.read_text()
    counter = [0]

    def change() -> None:
        counter[0] += 1
        path.write_text(original.replace("for benchmarking the build.", f"for benchmarking the build, edit {counter[0]}.", 1))

    return change


def real_data(folder: Path, repeat: int) -> dict[str, Measured]:
    """The curator's runs on a copy of this repository's raw data, each paired with the import floor."""
    root = folder / "real"
    for part in ("raw", "schemas", "datasets", "imports"):
        shutil.copytree(REPO / part, root / part)
    shutil.copy(REPO / "datapackage.json", root)
    change = append_to_one_file(root / "raw/jurisdictions/va/fairfax-county.yaml")
    floor = [*PYTHON, "-c", IMPORTS]
    validate, build = [*ETL, "--root", str(root), "validate"], [*ETL, "--root", str(root), "build"]
    run_once(validate)  # bytecode and a cache to start from
    return {
        "yaml floor": measure(yaml_floor(root), repeat),
        "validate, one file changed": paired(validate, floor, repeat, before=change),
        "validate, no cache": paired(validate, floor, repeat, before=clear_cache(root)),
        "validate, nothing changed": paired(validate, floor, repeat),
        "build, one file changed": paired(build, floor, repeat, before=change),
        "build, no cache": paired(build, floor, repeat, before=clear_cache(root)),
        "build, nothing changed": paired(build, floor, repeat),
    }


def imports(folder: Path) -> dict[str, Measured]:
    """`etl import ice-287g` of every archived edition into a project without ICE's layer and without a
    cache (every workbook read), and of one new edition (the latest participating one, archived then
    imported, with the others' workbooks cached), each once: an import rewrites what it measures."""
    root = folder / "imports"
    for part in ("schemas", "imports", "archive"):
        shutil.copytree(REPO / part, root / part)
    shutil.copytree(REPO / "raw/jurisdictions", root / "raw/jurisdictions")
    shutil.copytree(REPO / "raw/sources", root / "raw/sources", ignore=shutil.ignore_patterns("ice-287g-*"))
    manifest = (root / "archive/MANIFEST.csv").read_text().splitlines()
    with open(REPO / "datasets/sources.csv", newline="") as handle:
        latest = max((row for row in csv.DictReader(handle) if row["edition_of"] == "ice_287g_participating"), key=lambda row: row["as_of"])
    with open(REPO / "datasets/source_files.csv", newline="") as handle:
        name = next(row["file"] for row in csv.DictReader(handle) if row["source_id"] == latest["source_id"])
    newest = next(line for line in manifest if line.startswith(f"ice-287g,{name},"))
    held = folder / name
    shutil.move(root / "archive/ice-287g" / name, held)
    (root / "archive/MANIFEST.csv").write_text("\n".join(line for line in manifest if line != newest) + "\n")
    command = [*ETL, "--root", str(root), "import", "ice-287g"]
    results = {"import ice-287g, every archived edition, no cache": measure(command, 1)}
    keep = [*ETL, "--root", str(root), "archive", "ice-287g", str(held), "--obtained-from", "https://www.ice.gov/identify-and-arrest/287g"]
    started = time.perf_counter()
    run_once(keep)
    seconds, peak = run_once(command)
    results[f"archive and import one new edition ({name})"] = {"seconds": time.perf_counter() - started, "peak_mb": peak}
    return results


def startup(repeat: int) -> dict[str, Measured]:
    run_once([*ETL, "--help"])
    return {
        "etl --help": paired([*ETL, "--help"], [*PYTHON, "-c", "pass"], repeat),
        f"python -c '{IMPORTS}'": measure([*PYTHON, "-c", IMPORTS], repeat),
    }


def scale(actions: int, folder: Path, repeat: int, frictionless: bool) -> dict:
    root = folder / f"actions-{actions}"
    generate(root, actions)
    size = sum(p.stat().st_size for p in (root / "raw").rglob("*.yaml"))
    files = sum(1 for _ in (root / "raw").rglob("*.yaml"))
    build, validate = [*ETL, "--root", str(root), "build"], [*ETL, "--root", str(root), "validate"]
    change = touch_one_file(root)
    results: dict = {"raw": {"megabytes": size / 1e6, "files": files}}
    results["yaml floor"] = measure(yaml_floor(root), repeat)
    results["build, cold"] = measure(build, repeat, before=clear_cache(root))
    results["build, nothing changed"] = measure(build, repeat)
    results["build, one file changed"] = measure(build, repeat, before=change)
    results["validate, one file changed"] = measure(validate, repeat, before=change)
    if frictionless and Path(FRICTIONLESS).exists() and actions >= 100_000:
        results["frictionless validate (comparison)"] = measure([FRICTIONLESS, "validate", str(root / "datapackage.json")], 1)
    return results


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    memory = ""
    if Path("/proc/meminfo").exists():
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    return f"{os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def measure_all(quick: bool, repeat: int, frictionless: bool) -> dict:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "etl"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    sizes = [1_000, 10_000] + ([] if quick else [100_000])
    with tempfile.TemporaryDirectory() as folder:
        results = {
            "context": {"machine": machine(), "commit": commit + (" with uncommitted changes to etl/" if dirty else "")},
            "startup": startup(15),
            "real": real_data(Path(folder), repeat * 3 + 1),
            "imports": imports(Path(folder)),
        }
        results["scales"] = {n: scale(n, Path(folder), repeat if n < 100_000 else max(1, repeat - 1), frictionless) for n in sizes}
    return results


def targets(results: dict) -> list[tuple[str, str, bool]]:
    """(target, what was measured, whether it is met)."""
    help_, real = results["startup"]["etl --help"], results["real"]
    found = [("`etl --help` within 5x `python -c pass`", f"{help_['seconds']:.3f} s, {help_['ratio']:.1f}x", help_["ratio"] <= 5)]
    for case, limit in (("one file changed", 1.5), ("no cache", 2.0), ("nothing changed", 0.6)):
        measured = real[f"validate, {case}"]
        found.append((f"real data: `etl validate` ({case}) within {limit}x the import floor",
                      f"{measured['seconds']:.3f} s, {measured['ratio']:.2f}x (floor {measured['floor']:.3f} s)", measured["ratio"] <= limit))
    scales = {int(n): measured for n, measured in results["scales"].items()}
    if 100_000 in scales:
        big, ten = scales[100_000], scales.get(10_000)
        floor, cold = big["yaml floor"]["seconds"], big["build, cold"]
        found += [
            ("100k: cold build within 2x the YAML-parse floor", f"{cold['seconds']:.1f} s vs {floor:.1f} s ({cold['seconds'] / floor:.2f}x)",
             cold["seconds"] <= 2 * floor),
            ("100k: cold build under 30 s", f"{cold['seconds']:.1f} s", cold["seconds"] < 30),
            ("100k: cold build peak memory under 1.5 GB", f"{cold['peak_mb']} MB", cold["peak_mb"] < 1536),
            ("100k: build with nothing changed under 2 s", f"{big['build, nothing changed']['seconds']:.2f} s",
             big["build, nothing changed"]["seconds"] < 2),
            ("100k: build after one file changed under 3 s", f"{big['build, one file changed']['seconds']:.2f} s",
             big["build, one file changed"]["seconds"] < 3),
            ("100k: validate after one file changed under 1.5 s", f"{big['validate, one file changed']['seconds']:.2f} s",
             big["validate, one file changed"]["seconds"] < 1.5),
        ]
        if ten:
            ratio = cold["seconds"] / ten["build, cold"]["seconds"]
            found.append(("100k cold build at most 12x the 10k one (linear growth)", f"{ratio:.1f}x", ratio <= 12))
    return found


def report(results: dict) -> str:
    lines = [
        "# Benchmarks", "",
        "Written by `benchmarks/run.py` (do not edit by hand); `benchmarks/results.json` keeps every number.",
        "Times are medians of repeated runs of a fresh `etl` process from `.venv`; memory is the peak resident",
        "set. A ratio compares a command with a floor run just before it each time (see run.py), so that",
        "the machine's drifting speed moves both alike. Synthetic projects come from `benchmarks/generate.py`.", "",
        f"Measured on: {results['context']['machine']}, at commit {results['context']['commit']}.", "",
        "## Targets", "",
        f"The import floor is `python -c \"{IMPORTS}\"`: what any run that checks a row must import.", "",
        "| target | measured | met |", "|---|---|---|",
        *[f"| {name} | {value} | {'yes' if ok else '**no**'} |" for name, value, ok in targets(results)], "",
        "## Start-up and real data", "",
        "| command | median | ratio to its floor | peak memory |", "|---|---|---|---|",
    ]
    rows = {**results["startup"], **{f"real data: {name}": measured for name, measured in results["real"].items()}}
    for name, measured in rows.items():
        ratio = f"{measured['ratio']:.2f}x of {measured['floor']:.3f} s" if "ratio" in measured else ""
        lines.append(f"| {name} | {measured['seconds']:.3f} s | {ratio} | {measured['peak_mb']} MB |")
    if "imports" in results:
        lines += ["", "## Importing ICE's 287(g) editions", "", "| measurement | time | peak memory |", "|---|---|---|",
                  *[f"| {name} | {m['seconds']:.1f} s | {m['peak_mb']} MB |" for name, m in results["imports"].items()]]
    lines += ["", "## Synthetic projects", ""]
    for actions, measured in results["scales"].items():
        raw = measured["raw"]
        lines += [f"### {int(actions):,} actions ({raw['megabytes']:.1f} MB of YAML in {raw['files']:,} files)", "",
                  "| measurement | median | peak memory |", "|---|---|---|",
                  *[f"| {name} | {m['seconds']:.2f} s | {m['peak_mb']} MB |" for name, m in measured.items() if name != "raw"], ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip 100,000 actions")
    parser.add_argument("--repeat", type=int, default=3, help="runs per synthetic measurement (median); real data runs 3x+1")
    parser.add_argument("--report", action="store_true", help="only write README.md again from results.json")
    parser.add_argument("--frictionless", action="store_true", help="also time `frictionless validate` at 100,000 actions (7 minutes)")
    args = parser.parse_args()
    if not args.report:
        RESULTS.write_text(json.dumps(measure_all(args.quick, args.repeat, args.frictionless), indent=1) + "\n", encoding="utf-8")
    text = report(json.loads(RESULTS.read_text("utf-8")))
    (REPO / "benchmarks/README.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
