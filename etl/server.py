"""A resident process for one project (`etl server start`), so that a curator's `etl validate` does not
pay for importing the libraries on every run.

It imports the libraries and the package once, then waits on `.etl-cache/server.sock`. For each
command that `etl.launcher` hands it, it forks: the fork takes the caller's standard input and output,
folder, environment, umask and ignored signals, runs the command as `etl` would, reading and writing
the project itself, and ends when the command ends or the caller goes away. Each fork starts from the
imported libraries, never from the state of an earlier command. Nothing has run in the resident
process but imports, so no library has started the threads that would make forking unsafe.

It stops on `etl server stop`, after a time without commands, when its socket is removed (as by
deleting `.etl-cache/`), or when a caller runs other code, another Python or other start-up settings,
or when a file of a module it imported changes. Only one runs per project: it holds
`.etl-cache/server.lock` while it lives.
"""

from __future__ import annotations

import fcntl
import importlib
import io
import json
import os
import pkgutil
import select
import signal
import socket
import sys
import threading
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
STOP_TIMEOUT_SECONDS = 10
PRIVATE = os.O_NOFOLLOW | os.O_CREAT


class ServerError(Exception):
    """Why a resident process could not be started, asked or stopped."""


@dataclass
class Server:
    """The resident process's state: what it serves and runs with, and the one thing it counts."""

    folder: str
    listener: socket.socket
    lock: int
    identity: tuple[int, int]
    idle_seconds: float
    fingerprint: str
    settings: str
    modules: dict[str, tuple[int, int]]
    started: float = field(default_factory=time.time)
    commands: int = 0


# -- Used by the `etl server` commands ------------------------------------------------------------

def start(project: Project, idle_minutes: float) -> int:
    """Start the project's resident process in the background; return its process id once it is
    ready for commands."""
    folder = _folder(project)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - forks again, so that the resident process is nobody's child
        os.close(ready_read)
        if os.fork() == 0:
            _become_server(folder, idle_minutes * 60, ready_write)
        os._exit(0)
    os.close(ready_write)
    os.waitpid(pid, 0)
    with os.fdopen(ready_read, "r") as ready:  # one line, then the server closes its end (or dies)
        answer = ready.read() if select.select([ready], [], [], START_TIMEOUT_SECONDS)[0] else ""
    if not answer.startswith("ready"):
        raise ServerError(answer.strip() or "the resident process did not start (see .etl-cache/server.log)")
    return int(answer.split()[1])


def ask(project: Project, question: str) -> dict | None:
    """The resident process's answer to "status" or "stop", or None when none is running. After
    "stop", returns once it has ended."""
    folder = _folder(project)
    try:
        connection = launcher.connect(folder)
    except OSError:
        return None
    with connection:
        launcher.send(connection, {"control": question})
        line = connection.makefile("r", encoding="utf-8").readline()
    if question == "stop" and line:
        _wait_until_unlocked(os.path.join(folder, LOCK))
    return json.loads(line) if line else None


def _folder(project: Project) -> str:
    return str(project.root / launcher.SERVER_FOLDER)


def _wait_until_unlocked(path: str) -> None:
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    try:
        lock = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
    except OSError:  # its folder was deleted: nothing to wait for
        return
    try:
        while time.monotonic() < deadline:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                time.sleep(0.02)
    finally:
        os.close(lock)


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
        server = _listen(folder, lock, idle_seconds, fingerprint)
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
    lock = os.open(LOCK, os.O_RDWR | PRIVATE, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ServerError("a resident process is already running for this project (`etl server status`)") from None
    return lock


def _package_modules() -> tuple[str, ...]:
    package = importlib.import_module(__package__)
    return tuple(module.name for module in pkgutil.walk_packages(package.__path__, f"{__package__}.")
                 if module.name != f"{__package__}.__main__")


def module_files() -> dict[str, tuple[int, int]]:
    """Each imported module's file with its size and modification time: a library changed in place
    (not reinstalled) changes these."""
    files = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path:
            try:
                status = os.stat(path)
            except OSError:
                continue
            files[path] = (status.st_size, status.st_mtime_ns)
    return files


def _listen(folder: str, lock: int, idle_seconds: float, fingerprint: str) -> Server:
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
    return Server(folder, listener, lock, (status.st_dev, status.st_ino), idle_seconds, fingerprint,
                  launcher.process_settings(), module_files())


def _detach_from(ready_fd: int, message: str, log: bool) -> None:
    """Tell the starting command how it went, and let go of its terminal: output goes to the log."""
    os.write(ready_fd, message.encode())
    os.close(ready_fd)
    log = os.open(LOG, os.O_WRONLY | os.O_APPEND | PRIVATE, 0o600) if log else os.open(os.devnull, os.O_WRONLY)
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
        if launcher.peer_uid(connection) not in (None, os.getuid()):
            _log("refused a caller that runs as another user")
            return "refused"
        request = _receive(connection, fds)
        if "control" in request:
            return _control(server, connection, request["control"])
        if request.get("fingerprint") != server.fingerprint or module_files() != server.modules:
            connection.sendall(b"stale\n")
            _log("stopping: a caller runs other code, another Python or other start-up settings")
            return "stop"
        if request.get("settings") != server.settings or len(fds) != 3:
            connection.sendall(b"differs\n")  # other limits, priority or groups: it runs on its own
            return "answered"
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


def _receive(connection: socket.socket, fds: list[int]) -> dict:
    """One request; the file descriptors that came with it are added to `fds` (for the caller to
    close, whatever happens)."""
    data, received, flags, _ = socket.recv_fds(connection, 1 << 16, 3)
    fds.extend(received)
    if flags & getattr(socket, "MSG_CTRUNC", 0):
        raise ValueError("the request's file descriptors were cut off")
    while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "big"):
        chunk = connection.recv(1 << 16)
        if not chunk:
            raise ValueError("the request ended early")
        data += chunk
    return json.loads(data[4:4 + int.from_bytes(data[:4], "big")])


