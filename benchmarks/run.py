"""Measure the targets of the performance issue and write them to benchmarks/README.md.

    python3 run.py test                           # once: makes .venv (the tool) and .venv-test (Frictionless)
    .venv/bin/python benchmarks/run.py            # 1,000, 10,000 and 100,000 actions (about 20 minutes)
    .venv/bin/python benchmarks/run.py --quick    # 1,000 and 10,000 only
    .venv/bin/python benchmarks/run.py --report   # README.md again from results.json, measuring nothing

`etl` is measured as curators run it, from .venv, which holds only what the tool needs. Every time is
the median of repeated runs of a fresh process; memory is the process's peak resident set. The real
data is measured on a copy of raw/, with `etl` on its own and with the project's resident process
(`etl server start`); synthetic projects are written by benchmarks/generate.py; both go
into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks/results.json"  # every measurement, from which README.md is written
BIN = Path(sys.executable).parent
ETL = [str(BIN / "etl")]
IMPORT_FLOOR = "python -c 'import pandera.polars, pyarrow'"  # what any run that checks a row must import
FRICTIONLESS = str(REPO / ".venv-test" / "bin" / "frictionless")  # `python3 run.py test` makes it (pandas reads Parquet)
sys.path.insert(0, str(REPO / "benchmarks"))

from generate import generate  # noqa: E402


def measure(command: list[str], repeat: int, before=None, cwd=REPO) -> tuple[float, int]:
    """Median seconds and the largest peak memory (MB) over `repeat` fresh runs."""
    times, peaks = [], []
    for _ in range(repeat):
        if before:
            before()
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        times.append(time.perf_counter() - started)
        peaks.append(usage.ru_maxrss // 1024)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode()[-2000:]}")
    return statistics.median(times), max(peaks)


def yaml_floor(root: Path) -> list[str]:
    """A command that parses the project's raw files with yaml.CSafeLoader and nothing else."""
    code = (
        "import sys, yaml, pathlib\n"
        "for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.yaml')):\n"
        "    yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader)\n"
    )
    return [sys.executable, "-c", code, str(root / "raw")]


def clear_cache(root: Path):
    """Empty .etl-cache/, except for a resident process's socket, lock and log."""
    def clear():
        for path in (root / ".etl-cache").glob("*"):
            if not path.name.startswith("server."):
                path.unlink()
    return clear


def append_to_one_file(path: Path):
    """Change one raw file's bytes (a different YAML comment at its end each time): it must be read
    and checked again, though what it says is unchanged."""
    original = path.read_text()
    counter = [0]

    def change():
        counter[0] += 1
        path.write_text(f"{original}# edit {counter[0]}\n")

    return change


def real_data(folder: Path, repeat: int) -> tuple[dict[str, tuple[float, int]], int]:
    """The measurements on a copy of this repository's raw data, with `etl` on its own and with the
    project's resident process (`etl server start`); and that process's peak memory (MB)."""
    root = folder / "real"
    for part in ("raw", "schemas", "datasets"):
        shutil.copytree(REPO / part, root / part)
    shutil.copy(REPO / "datapackage.json", root)
    change = append_to_one_file(root / "raw/jurisdictions/va/fairfax-county.yaml")
    results = {"yaml floor": measure(yaml_floor(root), repeat)}
    results.update(curator_runs(root, repeat, change, "alone"))
    with resident_process(root):
        results.update(curator_runs(root, repeat, change, "with etl server"))
        server_memory = resident_peak_memory(root)
    return results, server_memory


def curator_runs(root: Path, repeat: int, change, way: str) -> dict[str, tuple[float, int]]:
    validate, build = ETL + ["--root", str(root), "validate"], ETL + ["--root", str(root), "build"]
    return {
        f"validate, cold, {way}": measure(validate, repeat, before=clear_cache(root)),
        f"validate, nothing changed, {way}": measure(validate, repeat),
        f"validate, one file changed, {way}": measure(validate, repeat, before=change),
        f"build, cold, {way}": measure(build, repeat, before=clear_cache(root)),
        f"build, nothing changed, {way}": measure(build, repeat),
        f"build, one file changed, {way}": measure(build, repeat, before=change),
    }


