"""The only reader of raw YAML.

Every scalar is read as the text the curator wrote (no implicit numbers, booleans or dates); an empty
value, `~` or `null` is "no value". Anchors, aliases, tags, duplicate keys and more than one document
are errors. Every mapping remembers the line of each key, so that later stages can point at it.
"""

from __future__ import annotations

import errno
import os
import pickle
import re
import signal
import stat
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .problems import Problem
from .project import MAX_RAW_FILE_BYTES as MAX_FILE_BYTES

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser is several times faster; both behave the same

NULL_WORDS = {"", "~", "null", "Null", "NULL"}
# Characters no raw file may hold: C0 controls but tab and line feed, DEL, C1 controls (NEL among them)
# and the Unicode line and paragraph separators, which YAML and editors would take for line breaks
CONTROL_CHARACTERS = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]"
_CONTROL = re.compile(CONTROL_CHARACTERS)
_SEPARATORS = {"\u2028": "line separator", "\u2029": "paragraph separator"}


def character_name(character: str) -> str:
    """How a message names a character that may not stand in raw text."""
    return f"the {_SEPARATORS.get(character, 'control character')} U+{ord(character):04X}"
_WIDE_CONTROL_BYTES = (b"\xc2", b"\xe2\x80\xa8", b"\xe2\x80\xa9")  # how UTF-8 begins C1 controls (and more), and writes the separators
_TAB_INDENT = re.compile(r"^ *\t", re.MULTILINE)
# every byte but those of the control characters, which UTF-8 never uses inside a longer character
_NOT_CONTROL_BYTES = bytes(range(0x20, 0x7F)) + b"\t\n" + bytes(range(0x80, 0x100))


class Mapping(dict):
    """A YAML mapping whose keys remember their line numbers."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.lines: dict[str, int] = {}


class Sequence(list):
    """A YAML sequence whose items remember their line numbers."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.lines: list[int] = []


@dataclass
class RawFile:
    path: Path
    name: str  # as shown to curators: relative to the project root
    data: Mapping  # the file's top-level mapping


