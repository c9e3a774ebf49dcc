"""The resident process (`etl server`): a command handed to it gives what the same command gives when
run on its own, it is used only while it runs the installed code, and it goes away when it should.

Every command here is a real `python -m etl` process, as a curator's shell would start it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from etl import launcher, server
from etl.project import Project

from conftest import REPO, make_project, write

pytestmark = pytest.mark.skipif(not (hasattr(os, "fork") and hasattr(socket, "AF_UNIX")),
                                reason="the resident process needs fork and Unix sockets")

ALONE = {launcher.NO_SERVER: "1"}


def etl(root: Path, *arguments: str, env: dict | None = None, **options) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "etl", "--root", str(root), *arguments], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120, **options)


def status(root: Path) -> dict | None:
    return server.ask(Project(root), "status")


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")  # the system may not have reaped it yet


def wait_until(condition, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def served(tmp_path):
    root = make_project(tmp_path / "served")
    started = etl(root, "server", "start", "--idle-minutes", "10")
    assert started.returncode == 0, started.stderr
    pid = status(root)["pid"]
    yield root
    etl(root, "server", "stop")
    if running(pid):
        os.kill(pid, signal.SIGKILL)


def test_commands_give_the_same_results_with_and_without_the_resident_process(served, tmp_path):
    alone = make_project(tmp_path / "alone")
    sequence = [("validate",), ("validate", "--format", "json"), ("build",), ("build",), ("build", "--check"),
                ("show", "ca-contra-costa-county"), ("show", "nobody"), ("stats", "--format", "json"),
                ("validate", "--format", "bogus"), ("no-such-command",), ("fmt", "--check"),
                ("edit", "kind: county", "kind: countyy"), ("validate",), ("validate", "--format", "json"),
                ("build",), ("edit", "kind: countyy", "kind: county"), ("build",)]
    handed = 0
    for step in sequence:
        if step[0] == "edit":
            for root in (served, alone):
                path = root / "raw/jurisdictions/ca/contra-costa-county.yaml"
                path.write_text(path.read_text().replace(step[1], step[2]))
            continue
        with_server, without = etl(served, *step), etl(alone, *step, env=ALONE)
        handed += 1
        assert (with_server.returncode, with_server.stdout, with_server.stderr) == \
               (without.returncode, without.stdout, without.stderr), step
    assert status(served)["commands"] == handed  # each command was run by the resident process
    assert files_of(served / "datasets") == files_of(alone / "datasets")


def files_of(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_the_command_runs_in_the_callers_folder_with_its_umask(served, tmp_path):
    alone = make_project(tmp_path / "alone")
    for root, env in ((served, {}), (alone, ALONE)):
        result = subprocess.run([sys.executable, "-m", "etl", "--root", "..", "build"], cwd=root / "raw",
                                capture_output=True, text=True, timeout=120, env={**os.environ, **env},
                                preexec_fn=lambda: os.umask(0o027))
        assert result.returncode == 0, result.stderr
    assert status(served)["commands"] == 1
    assert modes(served / "datasets") == modes(alone / "datasets")
    assert set(modes(served / "datasets").values()) == {0o640}


def modes(folder: Path) -> dict[str, int]:
    return {path.name: path.stat().st_mode & 0o777 for path in folder.iterdir()}


def test_the_command_sees_the_callers_environment(served):
    helps = []
    for width in ("50", "120"):  # click wraps help to the terminal's width, which it reads from COLUMNS
        with_server = etl(served, "validate", "--help", env={"COLUMNS": width})
        without = etl(served, "validate", "--help", env={"COLUMNS": width, **ALONE})
        assert with_server.stdout == without.stdout
        helps.append(with_server.stdout)
    assert helps[0] != helps[1]
    assert status(served)["commands"] == 2


def test_a_caller_with_other_start_up_settings_runs_alone_and_stops_it(served):
    pid = status(served)["pid"]
    result = etl(served, "validate", env={"PYTHONHASHSEED": "123"})
    assert result.returncode == 0 and result.stdout.startswith("valid:"), result.stderr
    assert wait_until(lambda: not running(pid))
    assert status(served) is None


def test_the_fingerprint_changes_when_the_code_changes(tmp_path):
    package = tmp_path / "etl"
    shutil.copytree(Path(launcher.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = launcher.fingerprint(str(package))
    assert launcher.fingerprint(str(package)) == before
    module = package / "dates.py"
    module.write_text(module.read_text() + "\n# changed\n")
    assert launcher.fingerprint(str(package)) != before
    (package / "new_module.py").write_text("")
    assert launcher.fingerprint(str(package)) != launcher.fingerprint(str(package)).replace("new_module", "x")


def test_ctrl_c_reaches_the_command(tmp_path):
    """Ctrl-C in the caller's terminal interrupts the command the resident process runs for it, which
    ends as it would on its own: the message, exit code 130, nothing published."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from generate import generate

    root = tmp_path / "big"
    generate(root, actions=2000)  # a cold build of it takes about a second
    assert etl(root, "server", "start").returncode == 0
    try:
        caller = subprocess.Popen([sys.executable, "-m", "etl", "--root", str(root), "build"], text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert wait_until(lambda: status(root)["commands"] == 1)
        time.sleep(0.2)
        caller.send_signal(signal.SIGINT)
        out, err = caller.communicate(timeout=60)
        assert (caller.returncode, out, err) == (130, "", "etl: interrupted; published outputs are unchanged\n")
        assert not (root / "datasets").exists()
    finally:
        etl(root, "server", "stop")


def test_stop_status_and_a_second_start(served):
    second = etl(served, "server", "start")
    assert second.returncode == 1 and "already running" in second.stderr
    pid = status(served)["pid"]
    assert etl(served, "server", "stop").stdout == f"stopped resident process {pid}\n"
    assert wait_until(lambda: not running(pid))
    assert etl(served, "server", "status").stdout == "no resident process for this project\n"
    assert etl(served, "server", "stop").stdout == "no resident process for this project\n"


def test_a_killed_resident_process_is_passed_over_and_can_be_replaced(served):
    pid = status(served)["pid"]
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not running(pid))
    assert (served / ".etl-cache/server.sock").exists()  # left behind
    alone = etl(served, "validate")
    assert alone.returncode == 0 and alone.stdout.startswith("valid:"), alone.stderr
    assert etl(served, "server", "start").returncode == 0
    assert etl(served, "validate").returncode == 0
    assert status(served)["commands"] == 1


