"""Small projects made by the tests themselves, in temporary folders."""

from __future__ import annotations

import csv
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from etl.cli import cli

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

JURISDICTION = """\
jurisdiction_id: ca-contra-costa-county
name: Contra Costa County
kind: county
state: CA
state_fips: '06'
county_fips: '06013'
ocd_id: ocd-division/country:us/state:ca/county:contra_costa
actions:
  - action_id: act-aaaaaaaa
    date: 2018-07-10
    action: terminate
    stage: announced
    arrangement: igsa_detention
    actor_role: sheriff
    actor_name: Sheriff Example
    initiated_by: local
    summary: The sheriff announced the end of the jail's contract to hold ICE detainees.
    citations:
      - source_id: example-news
        claim: The sheriff announced that the contract would end.
        locator: paragraph 1
  - action_id: act-bbbbbbbb
    date: 2018-11
    action: terminate
    stage: in_effect
    arrangement: igsa_detention
    actor_role: sheriff
    actor_name: Sheriff Example
    initiated_by: local
    summary: The jail stopped holding people for ICE.
    citations:
      - source_id: example-news
        claim: The contract ended in November.
        locator: paragraph 2
    links:
      - relation: carries_out
        related_action_id: act-aaaaaaaa
"""

SOURCE = """\
source_id: example-news
url: https://example.org/news/1
publisher: Example News
title: An example story
published: 2018-07-10
kind: news
"""


def make_project(root: Path, jurisdiction: str = JURISDICTION, source: str = SOURCE) -> Path:
    """A complete, valid project: the real schemas, one jurisdiction file and one source file."""
    shutil.copytree(REPO / "schemas", root / "schemas")
    write(root / "raw/jurisdictions/ca/contra-costa-county.yaml", jurisdiction)
    write(root / "raw/sources/example-news.yaml", source)
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def run(root: Path, *args: str):
    return CliRunner().invoke(cli, ["--root", str(root), *args])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")


REGISTRY_ROWS = [
    ("ocd-division/country:us/state:al/county:cherokee", "Cherokee County", "place-01019"),
    ("ocd-division/country:us/state:fl/county:monroe", "Monroe County", "place-12087"),
    ("ocd-division/country:us/state:fl/place:key_west", "Key West city", "place-1236550"),
    ("ocd-division/country:us/state:nc/county:mecklenburg", "Mecklenburg County", "place-37119"),
    ("ocd-division/country:us/state:va/county:mecklenburg", "Mecklenburg County", "place-51117"),
]


@pytest.fixture
def importing(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(REPO / "schemas", root / "schemas")
    registry = tmp_path / "registry.csv"
    with open(registry, "w", newline="") as handle:
        csv.writer(handle).writerows([("id", "name", "census_geoid"), *REGISTRY_ROWS])
    return root, registry


def run_readme_example(tmp_path: Path, heading: str, family: str) -> None:
    """The README's commands after `heading` (archive, import, import --check), run on a copy of the
    repository's inputs: each must succeed and raw/ must not change."""
    import shlex

    readme = (REPO / "README.md").read_text("utf-8")
    block = readme.split(heading, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line)[1:] for line in block.splitlines() if line.startswith(".venv/bin/etl ")]
    assert [command[:2] for command in commands] == [["archive", family], ["import", family], ["import", family]]
    root = tmp_path / "clone"
    for part in ("raw", "schemas", "imports", "archive"):
        shutil.copytree(REPO / part, root / part)
    if (REPO / ".etl-cache/workbooks").exists():  # only saves time: a missing cache is read again
        shutil.copytree(REPO / ".etl-cache/workbooks", root / ".etl-cache/workbooks")

    def raw() -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "raw").rglob("*")) if p.is_file()}

    before = raw()
    for command in commands:
        result = run(root, *command)
        assert result.exit_code == 0, (command, result.output[-2000:])
    assert raw() == before
