"""A resident process for one project (`etl server start`), so that a curator's `etl validate` does not
pay for importing the libraries on every run.

It imports the libraries and the package once, then waits on `.etl-cache/server.sock`. For each
command that `etl.launcher` hands it, it forks: the fork takes the caller's standard input and output,
folder, environment and umask and runs the command as `etl` would, reading and writing the project
itself (the fork starts from the imported libraries, never from the state of an earlier command). It
stops on `etl server stop`, after a time without commands, when its socket is removed (as by deleting
`.etl-cache/`), or when a caller runs other code or another Python than it does.

Only one runs per project: it holds `.etl-cache/server.lock` while it lives.
"""

from __future__ import annotations

import fcntl
import importlib
import io
import json
import os
import pkgutil
import signal
import socket
import struct
import sys
import time
from dataclasses import dataclass, field

from . import launcher
from .project import Project

PRELOADED = ("yaml", "polars", "pandera.polars", "pyarrow", "pyarrow.compute", "pyarrow.csv", "pyarrow.ipc",
             "pyarrow.parquet", "addfips")
LOCK = "server.lock"
LOG = "server.log"
CHECK_EVERY_SECONDS = 2.0
START_TIMEOUT_SECONDS = 120


class ServerError(Exception):
    """Why a resident process could not be started, asked or stopped."""


@dataclass
class Server:
    """The resident process's state: what it serves, and the one thing it counts."""

    folder: str
    listener: socket.socket
    lock: int
    identity: tuple[int, int]
    idle_seconds: float
    fingerprint: str
    started: float = field(default_factory=time.time)
    commands: int = 0


# -- Used by the `etl server` commands ------------------------------------------------------------

def start(project: Project, idle_minutes: float) -> int:
    """Start the project's resident process in the background; return its process id once it is
    ready for commands."""
    folder = str(project.root / launcher.SERVER_FOLDER)
    os.makedirs(folder, exist_ok=True)
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - forks again, so that the resident process is nobody's child
        os.close(ready_read)
        if os.fork() == 0:
            _become_server(folder, idle_minutes * 60, ready_write)
        os._exit(0)
    os.close(ready_write)
    os.waitpid(pid, 0)
    with os.fdopen(ready_read, "r") as ready:
        answer = ready.read()  # the server writes one line and closes its end (or dies, closing it)
    if not answer.startswith("ready"):
        raise ServerError(answer.strip() or "the resident process ended while starting (see .etl-cache/server.log)")
    return int(answer.split()[1])


def ask(project: Project, question: str) -> dict | None:
    """The resident process's answer to "status" or "stop", or None when none is running."""
    folder = str(project.root / launcher.SERVER_FOLDER)
    try:
        connection = launcher.connect(folder)
    except OSError:
        return None
    with connection:
        launcher.send(connection, {"control": question})
        line = connection.makefile("r", encoding="utf-8").readline()
    return json.loads(line) if line else None


# -- The resident process -------------------------------------------------------------------------

def _become_server(folder: str, idle_seconds: float, ready_fd: int) -> None:  # pragma: no cover
    code = 0
    try:
        os.setsid()  # no controlling terminal: the caller's Ctrl-C or logout does not reach it
        os.chdir(folder)
        lock = _take_lock()
        fingerprint = launcher.fingerprint()  # before importing: some libraries set variables when imported
        for module in PRELOADED + _package_modules():
            importlib.import_module(module)
        server = _listen(folder, lock, fingerprint, idle_seconds)
        _detach_from(ready_fd, f"ready {os.getpid()}\n", log=True)
        _log(f"started for {os.path.dirname(folder)}")
        _serve(server)
        _log(f"stopped after {server.commands} command(s)")
    except ServerError as error:
        _detach_from(ready_fd, f"{error}\n", log=False)
        code = 1
    except BaseException as error:  # noqa: BLE001 - the caller learns why, then the process ends
        _detach_from(ready_fd, f"the resident process failed: {type(error).__name__}: {error}\n", log=False)
        code = 1
    finally:
        os._exit(code)


def _take_lock() -> int:
    lock = os.open(LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ServerError("a resident process is already running for this project (`etl server status`)") from None
    return lock


def _package_modules() -> tuple[str, ...]:
    package = importlib.import_module(__package__)
    return tuple(module.name for module in pkgutil.walk_packages(package.__path__, f"{__package__}.")
                 if module.name != f"{__package__}.__main__")


def _listen(folder: str, lock: int, fingerprint: str, idle_seconds: float) -> Server:
    try:
        os.unlink(launcher.SERVER_SOCKET)  # left by a resident process that was killed: we hold the lock
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)  # only this user may connect
    try:
        listener.bind(launcher.SERVER_SOCKET)
    finally:
        os.umask(old_mask)
    listener.listen(16)
    listener.settimeout(CHECK_EVERY_SECONDS)
    status = os.stat(launcher.SERVER_SOCKET)
    return Server(folder, listener, lock, (status.st_dev, status.st_ino), idle_seconds, fingerprint)


