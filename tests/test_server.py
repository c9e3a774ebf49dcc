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

IDLE = ("--idle-minutes", "10")  # a resident process left by a failing test goes away by itself
ALONE = {launcher.MODE: "off"}
SERVED = {launcher.MODE: "require"}  # fail, rather than run on its own, when the resident process cannot run it


def etl(root: Path, *arguments: str, env: dict | None = None, **options) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "etl", "--root", str(root), *arguments], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120, **options)


def both_ways(served: Path, alone: Path, *arguments: str, env: dict | None = None) -> tuple:
    """The same command in `served` through the resident process and in `alone` on its own: exit
    codes, and output as bytes."""
    results = []
    for root, mode in ((served, SERVED), (alone, ALONE)):
        result = subprocess.run([sys.executable, "-m", "etl", "--root", str(root), *arguments], capture_output=True,
                                env={**os.environ, **(env or {}), **mode}, timeout=120)
        results.append((result.returncode, result.stdout, result.stderr))
    return tuple(results)


def status(root: Path) -> dict | None:
    return server.ask(Project(root), "status")


def running(pid: int) -> bool:
    if not Path("/proc/self/stat").exists():  # no /proc (macOS): ask the system
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")  # ended, but not yet reaped by the system


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
    started = etl(root, "server", "start", *IDLE)
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
                ("build",), ("edit", "kind: countyy", "kind: county"), ("build",), ("fmt",)]
    handed = 0
    for step in sequence:
        if step[0] == "edit":
            for root in (served, alone):
                path = root / "raw/jurisdictions/ca/contra-costa-county.yaml"
                path.write_text(path.read_text().replace(step[1], step[2]))
            continue
        with_server, without = both_ways(served, alone, *step)
        handed += 1
        assert with_server == without, step
    assert status(served)["commands"] == handed
    assert files_of(served) == files_of(alone)


def files_of(root: Path) -> dict[str, bytes]:
    """Every file a command may write: raw records, published outputs, the data package."""
    paths = [*root.glob("raw/**/*.yaml"), *root.glob("datasets/*"), root / "datapackage.json"]
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(paths)}


def test_the_command_runs_in_the_callers_folder_with_its_umask(served, tmp_path):
    alone = make_project(tmp_path / "alone")
    for root, env in ((served, SERVED), (alone, ALONE)):
        result = subprocess.run([sys.executable, "-m", "etl", "--root", "..", "build"], cwd=root / "raw",
                                capture_output=True, text=True, timeout=120, env={**os.environ, **env},
                                preexec_fn=lambda: os.umask(0o027))
        assert result.returncode == 0, result.stderr
    assert modes(served / "datasets") == modes(alone / "datasets")
    assert set(modes(served / "datasets").values()) == {0o640}


def modes(folder: Path) -> dict[str, int]:
    return {path.name: path.stat().st_mode & 0o777 for path in folder.iterdir()}


def test_the_command_sees_the_callers_environment(served):
    helps = []
    for width in ("50", "120"):  # click wraps help to the terminal's width, which it reads from COLUMNS
        with_server, without = both_ways(served, served, "validate", "--help", env={"COLUMNS": width})
        assert with_server == without
        helps.append(with_server)
    assert helps[0] != helps[1]


def test_a_caller_with_other_limits_runs_on_its_own_and_leaves_it_running(served):
    nicer = {"preexec_fn": lambda: os.nice(1)}
    required = etl(served, "validate", env=SERVED, **nicer)
    assert required.returncode == 3 and "no resident process could run this command" in required.stderr
    result = etl(served, "validate", **nicer)
    assert result.returncode == 0 and result.stdout.startswith("valid:"), result.stderr
    assert status(served)["commands"] == 0


