"""`etl site` on the real data: every page there, every link inside it resolves, nothing loads from
elsewhere, and the charts and the map have text alternatives and tables behind them."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import REPO, run

LINK = re.compile(r'<(a|link|script|img|iframe)\b[^>]*?\b(href|src)="([^"]*)"', re.IGNORECASE)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    result = run(REPO, "site", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_every_page_is_accessible_html_that_loads_nothing_from_elsewhere(site):
    found = pages(site)
    assert len(found) > 1000
    for page in found:
        text = page.read_text("utf-8")
        assert text.startswith("<!doctype html>") and '<html lang="en">' in text and 'name="viewport"' in text, page
        assert '<a class="skip" href="#main">' in text and "<h1>" in text, page
        for tag, _attribute, target in LINK.findall(text):
            if target.startswith(("http://", "https://", "//")):
                assert tag.lower() == "a", (page, tag, target)  # a link a reader may follow, never a resource the page loads
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), page


def test_every_link_inside_the_site_resolves(site):
    for page in pages(site):
        text = page.read_text("utf-8")
        for _, _, target in LINK.findall(text):
            if target.startswith(("http://", "https://", "data:")) or not target:
                continue
            file, _, fragment = target.partition("#")
            path = (page.parent / file).resolve() if file else page.resolve()
            assert path.is_file() and site.resolve() in path.parents, (page, target)
            if fragment and path.suffix == ".html":
                assert f'id="{fragment}"' in (text if path == page.resolve() else path.read_text("utf-8")), (page, target)


def test_the_charts_and_the_map_have_text_alternatives_and_tables(site):
    index = (site / "index.html").read_text("utf-8")
    charts = re.findall(r'<svg viewBox="0 0 640 260" role="img" aria-labelledby="([^"]+)-t" aria-describedby="([^"]+)-d"', index)
    assert len(charts) == 3 and index.count("The numbers behind the chart") == 3
    for title, description in charts:
        assert f'<title id="{title}-t">' in index and f'<desc id="{description}-d">' in index
    atlas = json.loads((REPO / "archive/us-atlas/counties-albers-10m.json").read_text("utf-8"))
    objects = atlas["objects"]
    assert index.count('<path d="') == len(objects["counties"]["geometries"]) + len(objects["states"]["geometries"])  # counties, then state borders
    assert '<svg viewBox="0 0 975 610" aria-hidden="true"' in index and "The table behind the map" in index
    hudson = re.search(r'<tr><td>NJ</td><td><a href="j/nj-hudson-county.html">Hudson County, NJ</a></td><td>34017</td><td>([^<]+)</td></tr>', index)
    assert hudson, "Hudson County is in the table behind the map, with its state, linked to its page"


def test_search_finds_every_jurisdiction_with_a_page(site):
    index = (site / "index.html").read_text("utf-8")
    entries = json.loads(re.search(r'<script type="application/json" id="index">(.*?)</script>', index).group(1))  # type: ignore[union-attr]
    assert entries and all((site / href).is_file() for _, _, href, _ in entries)
    assert ["Hudson County", "NJ", "j/nj-hudson-county.html", ""] in entries
    assert any(what == "detention facility" and name == "Stewart Detention Center" for name, _, _, what in entries)


def test_a_jurisdiction_page_gives_every_claim_with_its_source_and_text_fragment(site):
    page = (site / "j/nj-hudson-county.html").read_text("utf-8")
    actions = [a for a in pq.read_table(REPO / "datasets/actions.parquet").to_pylist() if a["jurisdiction_id"] == "nj-hudson-county"]
    ids = {a["action_id"] for a in actions}
    citations = [c for c in pq.read_table(REPO / "datasets/citations.parquet").to_pylist() if c["action_id"] in ids]
    assert actions and citations
    for action in actions:
        assert f'id="{action["action_id"]}"' in page
    import html

    for citation in citations:
        assert html.escape(citation["claim"]) in page
    assert page.count('<li class="claim">') == len(citations)
    assert "#:~:text=" in page


def test_the_same_tables_give_the_same_site(site, tmp_path):
    again = tmp_path / "again"
    assert run(REPO, "site", "--out", str(again)).exit_code == 0

    def digest(folder: Path) -> dict[str, str]:
        return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}

    assert digest(site) == digest(again)