def _run_command(server: Server, connection: socket.socket, request: dict, fds: list[int]) -> None:  # pragma: no cover
    """In the fork: become the caller's process as far as the command can tell, wait for the caller's
    go-ahead, run the command while the caller is there, report its exit code, and end."""
    code = launcher.EXIT_INTERNAL
    try:
        server.listener.close()
        os.close(server.lock)
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
        for number in request["ignored"]:
            signal.signal(number, signal.SIG_IGN)
        _reopen_standard_streams()
        sys.argv = request["argv"]
        connection.sendall(f"pid {os.getpid()}\n".encode())
        if connection.recv(3) != b"go\n":
            code = 0
            return  # the caller gave up waiting and runs the command itself
        connection.settimeout(None)
        threading.Thread(target=_end_with_caller, args=(connection,), daemon=True).start()
        code = _exit_code_of_command()
        connection.sendall(f"exit {code}\n".encode())
    except BaseException as error:  # noqa: BLE001 - the caller runs the command itself, or learns it ended
        _log(f"a command failed to run: {type(error).__name__}: {error}", os.path.join(server.folder, LOG))
    finally:
        os._exit(code)


def _end_with_caller(connection: socket.socket) -> None:  # pragma: no cover
    """The caller's process is gone (killed, say): so is the command, as it would be on its own."""
    try:
        connection.recv(1)
    finally:
        os.kill(os.getpid(), signal.SIGKILL)


def _reopen_standard_streams() -> None:
    """Standard streams over the caller's descriptors, made as Python makes its own at start-up."""
    original = sys.__stdout__  # as the server's start-up made it, which the fingerprint says is the caller's
    encoding, errors, buffered = original.encoding, original.errors, not original.write_through

    def stream(fd: int, mode: str, errors: str, line_buffering: bool):
        binary = io.open(fd, mode, buffering=-1 if buffered or mode == "rb" else 0, closefd=False)
        return io.TextIOWrapper(binary, encoding=encoding, errors=errors, newline="\n",
                                line_buffering=buffered and line_buffering, write_through=not buffered)

    sys.stdin = sys.__stdin__ = stream(0, "rb", errors, False)
    sys.stdout = sys.__stdout__ = stream(1, "wb", errors, os.isatty(1))
    sys.stderr = sys.__stderr__ = stream(2, "wb", "backslashreplace", True)


def _exit_code_of_command() -> int:  # pragma: no cover
    """Run the command and end as Python would: a SystemExit's code, or a traceback."""
    import atexit
    import traceback

    from .cli import main

    try:
        main()
        code = 0
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            code = int(exit_.code or 0)
        else:
            print(exit_.code, file=sys.stderr)
            code = 1
    except KeyboardInterrupt:
        traceback.print_exc()
        code = 130
    except BaseException:  # noqa: BLE001 - as Python ends: the traceback (ETL_DEBUG=1 asks for it), code 1
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        code = 120  # as Python does when it cannot flush at exit
    return code


def _log(message: str, path: str | None = None) -> None:
    """A line in the log: the resident process's stderr, or (from a fork, whose stderr is the
    caller's) the file at `path`."""
    line = f"{time.strftime('%Y-%m-%dT%H:%M:%S')} pid {os.getpid()}: {message}\n"
    if path is None:
        print(line, end="", file=sys.stderr, flush=True)
        return
    log = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
    try:
        os.write(log, line.encode())
    finally:
        os.close(log)