def test_a_caller_with_other_start_up_settings_runs_alone_and_stops_it(served):
    pid = status(served)["pid"]
    result = etl(served, "validate", env={"PYTHONHASHSEED": "123"})  # on its own, as it must
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
    edited = launcher.fingerprint(str(package))
    (package / "new_module.py").write_text("")
    assert launcher.fingerprint(str(package)) != edited


def test_a_library_changed_in_place_changes_the_module_files(tmp_path, monkeypatch):
    library = write(tmp_path / "some_library.py", "VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    __import__("some_library")
    try:
        before = server.module_files()
        assert str(library) in before
        library.write_text("VALUE = 22\n")
        assert server.module_files() != before
    finally:
        del sys.modules["some_library"]


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A project whose cold build takes about a second, time enough to signal it midway."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from generate import generate

    root = tmp_path_factory.mktemp("big") / "project"
    generate(root, actions=2000)
    return root


def interrupted_build(root: Path, number: int) -> subprocess.CompletedProcess | tuple:
    """A build with no cache (so that it takes about a second) through the resident process, sent
    `number` once it runs; its result."""
    for path in (root / ".etl-cache").iterdir():
        if not path.name.startswith("server."):
            path.unlink()
    caller = subprocess.Popen([sys.executable, "-m", "etl", "--root", str(root), "build"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **SERVED})
    before = status(root)["commands"]
    assert wait_until(lambda: status(root)["commands"] == before + 1)
    time.sleep(0.2)
    caller.send_signal(number)
    out, err = caller.communicate(timeout=60)
    return caller.returncode, out, err


def test_signals_reach_the_command(big):
    """Ctrl-C in the caller's terminal interrupts the command the resident process runs for it, which
    ends as on its own: the message and exit code 130. A SIGTERM ends both, as it ends `etl` on its
    own. Nothing is published either way."""
    assert etl(big, "server", "start", *IDLE).returncode == 0
    try:
        assert interrupted_build(big, signal.SIGINT) == (130, "", "etl: interrupted; published outputs are unchanged\n")
        assert interrupted_build(big, signal.SIGTERM) == (-signal.SIGTERM, "", "")
        assert not (big / "datasets").exists()
        assert etl(big, "validate", env=SERVED).returncode == 0  # and it still serves
    finally:
        etl(big, "server", "stop")


def test_a_caller_that_is_killed_takes_its_command_with_it(big):
    assert etl(big, "server", "start", *IDLE).returncode == 0
    try:
        assert interrupted_build(big, signal.SIGKILL)[0] == -signal.SIGKILL
        time.sleep(3)  # longer than the build would take
        assert not (big / "datasets").exists()
    finally:
        etl(big, "server", "stop")


def test_stop_status_and_a_second_start(served):
    second = etl(served, "server", "start")
    assert second.returncode == 1 and "already running" in second.stderr
    pid = status(served)["pid"]
    assert etl(served, "server", "stop").stdout == f"stopped resident process {pid}\n"
    assert etl(served, "server", "start", *IDLE).returncode == 0  # at once: stop returns when it has ended
    assert etl(served, "server", "stop").returncode == 0
    assert etl(served, "server", "status").stdout == "no resident process for this project\n"
    assert etl(served, "server", "stop").stdout == "no resident process for this project\n"


def test_a_killed_resident_process_is_passed_over_and_can_be_replaced(served):
    pid = status(served)["pid"]
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not running(pid))
    assert (served / ".etl-cache/server.sock").exists()  # left behind
    alone = etl(served, "validate")
    assert alone.returncode == 0 and alone.stdout.startswith("valid:"), alone.stderr
    assert etl(served, "server", "start", *IDLE).returncode == 0
    assert etl(served, "validate", env=SERVED).returncode == 0


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
    assert etl(root, "server", "start", *IDLE).returncode == 0
    try:
        write(root / "raw/sources/extra.yaml", "source_id: extra\n")
        with_server, without = both_ways(root, root, "validate")
        assert with_server == without
        assert with_server[0] == 1
    finally:
        etl(root, "server", "stop")
