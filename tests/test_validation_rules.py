"""One test per validation rule: a valid project with one mistake gets exactly the expected problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import JURISDICTION, SOURCE, make_project, write

from etl.pipeline import load_dataset
from etl.problems import ProblemError
from etl.project import Project

J = "raw/jurisdictions/ca/contra-costa-county.yaml"
S = "raw/sources/example-news.yaml"


def problems_of(root: Path) -> list[str]:
    try:
        load_dataset(Project(root))
    except ProblemError as error:
        return [problem.text() for problem in error.problems]
    return []


def test_the_fixture_is_valid(project):
    assert problems_of(project) == []


CASES = [
    # (case id, text to replace in the jurisdiction file, its replacement, expected problems)
    ("unknown key", "    summary: The jail", "    colour: red\n    summary: The jail",
     [f"{J}:30: actions[1].colour: is not a known key (allowed: action_id, date, action, stage, arrangement, actor_role, actor_name, initiated_by, summary, notes, agreement_id, citations, links)"]),
    ("list where text is due", "actor_name: Sheriff Example\n    initiated_by: local\n    summary: The jail",
     "actor_name: [a, b]\n    initiated_by: local\n    summary: The jail",
     [f"{J}:28: actions[1].actor_name: must be text, not a list"]),
    ("text where a list is due", "    links:\n      - relation: carries_out\n        related_action_id: act-aaaaaaaa\n", "    links: none\n",
     [f"{J}:35: actions[1].links: must be a list of records (- key: value), not text"]),
    ("missing required field", "    stage: in_effect\n", "",
     [f"{J}:22: actions[1].stage: is required but missing or empty"]),
    ("month out of range", "date: 2018-11\n", "date: 2018-13-01\n",
     [f"{J}:23: actions[1].date: '2018-13-01' is not a date (use YYYY, YYYY-MM or YYYY-MM-DD, a span START/END, or ../END)"]),
    ("impossible day", "date: 2018-11\n", "date: 2018-02-30\n",
     [f"{J}:23: actions[1].date: '2018-02-30' is not a date (use YYYY, YYYY-MM or YYYY-MM-DD, a span START/END, or ../END)"]),
    ("reversed span", "date: 2018-11\n", "date: 2019/2018-11\n",
     [f"{J}:23: actions[1].date: '2019/2018-11' ends before it starts"]),
    ("date in the future", "date: 2018-11\n", "date: 2999-01\n",
     [f"{J}:23: actions[1].date: '2999-01' is after today"]),
    ("value outside the vocabulary", "stage: in_effect", "stage: finished",
     [f"{J}:25: actions[1].stage: 'finished' is not allowed (use one of: proposed, requested, announced, deferred, approved, notice_given, in_effect, occurred)"]),
    ("text too short", "claim: The contract ended in November.", "claim: Ended.",
     [f"{J}:33: actions[1].citations[0].claim: is 6 characters long (allowed: 10 to 1000)"]),
    ("empty required text", "claim: The contract ended in November.", "claim: ''",
     [f"{J}:33: actions[1].citations[0].claim: is empty; write it"]),
    ("spreadsheet formula", "summary: The jail stopped", "summary: =HYPERLINK(1) The jail stopped",
     [f"{J}:30: actions[1].summary: starts with '=', which a spreadsheet would run as a formula; reword it"]),
    ("surrounding spaces", "actor_name: Sheriff Example\n    initiated_by: local\n    summary: The jail",
     "actor_name: ' Sheriff Example'\n    initiated_by: local\n    summary: The jail",
     [f"{J}:28: actions[1].actor_name: has leading or trailing spaces; remove them"]),
    ("duplicate action id", "action_id: act-bbbbbbbb", "action_id: act-aaaaaaaa",
     [f"{J}:9: actions[0].action_id: 'act-aaaaaaaa' is used more than once; actions ids must be unique (also at {J}:22)",
      f"{J}:19: actions[0].citations[0].action_id: repeats the citations row with action_id 'act-aaaaaaaa', source_id 'example-news'; each may appear once",
      f"{J}:22: actions[1].action_id: 'act-aaaaaaaa' is used more than once; actions ids must be unique (also at {J}:9)",
      f"{J}:32: actions[1].citations[0].action_id: repeats the citations row with action_id 'act-aaaaaaaa', source_id 'example-news'; each may appear once",
      f"{J}:37: actions[1].links[0].related_action_id: links the action to itself; name an earlier action"]),
    ("source cited twice by one action", "        locator: paragraph 2\n",
     "        locator: paragraph 2\n      - source_id: example-news\n        claim: The contract ended in November.\n        locator: paragraph 3\n",
     [f"{J}:32: actions[1].citations[0].action_id: repeats the citations row with action_id 'act-bbbbbbbb', source_id 'example-news'; each may appear once",
      f"{J}:35: actions[1].citations[1].action_id: repeats the citations row with action_id 'act-bbbbbbbb', source_id 'example-news'; each may appear once"]),
    ("missing source", "source_id: example-news\n        claim: The contract ended", "source_id: no-such-source\n        claim: The contract ended",
     [f"{J}:32: actions[1].citations[0].source_id: 'no-such-source' is not a source (there is no raw/sources/no-such-source.yaml)"]),
    ("missing linked action", "related_action_id: act-aaaaaaaa", "related_action_id: act-cccccccc",
     [f"{J}:37: actions[1].links[0].related_action_id: 'act-cccccccc' is not an action in the dataset"]),
    ("action without citation", "    citations:\n      - source_id: example-news\n        claim: The contract ended in November.\n        locator: paragraph 2\n", "",
     [f"{J}:22: actions[1].citations: has no citation; cite at least one source with a claim and a locator"]),
    ("unknown state", "state: CA", "state: XX",
     [f"{J}:4: state: 'XX' is not a USPS state code (e.g. VA, CA, DC, PR)"]),
    ("state FIPS of another state", "state_fips: '06'", "state_fips: '51'",
     [f"{J}:5: state_fips: '51' is not the FIPS code of CA (use '06')"]),
    ("county FIPS of another state", "county_fips: '06013'", "county_fips: '51059'",
     [f"{J}:6: county_fips: '51059' is not in CA (a county there starts with '06')"]),
    ("county FIPS of no county", "county_fips: '06013'", "county_fips: '06999'",
     [f"{J}:6: county_fips: '06999' is not a county in the Census county list"]),
    ("county FIPS written as a number", "county_fips: '06013'", "county_fips: 6013",
     [f"{J}:6: county_fips: '6013' is not a county FIPS code (use five digits: the state's two and the county's three, e.g. 06013)"]),
    ("county without county FIPS", "county_fips: '06013'\n", "",
     [f"{J}:1: county_fips: is required for a county"]),
    ("place GEOID of another state", "county_fips: '06013'\n", "county_fips: '06013'\nplace_geoid: '5101000'\n",
     [f"{J}:7: place_geoid: '5101000' is not in CA (a place there starts with '06')"]),
    ("OCD id of another state", "state:ca/county:contra_costa", "state:va/county:fairfax",
     [f"{J}:7: ocd_id: 'ocd-division/country:us/state:va/county:fairfax' is not in CA (it must start with 'ocd-division/country:us/state:ca')"]),
    ("id that does not match the path", "jurisdiction_id: ca-contra-costa-county", "jurisdiction_id: ca-contra-costa",
     [f"{J}:1: jurisdiction_id: 'ca-contra-costa' belongs in raw/jurisdictions/ca/contra-costa.yaml, not in {J}"]),
    ("id of another state", "jurisdiction_id: ca-contra-costa-county", "jurisdiction_id: va-contra-costa-county",
     [f"{J}:1: jurisdiction_id: 'va-contra-costa-county' must start with the state code 'ca' and a hyphen"]),
    ("law survey outside a state", "ocd_id: ocd-division/country:us/state:ca/county:contra_costa\n",
     "ocd_id: ocd-division/country:us/state:ca/county:contra_costa\nlaw_survey: Searched the county code.\n",
     [f"{J}:8: law_survey: must be empty for a county: it says how a state's laws were searched"]),
    ("stated date that is no date", "        locator: paragraph 2\n", "        locator: paragraph 2\n        date_stated: 2018-11-31\n",
     [f"{J}:35: actions[1].citations[0].date_stated: '2018-11-31' is not a date (use YYYY, YYYY-MM or YYYY-MM-DD, a span START/END, or ../END)"]),
]


@pytest.mark.parametrize("old, new, expected", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_jurisdiction_rule(tmp_path, old, new, expected):
    assert old in JURISDICTION
    root = make_project(tmp_path / "p", jurisdiction=JURISDICTION.replace(old, new, 1))
    found = problems_of(root)
    # "after today" names today's date, which changes: compare up to it
    assert [p.split(" (20")[0] if "after today" in p else p for p in found] == expected


SOURCE_CASES = [
    ("url with another scheme", "url: https://example.org/news/1", "url: javascript:alert(1)",
     [f"{S}:2: url: 'javascript:alert(1)' is not a web address (http:// or https://, then a host name with no user name or password, and a port up to 65535 if any)"]),
    ("published after accessed", "published: 2018-07-10", "published: 2018-07-10\naccessed: 2018-07-01",
     [f"{S}:5: published: '2018-07-10' is after the date accessed (2018-07-01)"]),
    ("accessed that is no day", "published: 2018-07-10", "published: 2018-07-10\naccessed: 2018-07",
     [f"{S}:6: accessed: '2018-07' is not a day (use YYYY-MM-DD)"]),
    ("unknown kind of source", "kind: news", "kind: rumour",
     [f"{S}:6: kind: 'rumour' is not allowed (use one of: government, news, press_release, dataset, advocacy, legal, republished, blog, other)"]),
    ("id that does not match the file name", "source_id: example-news", "source_id: other-news",
     [f"{J}:19: actions[0].citations[0].source_id: 'example-news' is not a source (there is no raw/sources/example-news.yaml)",
      f"{J}:32: actions[1].citations[0].source_id: 'example-news' is not a source (there is no raw/sources/example-news.yaml)",
      f"{S}:1: source_id: 'other-news' belongs in raw/sources/other-news.yaml, not in {S}",
      f"{S}:1: source_id: 'other-news' is cited by no action; cite it or delete the file"]),
]


@pytest.mark.parametrize("old, new, expected", [case[1:] for case in SOURCE_CASES], ids=[case[0] for case in SOURCE_CASES])
def test_source_rule(tmp_path, old, new, expected):
    assert old in SOURCE
    root = make_project(tmp_path / "p", source=SOURCE.replace(old, new, 1))
    assert problems_of(root) == expected


def test_unused_source(project):
    write(project / "raw/sources/orphan.yaml", SOURCE.replace("example-news", "orphan"))
    assert problems_of(project) == ["raw/sources/orphan.yaml:1: source_id: 'orphan' is cited by no action; cite it or delete the file"]


def test_duplicate_id_across_files(project):
    other = JURISDICTION.replace("ca-contra-costa-county", "ca-alameda-county").replace("06013", "06001").replace("contra_costa", "alameda")
    write(project / "raw/jurisdictions/ca/alameda-county.yaml", other.replace("act-bbbbbbbb", "act-dddddddd"))
    found = problems_of(project)
    assert f"raw/jurisdictions/ca/alameda-county.yaml:9: actions[0].action_id: 'act-aaaaaaaa' is used more than once; actions ids must be unique (also at {J}:9)" in found
    assert f"{J}:9: actions[0].action_id: 'act-aaaaaaaa' is used more than once; actions ids must be unique (also at raw/jurisdictions/ca/alameda-county.yaml:9)" in found


def test_a_file_outside_the_layout_is_reported(project):
    write(project / "raw/jurisdictions/contra-costa.yaml", JURISDICTION)
    assert problems_of(project) == [
        "raw/jurisdictions/contra-costa.yaml: is not where raw records live (raw/jurisdictions/<state>/<slug>.yaml or raw/sources/<source_id>.yaml or raw/ice-287g/<state_key>.yaml or raw/ice-detention/<state_key>.yaml)"
    ]


def test_unreadable_file_suppresses_cross_table_noise(project):
    write(project / J, "jurisdiction_id: [unclosed\n")
    assert problems_of(project) == [f"{J}:2: is not valid YAML: did not find expected ',' or ']'"]


def test_a_less_precise_date_that_agrees_is_no_dispute(project):
    text = JURISDICTION.replace("        locator: paragraph 2\n", "        locator: paragraph 2\n        date_stated: '2018'\n")
    root = make_project(project.parent / "q", jurisdiction=text)
    assert not any(row["date_disputed"] for row in load_dataset(Project(root)).tables["actions"].rows)


def test_disputed_date_is_derived(project):
    text = JURISDICTION.replace("        locator: paragraph 2\n", "        locator: paragraph 2\n        date_stated: 2018-09\n")
    root = make_project(project.parent / "q", jurisdiction=text)
    dataset = load_dataset(Project(root))
    disputed = {row["action_id"]: row["date_disputed"] for row in dataset.tables["actions"].rows}
    assert disputed == {"act-aaaaaaaa": False, "act-bbbbbbbb": True}
