"""Set up a pinned environment in .venv and run a task in it. Needs only Python 3.11+ with venv and pip.

    python3 run.py build    build and validate the dataset (datasets/ and datapackage.json)
    python3 run.py test     run the test suite
    python3 run.py check    what CI checks besides the tests: canonical raw files, current outputs and docs
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if sys.platform == "win32" else "bin")
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".installed-lock-sha256"

TASKS = {
    "build": [["etl", "build"]],
    "test": [["pytest", "-q"]],
    "check": [["etl", "fmt", "--check"], ["etl", "build", "--check"], ["etl", "docs", "--check"]],
}


def ensure_environment() -> None:
    """Create .venv and install the locked dependencies, unless it already has exactly these."""
    wanted = hashlib.sha256(LOCK.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists() and not (BIN / "python.exe").exists():
        print("creating .venv", flush=True)
        venv.create(VENV, with_pip=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run(pip + ["-r", str(LOCK)], check=True)
    subprocess.run(pip + ["--no-deps", "--no-build-isolation", "-e", str(ROOT)], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if len(argv) < 1 or argv[0] not in TASKS:
        print(__doc__)
        return 2
    ensure_environment()
    for command in TASKS[argv[0]]:
        result = subprocess.run([str(BIN / command[0]), *command[1:], *argv[1:]], cwd=ROOT)
        if result.returncode != 0:
            return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