def test_it_stops_when_its_folder_is_deleted(served):
    pid = status(served)["pid"]
    shutil.rmtree(served / ".etl-cache")
    assert wait_until(lambda: not running(pid))
    assert etl(served, "validate").returncode == 0


def test_it_stops_after_the_idle_time(tmp_path):
    root = make_project(tmp_path / "idle")
    assert etl(root, "server", "start", "--idle-minutes", "0.02").returncode == 0
    pid = status(root)["pid"]
    assert wait_until(lambda: not running(pid))
    assert not (root / ".etl-cache/server.sock").exists()


def test_only_project_commands_are_handed_off():
    assert launcher.root_and_command(["--root", "x", "validate"]) == ("x", "validate")
    assert launcher.root_and_command(["--root=y", "build", "--check"]) == ("y", "build")
    assert launcher.root_and_command(["validate"]) == (".", "validate")
    assert launcher.root_and_command(["--help"]) == (".", None)
    assert launcher.root_and_command(["--root", "x"]) == ("x", None)
    assert launcher.root_and_command([]) == (".", None)


def test_a_long_project_path_is_served(tmp_path):
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 6)
    root = make_project(deep)
    assert len(str(root / ".etl-cache/server.sock")) > 108  # longer than a socket address may be
    assert etl(root, "server", "start").returncode == 0
    try:
        write(root / "raw/sources/extra.yaml", "source_id: extra\n")
        result, alone = etl(root, "validate"), etl(root, "validate", env=ALONE)
        assert status(root)["commands"] == 1
        assert (result.returncode, result.stdout, result.stderr) == (alone.returncode, alone.stdout, alone.stderr)
        assert result.returncode == 1
    finally:
        etl(root, "server", "stop")