def _detach_from(ready_fd: int, message: str, log: bool) -> None:
    """Tell the starting command how it went, and let go of its terminal: output goes to the log."""
    os.write(ready_fd, message.encode())
    os.close(ready_fd)
    log = os.open(LOG if log else os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    for target, fd in ((0, null), (1, log), (2, log)):
        os.dup2(fd, target)
    os.close(null)
    os.close(log)


def _serve(server: Server) -> None:  # pragma: no cover - runs in the resident process
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forks are reaped by the system
    last_command = time.monotonic()
    while True:
        try:
            connection, _ = server.listener.accept()
        except TimeoutError:
            if time.monotonic() - last_command > server.idle_seconds or not _still_ours(server):
                break
            continue
        with connection:
            outcome = _answer(server, connection)
        if outcome == "stop":
            break
        last_command = time.monotonic()
    if _still_ours(server):
        os.unlink(launcher.SERVER_SOCKET)


def _still_ours(server: Server) -> bool:
    try:
        status = os.stat(launcher.SERVER_SOCKET)
    except OSError:
        return False
    return (status.st_dev, status.st_ino) == server.identity


def _answer(server: Server, connection: socket.socket) -> str:  # pragma: no cover
    """Run one caller's command, or answer its question; "stop" when the resident process should end."""
    connection.settimeout(10)
    fds: list[int] = []
    try:
        if not _same_user(connection):
            _log("refused a caller that runs as another user")
            return "refused"
        request, fds = _receive(connection)
        if "control" in request:
            return _control(server, connection, request["control"])
        if request.get("fingerprint") != server.fingerprint:
            connection.sendall(b"stale\n")
            _log("stopping: a caller runs other code, another Python or other start-up settings")
            return "stop"
        if os.fork() == 0:
            _run_command(server, connection, request, fds)
        server.commands += 1
        return "forked"
    except (OSError, ValueError) as error:
        _log(f"a request failed: {type(error).__name__}: {error}")
        return "failed"
    finally:
        for fd in fds:
            os.close(fd)


def _control(server: Server, connection: socket.socket, question: str) -> str:
    status = {"pid": os.getpid(), "root": os.path.dirname(server.folder), "started": server.started,
              "commands": server.commands, "idle_minutes": server.idle_seconds / 60}
    connection.sendall(json.dumps(status).encode() + b"\n")
    return "stop" if question == "stop" else "answered"


def _same_user(connection: socket.socket) -> bool:
    if not hasattr(socket, "SO_PEERCRED"):
        return True  # the socket's permissions (owner only) still apply
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", credentials)[1] == os.getuid()


def _receive(connection: socket.socket) -> tuple[dict, list[int]]:
    data, fds, _, _ = socket.recv_fds(connection, 1 << 16, 3)
    while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "big"):
        chunk = connection.recv(1 << 16)
        if not chunk:
            raise ValueError("the request ended early")
        data += chunk
    return json.loads(data[4:4 + int.from_bytes(data[:4], "big")]), list(fds)


def _run_command(server: Server, connection: socket.socket, request: dict, fds: list[int]) -> None:  # pragma: no cover
    """In the fork: become the caller's process as far as the command can tell, run it, report its
    exit code, and end."""
    code = launcher.EXIT_INTERNAL
    try:
        server.listener.close()
        os.close(server.lock)
        connection.settimeout(None)
        for target, fd in zip((0, 1, 2), fds):
            os.dup2(fd, target)
            os.close(fd)
        fds.clear()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()
        os.umask(request["umask"])
        for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(number, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _reopen_standard_streams()
        sys.argv = request["argv"]
        connection.sendall(f"pid {os.getpid()}\n".encode())
        code = _exit_code_of_command()
        connection.sendall(f"exit {code}\n".encode())
    finally:
        os._exit(code)


def _reopen_standard_streams() -> None:
    """Standard streams over the caller's descriptors, buffered as Python buffers its own."""
    encoding, errors = sys.__stdout__.encoding, sys.__stdout__.errors  # those of the server's start-up
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.open(0, "rb", closefd=False), encoding=encoding, errors=errors)
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(io.open(1, "wb", closefd=False), encoding=encoding, errors=errors,
                                                   line_buffering=os.isatty(1))
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(io.open(2, "wb", closefd=False), encoding=encoding,
                                                   errors="backslashreplace", line_buffering=True)


def _exit_code_of_command() -> int:  # pragma: no cover
    from .cli import main

    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if not isinstance(exit_.code, (int, type(None))):
            print(exit_.code, file=sys.stderr)
    except BaseException as error:  # noqa: BLE001 - as Python would end: a message, exit code 1
        print(f"etl: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        code = launcher.EXIT_INTERNAL
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        code = 120  # as Python does when it cannot flush at exit
    return code


def _log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} pid {os.getpid()}: {message}", file=sys.stderr, flush=True)
