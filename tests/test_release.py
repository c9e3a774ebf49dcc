"""`etl diff` between builds and git revisions, and `etl release` with its changelog and citation files."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import REPO, SOURCE, run

CFF_SCHEMA = json.loads((REPO / "tests/data/citation-file-format-1.2.0.schema.json").read_text("utf-8"))
EXTRA_SOURCE = (SOURCE.replace("example-news", "second-news").replace("news/1", "news/2")
                .replace("An example story", "Another example story").replace("2018-07-10", "2018-11-02"))


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), "-c", "user.email=test@example.org", "-c", "user.name=Test", *args],
                          capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repository(project):
    package = json.loads((project / "schemas/package.json").read_text("utf-8"))
    package["version"] = "0.1.0"  # a project that has never been released
    package.pop("created", None)
    (project / "schemas/package.json").write_text(json.dumps(package, indent=2) + "\n")
    assert run(project, "build").exit_code == 0
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "first build")
    return project


def edit_summary(root: Path) -> None:
    path = root / "raw/jurisdictions/ca/contra-costa-county.yaml"
    path.write_text(path.read_text("utf-8").replace("The jail stopped holding people for ICE.", "The jail stopped holding people for ICE that month."))


def test_diff_names_each_changed_row_and_field_against_a_revision(repository):
    edit_summary(repository)
    assert run(repository, "build").exit_code == 0
    result = run(repository, "diff", "HEAD", "--details", "5")
    assert result.exit_code == 0, result.output
    assert "- actions: 2 -> 2 rows: 0 added, 0 removed, 1 changed" in result.output
    assert "changed fields: summary (1)" in result.output
    old, new = '"The jail stopped holding people for ICE."', '"The jail stopped holding people for ICE that month."'
    assert f"changed act-bbbbbbbb: summary {old} -> {new}" in result.output
    assert "Unchanged: jurisdictions" in result.output
    data = {d["table"]: d for d in json.loads(run(repository, "diff", "HEAD", "--format", "json").output)}
    assert data["actions"]["changed"] == {"act-bbbbbbbb": ["summary"]} and data["citations"]["changed"] == {}


def test_diff_compares_two_folders_and_sees_added_rows(repository, tmp_path):
    before = tmp_path / "before"
    shutil.copytree(repository, before, ignore=shutil.ignore_patterns(".git", ".etl-cache"))
    (repository / "raw/sources/second-news.yaml").write_text(EXTRA_SOURCE)
    path = repository / "raw/jurisdictions/ca/contra-costa-county.yaml"
    path.write_text(path.read_text("utf-8").replace("      - source_id: example-news\n        claim: The contract ended in November.",
                                                    "      - source_id: second-news\n        claim: The contract ended in November."))
    assert run(repository, "build").exit_code == 0, run(repository, "validate").output
    result = run(repository, "diff", str(before), str(repository))
    assert "- sources: 1 -> 2 rows: 1 added, 0 removed, 0 changed" in result.output
    assert "- citations: 2 -> 2 rows: 1 added, 1 removed, 0 changed" in result.output  # a citation's key is its action and source


def test_a_side_that_is_neither_a_build_nor_a_revision_is_refused(repository):
    result = run(repository, "diff", "no-such-revision")
    assert result.exit_code == 1 and "is neither a folder with a datapackage.json nor a git revision" in result.output
    assert "Traceback" not in result.output


def test_the_first_release_writes_its_version_a_changelog_and_valid_citation_files(repository):
    (repository / "README.md").write_text("How to cite:\n<!-- citation:start -->\nold\n<!-- citation:end -->\n")
    result = run(repository, "release", "1.0.0", "--date", "2026-12-01", "--repository", "https://example.org/dataset.git")
    assert result.exit_code == 0, result.output
    package = json.loads((repository / "datapackage.json").read_text())
    assert (package["version"], package["created"]) == ("1.0.0", "2026-12-01T00:00:00Z")
    citation = yaml.safe_load((repository / "CITATION.cff").read_text())
    jsonschema.validate(citation, CFF_SCHEMA)
    assert (citation["type"], citation["version"], citation["date-released"]) == ("dataset", "1.0.0", "2026-12-01")
    zenodo = json.loads((repository / ".zenodo.json").read_text())
    assert (zenodo["upload_type"], zenodo["version"], zenodo["license"]) == ("dataset", "1.0.0", "cc-by-4.0")
    changelog = (repository / "CHANGELOG.md").read_text()
    assert "## 1.0.0 (2026-12-01)" in changelog and "- `actions`: 2 rows" in changelog
    assert ", version 1.0.0 (2026-12-01), CC BY 4.0." in (repository / "README.md").read_text()
    assert run(repository, "build", "--check").exit_code == 0


def test_a_later_release_is_compared_with_the_tagged_one_and_must_step_as_far_as_its_changes(repository):
    assert run(repository, "release", "1.0.0", "--date", "2026-12-01").exit_code == 0
    git(repository, "add", "-A")
    git(repository, "commit", "-q", "-m", "release 1.0.0")
    git(repository, "tag", "data-v1.0.0")
    (repository / "raw/sources/second-news.yaml").write_text(EXTRA_SOURCE)
    path = repository / "raw/jurisdictions/ca/contra-costa-county.yaml"
    path.write_text(path.read_text("utf-8").replace("        locator: paragraph 2\n",
                                                    "        locator: paragraph 2\n      - source_id: second-news\n        claim: The contract ended.\n"
                                                    "        locator: paragraph 1\n"))
    too_small = run(repository, "release", "1.0.1", "--date", "2026-12-02")
    assert too_small.exit_code == 1 and "call for a minor release" in too_small.output
    assert json.loads((repository / "schemas/package.json").read_text())["version"] == "1.0.0"
    done = run(repository, "release", "1.1.0", "--date", "2026-12-02")
    assert done.exit_code == 0, done.output
    changelog = (repository / "CHANGELOG.md").read_text()
    assert changelog.index("## 1.1.0 (2026-12-02)") < changelog.index("## 1.0.0 (2026-12-01)")
    assert "Compared with data-v1.0.0:" in changelog and "- `sources` (1 -> 2 rows): 1 rows added" in changelog


def test_a_release_needs_a_later_version_and_the_previous_releases_tag(repository):
    assert "is not after the current version 0.1.0" in run(repository, "release", "0.0.9").output
    assert "is not a semantic version" in run(repository, "release", "v1").output
    assert run(repository, "release", "1.0.0").exit_code == 0
    untagged = run(repository, "release", "1.1.0")
    assert untagged.exit_code == 1 and "there is no tag data-v1.0.0" in untagged.output


def test_the_repositorys_citation_files_name_the_published_version():
    package = json.loads((REPO / "datapackage.json").read_text("utf-8"))
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text("utf-8"))
    jsonschema.validate(citation, CFF_SCHEMA)
    assert citation["version"] == package["version"] == json.loads((REPO / ".zenodo.json").read_text("utf-8"))["version"]
    assert citation["date-released"] == package["created"][:10]
    assert f"## {package['version']} ({package['created'][:10]})" in (REPO / "CHANGELOG.md").read_text("utf-8")