@contextmanager
def resident_process(root: Path):
    """The project's resident process (`etl server start`) while the block runs; stopped after it,
    whatever happens."""
    subprocess.run(ETL + ["--root", str(root), "server", "start"], check=True, stdout=subprocess.DEVNULL)
    try:
        yield
    finally:
        subprocess.run(ETL + ["--root", str(root), "server", "stop"], check=True, stdout=subprocess.DEVNULL)


def resident_peak_memory(root: Path) -> int:
    """The resident process's peak resident set (MB). The forks that run the commands are not counted
    in it, nor in the callers' peaks: their memory is about that of `etl` on its own."""
    status = subprocess.run(ETL + ["--root", str(root), "server", "status"], check=True, capture_output=True, text=True)
    pid = status.stdout.split()[2]
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


def touch_one_file(root: Path):
    """Change one raw file's content (a different summary each time), as a curator's edit would."""
    path = sorted((root / "raw/jurisdictions").rglob("*.yaml"))[0]
    original = path.read_text()
    counter = [0]

    def change():
        counter[0] += 1
        path.write_text(original.replace("for benchmarking the build.", f"for benchmarking the build, edit {counter[0]}.", 1))

    return change


def scale(actions: int, folder: Path, repeat: int) -> dict[str, tuple[float, int]]:
    root = folder / f"actions-{actions}"
    generate(root, actions)
    size = sum(p.stat().st_size for p in (root / "raw").rglob("*.yaml"))
    files = sum(1 for _ in (root / "raw").rglob("*.yaml"))
    results = {"raw": (size / 1e6, files)}
    results["yaml floor"] = measure(yaml_floor(root), repeat)
    build = ETL + ["--root", str(root), "build"]
    results["build, cold"] = measure(build, repeat, before=clear_cache(root))
    results["build, nothing changed"] = measure(build, repeat)
    change = touch_one_file(root)
    results["build, one file changed"] = measure(build, repeat, before=change)
    results["validate, one file changed"] = measure(ETL + ["--root", str(root), "validate"], repeat, before=change)
    with resident_process(root):
        results["build, one file changed, with etl server"] = measure(build, repeat, before=change)
        results["validate, one file changed, with etl server"] = measure(ETL + ["--root", str(root), "validate"], repeat, before=change)
    results["frictionless validate"] = measure([FRICTIONLESS, "validate", str(root / "datapackage.json")], 1)
    return results


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    memory = ""
    if Path("/proc/meminfo").exists():
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    return f"{os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip 100,000 actions")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--report", action="store_true", help="only write README.md again from results.json")
    args = parser.parse_args()
    if not args.report:
        RESULTS.write_text(json.dumps(measure_all(args.quick, args.repeat), indent=1) + "\n", encoding="utf-8")
    results = json.loads(RESULTS.read_text("utf-8"))
    scales = {int(actions): measured for actions, measured in results["scales"].items()}
    (REPO / "benchmarks/README.md").write_text(report(results["context"], results["startup"], results["real"], scales), encoding="utf-8")
    print((REPO / "benchmarks/README.md").read_text())


def measure_all(quick: bool, repeat: int) -> dict:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    startup = {
        "python -c pass": measure([sys.executable, "-c", "pass"], 10),
        "etl --help": measure(ETL + ["--help"], 10),
        IMPORT_FLOOR: measure([sys.executable, "-c", "import pandera.polars, pyarrow"], 10),
    }
    sizes = [1_000, 10_000] + ([] if quick else [100_000])
    with tempfile.TemporaryDirectory() as folder:
        real, server_memory = real_data(Path(folder), repeat * 2 + 1)
        scales = {n: scale(n, Path(folder), repeat if n < 100_000 else max(1, repeat - 1)) for n in sizes}
    return {"context": {"machine": machine(), "commit": commit, "server_memory_mb": server_memory},
            "startup": startup, "real": real, "scales": scales}


