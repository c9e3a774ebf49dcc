"""Runs that reuse the cache give exactly what a run from scratch gives, after every kind of edit.

The project is a copy of this repository's own raw/ (the real data, with ICE's lists imported), so
that the derived agreements table and references between files are exercised too.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil

import pytest
from conftest import REPO, write

from etl import cache
from etl.pipeline import load_dataset
from etl.problems import ProblemError
from etl.project import CACHE, Project
from etl.publish import render

FAIRFAX = "raw/jurisdictions/va/fairfax-county.yaml"
KEY_WEST = "raw/jurisdictions/fl/key-west.yaml"  # curated actions, and agreements in ICE's lists
ICE_EDITION = "raw/sources/ice-287g-participating-2025-07-18-174302z.yaml"
FLORIDA_LISTINGS = "raw/ice-287g/fl.yaml"


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    shutil.copytree(REPO / "raw", root / "raw")
    shutil.copytree(REPO / "schemas", root / "schemas")
    return root


def outcome(root, use_cache: bool, today: dt.date | None = None):
    """What a run gives: the published files' bytes, or the problems."""
    try:
        dataset = load_dataset(Project(root), use_cache=use_cache, today=today)
    except ProblemError as error:
        return sorted(p.text() for p in error.problems)
    return render(dataset.tables, dataset.schemas)


def replace_in(root, name: str, old: str, new: str) -> None:
    path = root / name
    text = path.read_text("utf-8")
    assert old in text, (name, old)
    path.write_text(text.replace(old, new, 1), "utf-8")


def first_action_id(root, name: str) -> str:
    line = next(line for line in (root / name).read_text("utf-8").splitlines() if "action_id: act-" in line)
    return line.split("action_id: ")[1]


def edits(root):
    """(what, edit) pairs, applied in order: each kind of change a curator makes, and its undoing."""
    fairfax, key_west, edition, listings = (root / name for name in (FAIRFAX, KEY_WEST, ICE_EDITION, FLORIDA_LISTINGS))
    saved = {path: path.read_bytes() for path in (fairfax, key_west, edition, listings)}
    other_id = first_action_id(root, KEY_WEST)
    return [
        ("reword a summary", lambda: replace_in(root, FAIRFAX, "summary: ", "summary: Reworded. ")),
        ("repeat another file's action id", lambda: replace_in(root, FAIRFAX, f"action_id: {first_action_id(root, FAIRFAX)}", f"action_id: {other_id}")),
        ("undo both", lambda: fairfax.write_bytes(saved[fairfax])),
        ("delete a source that other files cite", lambda: edition.unlink()),
        ("restore it", lambda: edition.write_bytes(saved[edition])),
        ("delete a jurisdiction with listed agreements", lambda: key_west.unlink()),
        ("restore it", lambda: key_west.write_bytes(saved[key_west])),
        ("move an edition's date, which changes the derived statuses", lambda: replace_in(root, ICE_EDITION, "published: 2025-07-18", "published: 2025-07-17")),
        ("undo it", lambda: edition.write_bytes(saved[edition])),
        ("give a listing another agreement, which changes the derived agreements",
         lambda: replace_in(root, FLORIDA_LISTINGS, "agreement_id: agr-", "agreement_id: agr-0")),
        ("undo it", lambda: listings.write_bytes(saved[listings])),
        ("break a file's YAML", lambda: replace_in(root, FAIRFAX, "actions:", "actions: [")),
        ("undo it", lambda: fairfax.write_bytes(saved[fairfax])),
        ("add a stray file", lambda: write(root / "raw/notes.txt", "x\n")),
        ("remove it", lambda: (root / "raw/notes.txt").unlink()),
    ]


def test_every_edit_gives_what_a_run_from_scratch_gives(real):
    first = outcome(real, use_cache=True)
    assert isinstance(first, dict), first[:5]  # the real data is valid
    for what, edit in edits(real):
        edit()
        cached, scratch = outcome(real, use_cache=True), outcome(real, use_cache=False)
        assert cached == scratch, what
    assert outcome(real, use_cache=True) == first


def test_a_changed_file_is_read_again_and_the_others_are_not(real, monkeypatch):
    outcome(real, use_cache=True)
    read = []
    real_read_files = __import__("etl.pipeline", fromlist=["read_files"]).read_files

    def spy(project, schemas, names, today, blobs=None, aside=None):
        read.extend(names)
        return real_read_files(project, schemas, names, today, blobs, aside)

    monkeypatch.setattr("etl.pipeline.read_files", spy)
    replace_in(real, FAIRFAX, "summary: ", "summary: Once more. ")
    try:
        assert outcome(real, use_cache=True)
        assert read == [FAIRFAX]
    finally:
        replace_in(real, FAIRFAX, "summary: Once more. ", "summary: ")


def test_a_date_after_the_day_it_was_checked_is_checked_again(tmp_path):
    """The "after today" problem depends on the day: a file that held a future date is read again."""
    from conftest import JURISDICTION, make_project

    root = make_project(tmp_path / "project", JURISDICTION.replace("date: 2018-11", "date: 2031-05"))
    before = outcome(root, use_cache=True, today=dt.date(2031, 4, 30))
    assert any("'2031-05' is after today (2031-04-30)" in p for p in before)
    assert isinstance(outcome(root, use_cache=True, today=dt.date(2031, 6, 1)), dict)
    assert outcome(root, use_cache=True, today=dt.date(2031, 4, 30)) == before


def test_a_missing_shard_means_no_cache(real):
    outcome(real, use_cache=True)
    shard = next((real / CACHE).glob("frame-actions-*.arrow"))
    shard.unlink()
    assert cache.recall_snapshot(Project(real), cache.code_key(Project(real)), Project(real).schemas) is None
    assert outcome(real, use_cache=True) == outcome(real, use_cache=False)


def test_the_digest_memo_never_hides_an_edit(tmp_path, monkeypatch):
    """A file rewritten with the same size and its old modification time is still read again (its
    change time moved), and a file changed just before it was hashed is not remembered at all."""
    from conftest import make_project

    project = Project(make_project(tmp_path / "project"))
    path = project.root / "raw/sources/example-news.yaml"
    assert cache.read_inputs(project).digests  # hashed just now: too recent to remember
    assert cache._recall_memo(project) == {}

    later = cache.time.time_ns() + 10 * cache.RACY_NS
    monkeypatch.setattr(cache.time, "time_ns", lambda: later)
    first = cache.read_inputs(project).digests["raw/sources/example-news.yaml"]
    assert "raw/sources/example-news.yaml" in cache._recall_memo(project)

    status = path.stat()
    path.write_bytes(path.read_bytes().replace(b"An example story", b"An exemple story"))
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert path.stat().st_size == status.st_size and path.stat().st_mtime_ns == status.st_mtime_ns
    assert cache.read_inputs(project).digests["raw/sources/example-news.yaml"] != first
