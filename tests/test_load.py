"""The raw loader reads exactly what the curator wrote, or says precisely why it cannot."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import REPO

from etl.load import ASIDE_FROM_FILES, ParsedAside, read_raw_file


def load(tmp_path, content: bytes | str):
    path = tmp_path / "record.yaml"
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return read_raw_file(path, "record.yaml")


def test_scalars_stay_the_text_written(tmp_path):
    raw, problems = load(tmp_path, "fips: 06013\nanswer: NO\non: yes\nday: 2018-07-10\nyear: 2018\nfloat: 1.50\nquoted: 'x'\n")
    assert problems == []
    assert raw.data == {"fips": "06013", "answer": "NO", "on": "yes", "day": "2018-07-10", "year": "2018", "float": "1.50", "quoted": "x"}


def test_empty_tilde_and_null_are_no_value_but_quoted_null_is_text(tmp_path):
    raw, _ = load(tmp_path, "a:\nb: ~\nc: null\nd: 'null'\n")
    assert raw.data == {"a": None, "b": None, "c": None, "d": "null"}


def test_keys_remember_their_lines(tmp_path):
    raw, _ = load(tmp_path, "a: 1\nlist:\n  - x: 1\n    y: 2\n")
    assert raw.data.lines == {"a": 1, "list": 2}
    assert raw.data["list"].lines == [3]
    assert raw.data["list"][0].lines == {"x": 3, "y": 4}


@pytest.mark.parametrize("content, line, message", [
    ("a: &anchor 1\nb: *anchor\n", 1, "uses a YAML anchor or alias (& or *); write each value out in full"),
    ("a: !!python/object/apply:os.system ['true']\n", 1, "uses the YAML tag tag:yaml.org,2002:python/object/apply:os.system; tags are not allowed"),
    ("a: !!str 06013\n", 1, "uses the YAML tag tag:yaml.org,2002:str; tags are not allowed"),
    ("a: 1\nb: 2\na: 3\n", 3, "repeats the key 'a' (first on line 1)"),
    ("a: 1\n---\nb: 2\n", 2, "holds more than one YAML document; keep one per file"),
    ("- a\n- b\n", 1, "must hold a YAML mapping (key: value lines) at the top level"),
    ("a: b: c\n", 1, "is not valid YAML: mapping values are not allowed in this context"),
    ("a:\n\tb: 1\n", 2, "indents with a tab; YAML indents with spaces"),
    ("", 1, "is empty; a raw file holds one YAML mapping"),
    ("# only a comment\n", 1, "is empty; a raw file holds one YAML mapping"),
    ("\ufeffa: 1\n", 1, "starts with a byte-order mark; save the file as UTF-8 without BOM"),
    ("a: 1\r\nb: 2\r\n", 1, "has a carriage return (CRLF line ends); use LF line ends"),
    ("a: 1\nb: x\x07y\n", 2, "has the control character U+0007; remove it"),
    ("{[1]: x}\n", 1, "has a key that is not plain text"),
])
def test_malformed_files_are_refused_with_line_and_reason(tmp_path, content, line, message):
    raw, problems = load(tmp_path, content)
    assert raw is None
    assert [(p.line, p.message) for p in problems] == [(line, message)]


def test_bytes_that_are_not_utf8(tmp_path):
    raw, problems = load(tmp_path, b"a: 1\nb: caf\xe9\n")
    assert raw is None
    assert [(p.line, p.message) for p in problems] == [(2, "is not UTF-8 text (byte 0xe9); save the file as UTF-8")]


def test_billion_laughs_is_refused_without_expanding(tmp_path):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"] + [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]" for i in range(8)]
    raw, problems = load(tmp_path, "\n".join(lines) + "\n")
    assert raw is None and problems[0].message.startswith("uses a YAML anchor or alias")


def test_a_symbolic_link_is_refused(tmp_path):
    target = tmp_path / "outside.yaml"
    target.write_text("a: 1\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    raw, problems = read_raw_file(link, "link.yaml")
    assert raw is None
    assert problems[0].message == "is a link or not a regular file; raw files must be plain files inside raw/"


def test_today_is_the_same_day_in_every_time_zone():
    """What a run decides ("after today") must not depend on the time zone of the run that cached it."""
    import os
    import subprocess
    import sys

    days = set()
    for zone in ("Pacific/Kiritimati", "Etc/GMT+12", "UTC"):
        code = "from etl import dates; print(dates.today())"
        days.add(subprocess.run([sys.executable, "-c", code], env={**os.environ, "TZ": zone}, capture_output=True, text=True, check=True).stdout.strip())
    assert len(days) == 1, days  # local dates differ: Kiritimati is 26 hours ahead of GMT+12


ASIDE_SCRIPT = r"""
import os, signal, sys
from pathlib import Path
from etl.load import Mapping, ParsedAside, Sequence, parse_blob

def shape(value):  # a value with the lines it remembers
    if isinstance(value, Mapping):
        return ("map", value.line, sorted(value.lines.items()), [(k, shape(v)) for k, v in value.items()])
    if isinstance(value, Sequence):
        return ("seq", value.line, value.lines, [shape(v) for v in value])
    return value

def outcome(parsed):
    raw, problems = parsed
    return (shape(raw.data) if raw else None, problems)

from etl.load import ASIDE_BYTES
jobs, size = [(Path("bad.yaml"), "bad.yaml", b"a: 1\na: 2\n")], 0
for path in sorted(Path(sys.argv[1]).rglob("*.yaml")):  # real files, as many as the child parses (it stops at ASIDE_BYTES)
    blob = path.read_bytes()
    if size + len(blob) >= ASIDE_BYTES:
        break
    jobs.append((path, str(path), blob))
    size += len(blob)
aside = ParsedAside(jobs)
assert aside.pid, "did not fork"
got = aside.collect()
assert set(got) == {name for _, name, _ in jobs}, "not every file came back"
assert all(outcome(got[name]) == outcome(parse_blob(path, name, blob)) for path, name, blob in jobs), "differs"
assert got["bad.yaml"][1][0].message.startswith("repeats the key"), got["bad.yaml"]

killed = ParsedAside(jobs)
os.kill(killed.pid, signal.SIGKILL)
assert killed.collect() == {}, "a killed child gave an answer"

dropped = ParsedAside(jobs)
dropped.close()
try:
    os.waitpid(-1, os.WNOHANG)
    raise AssertionError("a child was left")
except ChildProcessError:
    pass
print("ok")
"""


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="files are parsed aside only with a second core")
def test_files_parsed_aside_give_what_parsing_here_gives_or_nothing():
    done = subprocess.run([sys.executable, "-c", ASIDE_SCRIPT, str(REPO / "raw")], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


def test_no_child_is_forked_once_native_thread_pools_may_run(tmp_path):
    import pyarrow  # noqa: F401 - its threads make a fork unsafe

    jobs = [(tmp_path / f"{n}.yaml", f"{n}.yaml", b"a: 1\n") for n in range(ASIDE_FROM_FILES)]
    assert ParsedAside(jobs).pid == 0
