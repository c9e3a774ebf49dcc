"""The committed dataset itself: valid, current, and consistent with the reference registries.

The registry checks read ../shared/reference/, which a lone clone may not have; they skip, saying so,
only there."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import REPO, SHARED, run, run_readme_example

from etl.pipeline import load_dataset
from etl.project import Project

OCD_REGISTRY = REPO / "archive/ocd/us_census_places.csv"  # archived in the repository
SEED_JURISDICTIONS = ["va-fairfax-county", "nj-hudson-county", "ca-contra-costa-county", "pa-philadelphia", "va-alexandria"]
needs_registry = pytest.mark.skipif(not OCD_REGISTRY.exists(), reason=f"{OCD_REGISTRY} is absent (a lone clone without ../shared/)")


@pytest.fixture(scope="module")
def dataset():
    return load_dataset(Project(REPO))


def published(table: str) -> list[dict]:
    with open(REPO / f"datasets/{table}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_raw_records_are_valid(dataset):
    assert dataset.tables["actions"].rows


def test_the_committed_outputs_equal_a_fresh_build():
    result = run(REPO, "build", "--check")
    assert result.exit_code == 0, result.output


def test_the_raw_files_are_canonical():
    result = run(REPO, "fmt", "--check")
    assert result.exit_code == 0, result.output


def test_the_generated_docs_are_current():
    result = run(REPO, "docs", "--check")
    assert result.exit_code == 0, result.output


def test_the_seed_jurisdictions_are_published_with_cited_actions():
    ids = {row["jurisdiction_id"] for row in published("jurisdictions")}
    assert set(SEED_JURISDICTIONS) <= ids
    actions = published("actions")
    cited = {row["action_id"] for row in published("citations") if row["claim"] and row["locator"]}
    for jurisdiction in SEED_JURISDICTIONS:
        own = [a["action_id"] for a in actions if a["jurisdiction_id"] == jurisdiction]
        assert len(own) >= 2, jurisdiction
        assert set(own) <= cited, jurisdiction


def test_the_seed_article_and_the_post_article_are_cited():
    urls = {row["source_id"]: row["url"] for row in published("sources")}
    cited = {row["source_id"] for row in published("citations")}
    seed = [sid for sid, url in urls.items() if "libertyheadlines.com/undermine-ice-cooperation" in url]
    post = [row["source_id"] for row in published("sources") if "The Washington Post" in row["publisher"] and row["published"] == "2018-10-21"]
    assert seed and set(seed) <= cited
    assert post and set(post) <= cited


@needs_registry
def test_every_ocd_id_and_geoid_is_in_the_registry():
    with open(OCD_REGISTRY, newline="", encoding="utf-8") as handle:
        registry = {row["id"]: row["census_geoid"] for row in csv.DictReader(handle)}
    for row in published("jurisdictions"):
        ocd = row["ocd_id"]
        if row["kind"] == "state":
            assert ocd == f"ocd-division/country:us/state:{row['state'].lower()}", row["jurisdiction_id"]
            continue
        if row["kind"] == "special_district":
            assert not ocd and not row["place_geoid"], row["jurisdiction_id"]  # the registry lists none
            continue
        assert ocd in registry, f"{row['jurisdiction_id']}: {ocd} is not in the OCD registry"
        geoid = registry[ocd].removeprefix("place-")
        if "/place:" in ocd and len(geoid) == 10:  # a town or township: its GEOID starts with its county's
            assert row["county_fips"] == geoid[:5] and not row["place_geoid"], row["jurisdiction_id"]
        elif "/place:" in ocd:
            assert row["place_geoid"] == geoid, row["jurisdiction_id"]
        else:
            assert row["county_fips"] == geoid, row["jurisdiction_id"]
        if row["place_geoid"]:
            place_ids = {v.removeprefix("place-") for v in registry.values()}
            assert row["place_geoid"] in place_ids, row["jurisdiction_id"]


def test_datapackage_describes_every_table():
    package = json.loads((REPO / "datapackage.json").read_text())
    names = {resource["name"] for resource in package["resources"]}
    for table in ["jurisdictions", "actions", "citations", "action_links", "sources"]:
        assert {table, f"{table}-parquet"} <= names


RESEARCH = SHARED / "research/sourced-facts.md"
SEED = SHARED / "seed/liberty-headlines-undermine-ice-cooperation.txt"
COPY_WORDS = 8  # a run this long, shared with a source passage, is a copied sentence, not a fact


def _words(text: str) -> list[str]:
    import re

    return re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))


def _runs(text: str, n: int) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def _quote_cell(table_row: str) -> str:
    """The last cell of a research-table row: the passage the fact rests on."""
    return table_row.rstrip(" |").rsplit(" | ", 1)[-1]


@pytest.mark.skipif(not RESEARCH.exists(), reason=f"{RESEARCH} is absent (a lone clone without ../shared/)")
def test_no_published_text_copies_a_source_passage():
    passages = [_quote_cell(line) for line in RESEARCH.read_text("utf-8").splitlines() if line.startswith("| ")]
    passages.append(SEED.read_text("utf-8"))
    copied = set().union(*(_runs(p, COPY_WORDS) for p in passages))
    for table, fields in {"actions": ["summary", "notes"], "citations": ["claim", "locator"], "sources": ["notes"]}.items():
        for row in published(table):
            for field in fields:
                shared = _runs(row[field], COPY_WORDS) & copied
                assert not shared, f"{table}.{field} copies a source: {' '.join(next(iter(shared)))!r}"


def _research_urls() -> set[str]:
    """The URLs in the research file's source column (publisher, title, date, URL)."""
    import re

    urls = set()
    for line in RESEARCH.read_text("utf-8").splitlines():
        if line.startswith("| ") and not line.startswith(("| #", "|---")):
            source_cell = line.strip("|").split(" | ")[-2]
            urls |= set(re.findall(r"\b((?:[a-z0-9-]+\.)+(?:com|org|gov|net|us|edu|news|co)/[^\s|;,)]*)", source_cell))
    return urls


