"""Property-based tests: random and mutated input never makes the loader or the validators raise
anything but the curators' own problems."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from conftest import JURISDICTION, REPO, SOURCE, make_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.load import parse_text, read_raw_file
from etl.pipeline import load_dataset
from etl.problems import Problem, ProblemError
from etl.project import Project
from etl.schema import load_schemas

SCHEMAS = load_schemas(REPO / "schemas")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PROJECT_SETTINGS = settings(SETTINGS, max_examples=80)  # each example validates a whole project


def load_bytes(blob: bytes) -> list[Problem]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "record.yaml"
        path.write_bytes(blob)
        raw, problems = read_raw_file(path, "record.yaml")
    assert (raw is None) == bool(problems)
    return problems


@SETTINGS
@given(st.binary(max_size=2000))
def test_any_bytes_are_read_or_refused_with_a_problem(blob):
    for problem in load_bytes(blob):
        assert problem.file == "record.yaml" and problem.message


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("abc: -[]{}&*!|>'\"#\n\t,?%@`~0123456789")), max_size=300))
def test_yaml_punctuation_soup_never_crashes_the_loader(text):
    load_bytes(text.encode("utf-8"))


def mutate(text: str, data) -> str:
    chars = list(text)
    for _ in range(data.draw(st.integers(1, 6))):
        position = data.draw(st.integers(0, max(0, len(chars) - 1)))
        operation = data.draw(st.sampled_from(["delete", "insert", "replace", "duplicate_line"]))
        if operation == "delete" and chars:
            del chars[position]
        elif operation == "insert":
            chars.insert(position, data.draw(st.sampled_from(list(":-[]{}&*!'\"# \n\t\x00\x7fé=+@"))))
        elif operation == "replace" and chars:
            chars[position] = data.draw(st.characters(blacklist_categories=["Cs"]))
        else:
            lines = "".join(chars).split("\n")
            line = data.draw(st.integers(0, len(lines) - 1))
            lines.insert(line, lines[line])
            chars = list("\n".join(lines))
    return "".join(chars)


def check_project(jurisdiction: str, source: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = make_project(Path(folder) / "p", jurisdiction, source)
        try:
            load_dataset(Project(root), use_cache=False)
        except ProblemError as error:
            assert error.problems
            for problem in error.problems:
                assert problem.file.startswith("raw/") and problem.message


@PROJECT_SETTINGS
@given(st.data())
def test_mutated_records_give_problems_never_crashes(data):
    target = data.draw(st.sampled_from(["jurisdiction", "source"]))
    jurisdiction = mutate(JURISDICTION, data) if target == "jurisdiction" else JURISDICTION
    source = mutate(SOURCE, data) if target == "source" else SOURCE
    check_project(jurisdiction, source)


def values():
    scalars = st.one_of(st.none(), st.text(max_size=40), st.integers(), st.booleans(), st.sampled_from(["2018-07-10", "06013", "NO", "act-aaaaaaaa"]))
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=12), inner, max_size=3)), max_leaves=8)


def records(table: str):
    keys = SCHEMAS.raw_keys(table) + ["unknown_key"]
    return st.dictionaries(st.sampled_from(keys), values(), max_size=len(keys))


@PROJECT_SETTINGS
@given(records("jurisdictions"), records("sources"))
def test_random_records_give_problems_never_crashes(jurisdiction, source):
    check_project(yaml.safe_dump(jurisdiction, allow_unicode=True), yaml.safe_dump(source, allow_unicode=True))


@SETTINGS
@given(st.text(max_size=200))
def test_parse_text_raises_only_its_own_error(text):
    try:
        parse_text(text)
    except Exception as error:  # noqa: BLE001 - the point is which exceptions escape
        assert type(error).__name__ == "_Invalid", repr(error)