class _Invalid(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def read_raw_file(path: Path, name: str) -> tuple[RawFile | None, list[Problem]]:
    """Read one raw file; return it with no problems, or None with the problems that stop it."""
    blob, problems = read_blob(path, name)
    return parse_blob(path, name, blob) if blob is not None else (None, problems)


def read_blob(path: Path, name: str) -> tuple[bytes | None, list[Problem]]:
    """A raw file's bytes, or None with the reason they cannot be read."""
    not_plain = [Problem(name, 0, "", "is a link or not a regular file; raw files must be plain files inside raw/")]
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        return None, not_plain if error.errno == errno.ELOOP else [Problem(name, 0, "", f"cannot be read ({error.strerror})")]
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            return None, not_plain
        if info.st_size > MAX_FILE_BYTES:  # refused unread: a huge file must not fill memory
            return None, [Problem(name, 0, "", _too_large(info.st_size))]
        with os.fdopen(descriptor, "rb", closefd=False) as stream:
            return stream.read(MAX_FILE_BYTES + 1), []
    except OSError as error:
        return None, [Problem(name, 0, "", f"cannot be read ({error.strerror})")]
    finally:
        os.close(descriptor)


def parse_blob(path: Path, name: str, blob: bytes) -> tuple[RawFile | None, list[Problem]]:
    try:
        return RawFile(path, name, parse_text(decode(blob))), []
    except _Invalid as error:
        return None, [Problem(name, error.line, "", error.message)]


Parsed = tuple["RawFile | None", list[Problem]]  # what parse_blob gives
ASIDE_FROM_FILES = 100  # fewer files than this are parsed here: a fork would cost more than it saves
ASIDE_BYTES = 4_000_000  # about what libyaml parses while pyarrow, polars and pandera import (~0.4 s)


class ParsedAside:
    """Raw files parsed by a forked child process while this one goes on (and imports the libraries
    that check rows): on two cores a cold run pays for the parse of up to ASIDE_BYTES only once.

    The child only parses and sends back what parse_blob gave; whenever it fails (killed, crashed,
    unreadable answer), `collect` returns nothing and the caller parses those files itself, so the
    results never depend on it. It forks only a process without threads of any kind: before pyarrow
    or polars (whose thread pools are native) are imported, on a machine with a second core."""

    def __init__(self, jobs: list[tuple[Path, str, bytes]]):
        self.names: list[str] = []
        self.pid = 0
        self.answer = -1
        if len(jobs) < ASIDE_FROM_FILES or not _can_fork():
            return
        size = 0
        for _, name, blob in jobs:
            if size >= ASIDE_BYTES:
                break
            self.names.append(name)
            size += len(blob)
        taken = jobs[: len(self.names)]
        self.answer, sending = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: parse, send, and leave without running anything of the parent's
            status = 1
            try:
                os.close(self.answer)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                with os.fdopen(sending, "wb") as stream:
                    stream.write(pickle.dumps([parse_blob(*job) for job in taken], pickle.HIGHEST_PROTOCOL))
                status = 0
            finally:
                os._exit(status)
        os.close(sending)

    def collect(self) -> dict[str, Parsed]:
        """What the child parsed, by file name; empty if it parsed nothing or failed."""
        if not self.pid:
            return {}
        try:
            with os.fdopen(self.answer, "rb") as stream:
                answer = stream.read()
        finally:
            status = self._reap()
        try:
            parsed = pickle.loads(answer) if status == 0 else None
        except Exception:  # an answer cut short: parse here instead
            parsed = None
        return dict(zip(self.names, parsed, strict=True)) if isinstance(parsed, list) and len(parsed) == len(self.names) else {}

    def close(self) -> None:
        """Stop a child whose answer is no longer wanted (the run failed before it was collected)."""
        if self.pid:
            os.close(self.answer)
            os.kill(self.pid, signal.SIGKILL)
            self._reap()

    def _reap(self) -> int:
        pid, self.pid = self.pid, 0
        _, status = os.waitpid(pid, 0)
        return status


def _can_fork() -> bool:
    native_threads = any(module in sys.modules for module in ("pyarrow", "polars"))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return hasattr(os, "fork") and not native_threads and threading.active_count() == 1 and cores > 1


def _too_large(size: int) -> str:
    return f"is {size:,} bytes; a raw file may hold at most {MAX_FILE_BYTES:,} (split it)"


def decode(blob: bytes) -> str:
    if len(blob) > MAX_FILE_BYTES:
        raise _Invalid(0, _too_large(len(blob)))
    if blob.startswith(b"\xef\xbb\xbf"):
        raise _Invalid(1, "starts with a byte-order mark; save the file as UTF-8 without BOM")
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError as error:
        line = blob[: error.start].count(b"\n") + 1
        raise _Invalid(line, f"is not UTF-8 text (byte 0x{blob[error.start]:02x}); save the file as UTF-8") from None
    if "\r" in text:
        raise _Invalid(text[: text.index("\r")].count("\n") + 1, "has a carriage return (CRLF line ends); use LF line ends")
    suspect = blob.translate(None, _NOT_CONTROL_BYTES) or any(part in blob for part in _WIDE_CONTROL_BYTES)
    control = _CONTROL.search(text) if suspect else None  # the bytes first: eight times faster
    if control:
        line = text[: control.start()].count("\n") + 1
        raise _Invalid(line, f"has {character_name(control.group())}; remove it")
    tab = _TAB_INDENT.search(text) if "\t" in text else None
    if tab:
        raise _Invalid(text[: tab.start()].count("\n") + 1, "indents with a tab; YAML indents with spaces")
    if not text.strip():
        raise _Invalid(1, "is empty; a raw file holds one YAML mapping")
    return text


def parse_text(text: str) -> Mapping:
    """Parse one YAML document of plain mappings, sequences and text into Mapping/Sequence/str/None."""
    try:
        if ("&" in text or "*" in text or "!" in text) and _MARKUP.search(text):  # no anchor, alias or tag without these
            _refuse_markup(text)
        return _from_nodes(text)
    except RecursionError:
        raise _Invalid(1, "nests lists and records deeper than etl can read; a raw record is a few levels deep") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        raise _Invalid(line, f"is not valid YAML: {error.problem or error.context}") from None
    except yaml.YAMLError as error:  # pragma: no cover - libyaml reports marks for all we have seen
        raise _Invalid(0, f"is not valid YAML: {error}") from None


# where an anchor, alias or tag can begin: at the start of a node, after a line's start or indentation,
# a space (after `key:` or `-`) or a flow indicator; `A&M` or `5*` inside a plain scalar cannot
_MARKUP = re.compile(r"(?:^|[\s\[\]{},])[&*!]", re.MULTILINE)


def _refuse_markup(text: str) -> None:
    """Refuse anchors, aliases and tags, with their line: the tree would hide them."""
    for event in yaml.parse(text, Loader=_Loader):
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Invalid(line, "uses a YAML anchor or alias (& or *); write each value out in full")
        tag = getattr(event, "tag", None)
        if tag:
            raise _Invalid(line, f"uses the YAML tag {tag}; tags are not allowed")


class _TextLoader(_Loader):
    """Every scalar is text to us, so tags are not resolved. libyaml's composer calls these three
    methods for every node; as built-in callables that do nothing they cost a fifth of what Python
    functions would (a tenth of a cold parse)."""

    resolve = "tag:yaml.org,2002:str".format  # resolve(kind, value, implicit) -> this tag, for every node
    descend_resolver = slice  # descend_resolver(parent, index): nothing to remember
    ascend_resolver = tuple  # ascend_resolver(): nothing to forget


def _from_nodes(text: str) -> Mapping:
    """The fast path: libyaml composes the node tree in C; we only convert it."""
    loader = _TextLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.composer.ComposerError as error:
        if "single document" not in str(error.context):
            raise
        line = error.problem_mark.line + 1 if error.problem_mark else 0
        raise _Invalid(line, "holds more than one YAML document; keep one per file") from None
    finally:
        loader.dispose()
    if root is None:
        raise _Invalid(1, "is empty; a raw file holds one YAML mapping")
    if not isinstance(root, yaml.MappingNode):
        raise _Invalid(1, "must hold a YAML mapping (key: value lines) at the top level")
    return _value_of(root)


_SCALAR, _SEQUENCE = yaml.ScalarNode, yaml.SequenceNode  # the composer makes exactly these classes


def _value_of(node):
    kind = type(node)
    if kind is _SCALAR:
        return None if not node.style and node.value in NULL_WORDS else node.value
    if kind is _SEQUENCE:
        items = Sequence(node.start_mark.line + 1)
        for item in node.value:
            items.lines.append(item.start_mark.line + 1)
            items.append(_value_of(item))
        return items
    mapping = Mapping(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key_line = key_node.start_mark.line + 1
        if type(key_node) is not _SCALAR:
            raise _Invalid(key_line, "has a key that is not plain text")
        key = key_node.value
        if key in mapping:
            raise _Invalid(key_line, f"repeats the key '{key}' (first on line {mapping.lines[key]})")
        mapping.lines[key] = key_line
        mapping[key] = _value_of(value_node)
    return mapping
