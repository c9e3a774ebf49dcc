"""The `etl` command's entry point: hands the command to the project's resident process when one is
running (`etl server start`), and otherwise runs it here.

The resident process has the libraries imported already, which is most of a short run's time. It runs
the command in a fresh fork of itself with this process's arguments, folder, environment, umask,
ignored signals and standard input and output; this process passes signals on and ends as the
command ends. It is used only while it runs the code and Python installed now with this process's
start-up settings (`fingerprint`), and only for a caller with its limits, priority and groups
(`process_settings`); otherwise the command runs here.

This module imports nothing heavy: it runs before every command.
"""

from __future__ import annotations

import os
import stat
import sys

SERVER_FOLDER = ".etl-cache"
SERVER_SOCKET = "server.sock"
MODE = "ETL_SERVER"  # "off": always run here; "require": fail rather than run here; else use it when it runs
FORWARDED_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
REPLY_TIMEOUT_SECONDS = 10
EXIT_INTERNAL = 3
# Read when Python, the loader or a library starts, so a resident process started under other values differs.
START_UP_VARIABLES = ("PYTHON", "PANDERA", "POLARS", "ARROW", "PYARROW", "LANG", "LC_", "TZ", "LD_", "DYLD_",
                      "MALLOC", "FAKETIME")


def main() -> None:
    code = hand_off(sys.argv)
    if code is None:
        from .cli import main as run_here

        run_here()
    sys.exit(code)


def hand_off(argv: list[str]) -> int | None:
    """Run the command in the project's resident process and return its exit code; None when it
    should run here (no resident process could start it)."""
    mode = os.environ.get(MODE, "")
    root, command = root_and_command(argv[1:])
    if mode == "off" or command in (None, "server"):
        return None
    code = _run_in_server(os.path.join(root, SERVER_FOLDER), argv)
    if code is None and mode == "require":
        print(f"etl: no resident process could run this command ({MODE}=require; see `etl server status`)", file=sys.stderr)
        return EXIT_INTERNAL
    return code


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


def _run_in_server(folder: str, argv: list[str]) -> int | None:
    if not (_standard_streams_open() and _owned_socket(folder)):
        return None
    try:
        request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "umask": _umask(),
                   "fingerprint": fingerprint(), "settings": process_settings()}
        connection = connect(folder)
    except OSError:  # not running any more (a socket left behind), or the folder went away
        return None
    signals = _SignalForwarder()
    request["ignored"] = signals.ignored
    with connection:
        try:
            if peer_uid(connection) not in (None, os.getuid()):
                return signals.give_up()
            send(connection, request, fds=[0, 1, 2])
            connection.settimeout(REPLY_TIMEOUT_SECONDS)
            replies = connection.makefile("rb")
            first = replies.readline().split()
            if first[:1] != [b"pid"]:  # it runs other code or settings ("stale", "differs"), or failed
                return signals.give_up()
            connection.sendall(b"go\n")  # only now does the command start: a caller that gave up never runs it twice
            connection.settimeout(None)
            signals.forward_to(int(first[1]))
            last = replies.readline().split()
        except (OSError, ValueError):
            if signals.pid is None:
                return signals.give_up()
            last = []
    if last[:1] == [b"exit"]:
        return int(last[1])
    return signals.ended_without_exit_code()


def fingerprint(package: str = os.path.dirname(os.path.abspath(__file__))) -> str:
    """What the resident process must share with this one to run a command as this one would: the
    Python and its flags, the package's source files, the installed libraries' folders and start-up
    variables."""
    parts = [sys.executable, sys.version, repr(sys.flags), repr(sys.warnoptions), repr(sys._xoptions),
             f"unbuffered: {getattr(sys.__stdout__, 'write_through', None)}"]  # -u is not among sys.flags
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


def process_settings() -> str:
    """What a fork of the resident process would not share with this process: its resource limits,
    priority, CPU affinity, groups and control groups."""
    import resource

    parts = [[resource.getrlimit(getattr(resource, name)) for name in sorted(dir(resource)) if name.startswith("RLIMIT_")],
             os.getpriority(os.PRIO_PROCESS, 0), os.getgid(), os.getegid(), sorted(os.getgroups())]
    if hasattr(os, "sched_getaffinity"):
        parts.append(sorted(os.sched_getaffinity(0)))
    try:
        with open("/proc/self/cgroup") as cgroups:
            parts.append(cgroups.read())
    except OSError:
        pass
    return repr(parts)


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


def peer_uid(connection) -> int | None:
    """The user id of the process at the other end (None where the system does not say)."""
    import socket
    import struct

    if not hasattr(socket, "SO_PEERCRED"):
        return None
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("iII"))
    return struct.unpack("iII", credentials)[1]


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
    that process is known are kept; signals this process ignores stay ignored there too."""

    def __init__(self):
        import signal

        self.pid, self.pending, self.last = None, [], None
        numbers = [getattr(signal, name) for name in FORWARDED_SIGNALS]
        self.ignored = [number for number in numbers if signal.getsignal(number) is signal.SIG_IGN]
        self.previous = {number: signal.signal(number, self._received) for number in numbers if number not in self.ignored}
        if signal.getsignal(signal.SIGTSTP) is signal.SIG_DFL:
            self.previous[signal.SIGTSTP] = signal.signal(signal.SIGTSTP, self._suspend)

    def _received(self, number, _frame):
        self.last = number
        if self.pid is None:
            self.pending.append(number)
        else:
            _send_signal(self.pid, number)

    def _suspend(self, number, _frame):
        """Ctrl-Z: stop the command, then this process; when this one continues, so does the command."""
        import signal

        if self.pid is not None:
            _send_signal(self.pid, signal.SIGSTOP)
        signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)  # stops here until continued
        signal.signal(number, self._suspend)
        if self.pid is not None:
            _send_signal(self.pid, signal.SIGCONT)

    def forward_to(self, pid: int) -> None:
        self.pid = pid
        for number in self.pending:
            _send_signal(pid, number)

    def give_up(self) -> int | None:
        """No command was started: run it here, unless a signal asked this process to end meanwhile."""
        import signal

        for number, handler in self.previous.items():
            signal.signal(number, handler)
        return _end_by(self.pending[0]) if self.pending else None

    def ended_without_exit_code(self) -> int:
        """The command's process ended without saying how: killed, most likely by the signal this
        process passed on, by which this process then ends too."""
        if self.last is not None:
            return _end_by(self.last)
        print("etl: internal error: the resident process ended the command without an exit code "
              f"(stop it with `etl server stop`, or set {MODE}=off)", file=sys.stderr)
        return EXIT_INTERNAL


def _send_signal(pid: int, number: int) -> None:
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass


def _end_by(number: int) -> int:
    import signal

    sys.stdout.flush()
    signal.signal(number, signal.SIG_DFL)
    os.kill(os.getpid(), number)
    return 128 + number  # only if the signal is blocked


def _owned_socket(folder: str) -> bool:
    """Whether `folder` holds a socket, and both belong to this user (never to someone who could
    listen in on the commands' input and output)."""
    try:
        folder_status, socket_status = os.lstat(folder), os.lstat(os.path.join(folder, SERVER_SOCKET))
    except OSError:
        return False
    return (stat.S_ISDIR(folder_status.st_mode) and stat.S_ISSOCK(socket_status.st_mode)
            and folder_status.st_uid == socket_status.st_uid == os.getuid())


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
