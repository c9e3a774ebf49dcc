"""The `etl` command's entry point: hands the command to the project's resident process when one is
running (`etl server start`), and otherwise runs it here.

The resident process has the libraries imported already, which is most of a short run's time. It runs
the command in a fresh fork of itself with this process's arguments, folder, environment, umask and
standard input and output, and this process exits with its exit code: only the start-up differs.
It is used only while it runs the code and Python that are installed now (see `fingerprint`).

This module imports nothing heavy: it runs before every command.
"""

from __future__ import annotations

import os
import sys

SERVER_FOLDER = ".etl-cache"
SERVER_SOCKET = "server.sock"
NO_SERVER = "ETL_NO_SERVER"  # set (to anything) to always run here
FORWARDED_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
EXIT_INTERNAL = 3
# Read when Python or a library starts, so a resident process started under other values would differ.
START_UP_VARIABLES = ("PYTHON", "PANDERA", "POLARS", "ARROW", "PYARROW", "LANG", "LC_", "TZ")


def main() -> None:
    code = hand_off(sys.argv)
    if code is None:
        from .cli import main as run_here

        run_here()
    sys.exit(code)


def hand_off(argv: list[str]) -> int | None:
    """Run the command in the project's resident process and return its exit code; None when there
    is no resident process to use (the command has not started)."""
    root, command = root_and_command(argv[1:])
    if os.environ.get(NO_SERVER) or command in (None, "server") or not _standard_streams_open():
        return None
    folder = os.path.join(root, SERVER_FOLDER)
    if not os.path.exists(os.path.join(folder, SERVER_SOCKET)):
        return None
    try:
        request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "umask": _umask(),
                   "fingerprint": fingerprint()}
        connection = connect(folder)
    except OSError:  # not running any more (a socket left behind), or the folder went away
        return None
    signals = _SignalForwarder()
    with connection:
        try:
            send(connection, request, fds=[0, 1, 2])
            replies = connection.makefile("r", encoding="utf-8")
            first = replies.readline().split()
        except OSError:
            first = []
        if first[:1] != ["pid"]:  # "stale": it runs other code than is installed now, and has stopped
            return signals.give_up()
        signals.forward_to(int(first[1]))
        last = replies.readline().split()
    if last[:1] != ["exit"]:
        print("etl: internal error: the resident process ended the command without an exit code "
              "(stop it with `etl server stop`, or set ETL_NO_SERVER=1)", file=sys.stderr)
        return EXIT_INTERNAL
    return int(last[1])


def root_and_command(arguments: list[str]) -> tuple[str, str | None]:
    """The --root option and the command's name, read the way the `etl` group reads them."""
    root, position = ".", 0
    while position < len(arguments):
        argument = arguments[position]
        if argument == "--root" and position + 1 < len(arguments):
            root, position = arguments[position + 1], position + 2
        elif argument.startswith("--root="):
            root, position = argument[len("--root="):], position + 1
        elif argument.startswith("-"):
            return root, None  # --help, --version, or a mistake: nothing worth handing off
        else:
            return root, argument
    return root, None


def fingerprint(package: str = os.path.dirname(os.path.abspath(__file__))) -> str:
    """What the resident process must share with this one to run a command as this one would: the
    Python, the package's source files, the installed libraries' folders and start-up variables."""
    parts = [sys.executable, sys.version]
    for folder, subfolders, files in os.walk(package):
        subfolders.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                status = os.stat(os.path.join(folder, name))
                parts.append(f"{folder}/{name} {status.st_size} {status.st_mtime_ns} {status.st_ctime_ns} {status.st_ino}")
    for entry in sys.path[1:]:  # [0] depends on how etl was started; installing a library changes its folder
        try:
            parts.append(f"{entry} {os.stat(entry).st_mtime_ns}")
        except OSError:
            parts.append(f"{entry} -")
    parts += [f"{name}={value}" for name, value in sorted(os.environ.items()) if name.startswith(START_UP_VARIABLES)]
    return "\n".join(parts)


def connect(folder: str):
    """A connection to the socket in `folder`, reached from inside it: a socket's path is limited to
    about 100 bytes, a project's is not."""
    import socket

    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    here = os.open(".", os.O_RDONLY)
    try:
        os.chdir(folder)
        connection.connect(SERVER_SOCKET)
    except OSError:
        connection.close()
        raise
    finally:
        os.fchdir(here)
        os.close(here)
    return connection


def send(connection, message: dict, fds: list[int] = ()) -> None:
    """One request: its length, then its JSON, with the file descriptors attached."""
    import json
    import socket

    payload = json.dumps(message).encode()
    data = len(payload).to_bytes(4, "big") + payload
    sent = socket.send_fds(connection, [data], list(fds)) if fds else 0
    if sent < len(data):  # never an empty send: the other end may have answered and closed already
        connection.sendall(data[sent:])


class _SignalForwarder:
    """Ctrl-C and the like reach this process; the command runs in another. Signals that come before
    that process is known are kept and sent when it is."""

    def __init__(self):
        import signal

        self.pid, self.pending = None, []
        self.numbers = [getattr(signal, name) for name in FORWARDED_SIGNALS]
        self.previous = {number: signal.signal(number, self._received) for number in self.numbers}

    def _received(self, number, _frame):
        if self.pid is None:
            self.pending.append(number)
            return
        try:
            os.kill(self.pid, number)
        except ProcessLookupError:
            pass

    def forward_to(self, pid: int) -> None:
        self.pid = pid
        for number in self.pending:
            self._received(number, None)

    def give_up(self) -> int | None:
        """No command was started: run it here, unless the caller asked to stop meanwhile."""
        import signal

        for number, handler in self.previous.items():
            signal.signal(number, handler)
        if self.pending:
            print("etl: interrupted", file=sys.stderr)
            return 128 + self.pending[0]
        return None


def _standard_streams_open() -> bool:
    try:
        for fd in (0, 1, 2):
            os.fstat(fd)
    except OSError:
        return False
    return True


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