def report(context: dict, startup: dict, real: dict, scales: dict) -> str:
    bare, help_ = startup["python -c pass"][0], startup["etl --help"][0]
    targets = [("`etl --help` within 5x `python -c pass`", f"{help_:.3f} s vs {bare:.3f} s ({help_ / bare:.1f}x)", help_ <= 5 * bare)]
    for case in ("one file changed", "nothing changed"):
        for command, limit in (("validate", 0.5), ("build", 1.5)):
            served, alone = real[f"{command}, {case}, with etl server"][0], real[f"{command}, {case}, alone"][0]
            targets.append((f"real data: `etl {command}` under {limit} s ({case})",
                            f"{served:.2f} s with `etl server`; {alone:.2f} s without", served < limit))
    if 100_000 in scales:
        big, ten = scales[100_000], scales.get(10_000)
        floor, cold = big["yaml floor"][0], big["build, cold"]
        targets += [
            ("100k: cold build within 2x the YAML-parse floor", f"{cold[0]:.1f} s vs {floor:.1f} s ({cold[0] / floor:.2f}x)", cold[0] <= 2 * floor),
            ("100k: cold build under 30 s", f"{cold[0]:.1f} s", cold[0] < 30),
            ("100k: cold build peak memory under 1.5 GB", f"{cold[1]} MB", cold[1] < 1536),
            ("100k: rebuild with nothing changed under 2 s", f"{big['build, nothing changed'][0]:.2f} s", big["build, nothing changed"][0] < 2),
            *[(f"100k: {command} after one file changed under {limit} s",
               f"{big[f'{command}, one file changed, with etl server'][0]:.2f} s with `etl server`; {big[f'{command}, one file changed'][0]:.2f} s without",
               big[f"{command}, one file changed, with etl server"][0] < limit) for command, limit in (("build", 3), ("validate", 1.5))],
        ]
        if ten:
            ratio = cold[0] / ten["build, cold"][0]
            targets.append(("100k cold build at most 12x the 10k one (linear growth)", f"{ratio:.1f}x", ratio <= 12))
    lines = [
        "# Benchmarks", "",
        "Written by `benchmarks/run.py` (do not edit by hand). Times are medians of repeated runs of a fresh",
        "process; memory is the peak resident set of the process. Synthetic projects come from",
        "`benchmarks/generate.py`.", "",
        f"Measured on: {context['machine']}, at commit {context['commit']}.", "",
        "## Targets", "",
        "A curator's runs (`etl validate` or `etl build` after editing a file, or again with nothing changed",
        "on the real data) are measured as a curator works: with the project's resident process (`etl server",
        "start`, once), which keeps the libraries imported; the time without it is shown beside. Cold builds",
        "are measured without it.",
        "", "| target | measured | met |", "|---|---|---|",
        *[f"| {name} | {value} | {'yes' if ok else '**no**'} |" for name, value, ok in targets], "",
        "Not a target, shown because it is the slowest case on the real data: with no cache at all (the",
        "first run after a clone, or after the code or a library changed), `etl validate` took",
        f"{real['validate, cold, with etl server'][0]:.2f} s with `etl server` and {real['validate, cold, alone'][0]:.2f} s "
        f"without; `etl build` {real['build, cold, with etl server'][0]:.2f} s and {real['build, cold, alone'][0]:.2f} s.",
        f"Parsing the raw files with `yaml.CSafeLoader` and nothing else took {real['yaml floor'][0]:.2f} s of that.", "",
        "## Start-up and real data", "",
        "With `etl server`, the command runs in a fork of the resident process, so the peak shown is the",
        f"caller's only; the resident process's own peak was {context['server_memory_mb']} MB.", "",
        "| command | median | peak memory |", "|---|---|---|",
        *[f"| {name} | {t:.3f} s | {m} MB |" for name, (t, m) in {**startup, **{f'real data: {k}': v for k, v in real.items()}}.items()], "",
        "## Synthetic projects", "",
    ]
    for actions, results in scales.items():
        size, files = results.pop("raw")
        lines += [f"### {actions:,} actions ({size:.1f} MB of YAML in {files:,} files)", "",
                  "| measurement | median | peak memory |", "|---|---|---|",
                  *[f"| {name} | {t:.2f} s | {m} MB |" for name, (t, m) in results.items()], ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
