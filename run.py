"""Set up pinned environments and run a task. Needs only Python 3.11+ with venv and pip.

    python3 run.py build    build and validate the dataset (datasets/ and datapackage.json)
    python3 run.py test     run the test suite (on both cores)
    python3 run.py lint     ruff and mypy, as CI runs them
    python3 run.py check    what CI checks besides the tests: canonical raw files, current outputs and docs

Two environments: .venv (requirements.lock) holds the `etl` tool and what it needs, nothing more; it
is the one curators use (.venv/bin/etl). .venv-test (requirements-test.lock) adds the test and lint
tools and pandas, which Frictionless needs to read the Parquet resources. They are apart because
pandera imports pandas and hypothesis whenever they are installed, which would add over half a
second to every `etl validate`; `etl` itself uses neither.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BIN_DIR = "Scripts" if sys.platform == "win32" else "bin"
UV = "0.13.8"  # the installer's version (see _fast_installer)
TOOL = (ROOT / ".venv", ROOT / "requirements.lock")
TEST = (ROOT / ".venv-test", ROOT / "requirements-test.lock")
TASKS = {  # task -> (environment, lock file), commands
    "build": (TOOL, [["etl", "build"]]),
    "test": (TEST, [["pytest", "-q", "-n", "2"]]),
    "lint": (TEST, [["ruff", "check", "etl", "tests", "benchmarks", "run.py"], ["mypy"]]),
    "check": (TOOL, [["etl", "fmt", "--check"], ["etl", "build", "--check"], ["etl", "docs", "--check"]]),
}


def say(message: str) -> None:
    print(f"run.py: {message}", flush=True)


def ensure_environment(folder: Path, lock: Path) -> None:
    """Create the environment and install the locked dependencies and this project (editable),
    unless it already has exactly these."""
    stamp = folder / ".installed-lock-sha256"
    wanted = hashlib.sha256(lock.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    started = time.monotonic()
    python = folder / BIN_DIR / "python"
    if not python.exists() and not python.with_suffix(".exe").exists():
        say(f"creating the environment {folder.name}/")
        venv.create(folder, with_pip=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-warn-script-location"]
    say(f"installing the pinned packages of {lock.name} into {folder.name}/")
    installer = _install_fast(folder, pip, lock)
    if installer is None:
        subprocess.run(pip + ["--no-deps", "-r", str(lock)], check=True)
    say(f"installing this project into {folder.name}/ (editable)")
    subprocess.run((installer or pip) + ["--no-deps", "--no-build-isolation", "-e", str(ROOT)], check=True)
    stamp.write_text(wanted)
    say(f"{folder.name}/ is ready ({time.monotonic() - started:.0f} s)")


def _install_fast(folder: Path, pip: list[str], lock: Path) -> list[str] | None:
    """Install the lock with uv (pinned), which takes a fraction of pip's time, and return its
    install command; None, having installed nothing, when uv cannot (then pip does it)."""
    uv = [str(folder / BIN_DIR / "uv"), "pip", "install", "--quiet", "--native-tls", "--python", str(folder / BIN_DIR / "python")]
    if subprocess.run(pip + [f"uv=={UV}"]).returncode == 0 and subprocess.run(uv + ["--no-deps", "--compile-bytecode", "-r", str(lock)]).returncode == 0:
        return uv
    say("uv could not install the packages; pip installs them instead (about a minute)")
    return None


def main(argv: list[str]) -> int:
    if len(argv) < 1 or argv[0] not in TASKS:
        print(__doc__)
        return 2
    (folder, lock), commands = TASKS[argv[0]]
    ensure_environment(folder, lock)
    for command in commands:
        say(" ".join(command + argv[1:]))
        result = subprocess.run([str(folder / BIN_DIR / command[0]), *command[1:], *argv[1:]], cwd=ROOT)
        if result.returncode != 0:
            return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