def _bare(url: str) -> str:
    import re

    return re.sub(r"^(https?://)?(www\.)?", "", url).rstrip("/")


@pytest.mark.skipif(not RESEARCH.exists(), reason=f"{RESEARCH} is absent (a lone clone without ../shared/)")
def test_every_research_url_is_a_cited_source():
    urls = _research_urls()
    assert len(urls) >= 90
    published_urls = {_bare(row["url"]): row["source_id"] for row in published("sources")}
    cited = {row["source_id"] for row in published("citations")}
    for url in urls:
        assert _bare(url) in published_urls, f"{url} is not a published source"
        assert published_urls[_bare(url)] in cited, f"{url} is not cited"


def test_at_least_80_jurisdictions_have_curated_actions():
    curated = {row["jurisdiction_id"] for row in published("actions")}  # ICE's lists are listings, not actions
    assert len(curated) >= 80


def test_every_row_of_the_latest_edition_is_one_listed_agreement():
    editions = [row for row in published("editions_287g") if row["list"] == "ice_287g_participating"]
    latest = max(editions, key=lambda row: (row["as_of"], row["source_id"]))
    assert int(latest["agreements"]) == int(latest["rows"]) == 1843  # ICE's edition of 2026-05-18
    listed = [row for row in published("agreements_287g") if row["last_listed_source_id"] == latest["source_id"]]
    assert len(listed) == 1843 and {row["status"] for row in listed} == {"listed"}


def test_no_agreement_reported_no_longer_listed_is_listed_under_another_spelling():
    from etl.names import normalized

    agreements = published("agreements_287g")
    listed = {}
    for row in agreements:
        if row["status"] == "listed":
            listed.setdefault((row["state"], row["model"]), []).append(normalized(row["agency"]))
    for row in agreements:
        if row["status"] == "no_longer_listed":
            same = [name for name in listed.get((row["state"], row["model"]), []) if name == normalized(row["agency"])]
            assert not same, f"{row['agreement_id']} {row['agency']} is listed as {same}"


def test_the_readmes_import_example_runs_as_written_and_changes_nothing(tmp_path):
    """The README's commands for a new edition, run on a copy of the repository's inputs: they end in
    `etl import ice-287g --check`, which fails unless raw/ says what the archived editions say."""
    run_readme_example(tmp_path, "To add a new edition, archive the file", "ice-287g")


def test_the_published_package_validates_with_frictionless_as_the_readme_says():
    """Every resource, CSV and Parquet, with its types, keys, hashes and sizes (Frictionless reads the
    Parquet files with pandas, which turns a column of integers with empty cells into floats)."""
    from frictionless import Package

    report = Package(str(REPO / "datapackage.json")).validate()
    assert report.valid, [(task.name, task.errors[:3]) for task in report.tasks if not task.valid]
    assert "frictionless validate datapackage.json" in (REPO / "README.md").read_text("utf-8")
