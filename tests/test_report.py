"""`etl stats` and `etl show` on a small project."""

from __future__ import annotations

import json

from conftest import JURISDICTION, run, write


def test_stats_json_counts_and_shares(project):
    result = run(project, "stats", "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["actions"] == 2 and summary["jurisdictions"] == 1 and summary["sources"] == 1
    assert summary["share_day_precise"] == 0.5  # 2018-07-10 is a day, 2018-11 a month
    assert summary["share_multi_source"] == 0.0
    assert summary["by"] == {
        "state": {"CA": 2}, "year": {"2018": 2}, "action": {"terminate": 2},
        "arrangement": {"igsa_detention": 2}, "initiated_by": {"local": 2},
    }


def test_stats_counts_a_second_source(project):
    write(project / "raw/sources/second.yaml", "source_id: second\nurl: https://example.org/2\npublisher: Other\nkind: government\n")
    text = JURISDICTION.replace(
        "        locator: paragraph 1\n",
        "        locator: paragraph 1\n      - source_id: second\n        claim: The county confirmed the end.\n        locator: page 2\n",
    )
    write(project / "raw/jurisdictions/ca/contra-costa-county.yaml", text)
    summary = json.loads(run(project, "stats", "--format", "json").stdout)
    assert summary["share_multi_source"] == 0.5


def test_stats_text(project):
    result = run(project, "stats")
    assert result.exit_code == 0
    assert result.stdout.startswith("1 jurisdictions (1 with actions), 2 curated actions, 1 sources, 2 citations\nactions dated to the day: 50.0%\n")
    assert "actions by arrangement:\n  igsa_detention" in result.stdout


def test_show_prints_the_timeline_in_date_order_with_sources(project):
    result = run(project, "show", "ca-contra-costa-county")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Contra Costa County (county, CA) [ca-contra-costa-county]"
    first = lines.index("2018-07-10 (day)  terminate / announced  igsa_detention  [act-aaaaaaaa]")
    second = lines.index("2018-11 (month)  terminate / in_effect  igsa_detention  [act-bbbbbbbb]")
    assert first < second
    assert "  carries out act-aaaaaaaa" in lines
    assert "  - Example News \"An example story\", 2018-07-10 (news)" in lines
    assert "    claim: The contract ended in November." in lines and "    where: paragraph 2" in lines


def test_show_an_unknown_jurisdiction_is_a_usage_error(project):
    result = run(project, "show", "xx-nowhere")
    assert result.exit_code == 2 and "no jurisdiction 'xx-nowhere'" in result.output


def test_show_finds_a_jurisdiction_by_part_of_its_name_or_id_and_prints_json(project):
    for query in ("contra-costa-county", "Contra Costa County, CA", "contra"):
        result = run(project, "show", query)
        assert result.exit_code == 0 and "[ca-contra-costa-county]" in result.output, query
    record = json.loads(run(project, "show", "contra", "--format", "json").output)
    assert record["jurisdiction"]["jurisdiction_id"] == "ca-contra-costa-county" and len(record["actions"]) == 2
    assert [c["source"]["source_id"] for c in record["actions"][0]["citations"]] == ["example-news"]


def test_show_lists_every_jurisdiction_a_query_could_mean(project):
    write(project / "raw/jurisdictions/ca/contra-costa-water-district.yaml", "jurisdiction_id: ca-contra-costa-water-district\n"
          "name: Contra Costa Water District\nkind: special_district\nstate: CA\nstate_fips: '06'\n")
    result = run(project, "show", "contra", "--format", "json")
    assert result.exit_code == 2
    assert json.loads(result.output)["candidates"] == ["ca-contra-costa-county", "ca-contra-costa-water-district"]


def test_stats_says_which_detention_endings_stop_before_they_took_effect(project):
    summary = json.loads(run(project, "stats", "--format", "json").stdout)
    assert summary["stories"]["detention_endings_not_in_effect"] == []  # the ending took effect in November
    assert summary["stories"]["links"] == {"carries_out": 1}
    without_effect = JURISDICTION[:JURISDICTION.index("  - action_id: act-bbbbbbbb")]
    write(project / "raw/jurisdictions/ca/contra-costa-county.yaml", without_effect)
    summary = json.loads(run(project, "stats", "--format", "json").stdout)
    assert summary["stories"]["detention_endings_not_in_effect"] == ["ca-contra-costa-county"]
    assert summary["stories"]["detention_endings_without_note"] == ["ca-contra-costa-county"]
    assert "detention endings whose latest step is before it took effect: 1 (ca-contra-costa-county)" in run(project, "stats").stdout
    noted = without_effect.replace("    citations:\n", "    notes: No source read gives the day the contract ended; searched local news.\n    citations:\n", 1)
    write(project / "raw/jurisdictions/ca/contra-costa-county.yaml", noted)
    summary = json.loads(run(project, "stats", "--format", "json").stdout)
    assert (summary["stories"]["detention_endings_not_in_effect"], summary["stories"]["detention_endings_without_note"]) == (["ca-contra-costa-county"], [])


def test_stats_counts_protests_linked_to_the_decisions_they_prompted(project):
    protest = """\
  - action_id: act-cccccccc
    date: 2018-06
    action: protest
    stage: occurred
    arrangement: igsa_detention
    actor_role: public
    actor_name: Protesters
    initiated_by: public
    summary: Protesters marched on the jail against its ICE contract.
    citations:
      - source_id: example-news
        claim: People marched on the jail.
        locator: paragraph 3
"""
    prompt = "      - relation: prompted_by\n        related_action_id: act-cccccccc\n"
    linked = JURISDICTION.replace("        related_action_id: act-aaaaaaaa\n", "        related_action_id: act-aaaaaaaa\n" + prompt)
    write(project / "raw/jurisdictions/ca/contra-costa-county.yaml", JURISDICTION + protest)
    told = json.loads(run(project, "stats", "--format", "json").stdout)["stories"]
    assert (told["protests"], told["protests_linked"]) == (1, 0)
    write(project / "raw/jurisdictions/ca/contra-costa-county.yaml", linked + protest)
    told = json.loads(run(project, "stats", "--format", "json").stdout)["stories"]
    assert (told["protests"], told["protests_linked"], told["links"]) == (1, 1, {"carries_out": 1, "prompted_by": 1})


def test_the_survey_lists_every_state_and_dc_with_its_laws_and_how_it_was_searched(project):
    from etl.pipeline import load_dataset
    from etl.project import Project
    from etl.report import survey_markdown

    write(project / "raw/jurisdictions/ca/california.yaml", """\
        jurisdiction_id: ca-california
        name: California
        kind: state
        state: CA
        state_fips: '06'
        ocd_id: ocd-division/country:us/state:ca
        law_survey: Searched news and the legislature's site for 2017-2026; found the laws recorded here.
        """)
    table = survey_markdown(load_dataset(Project(project)).tables).splitlines()
    assert len(table) == 2 + 51  # heading, rule, the 50 states and DC; no territories
    assert "| California | none | Searched news and the legislature's site for 2017-2026; found the laws recorded here. |" in table
    assert "| District of Columbia | none | not yet surveyed |" in table


def test_the_survey_says_a_first_sentence_every_state_shares_once():
    from etl.report import _common_first_sentence

    assert _common_first_sentence(["Searched news. Found A.", "Searched news. None found."]) == "Searched news."
    assert _common_first_sentence(["Searched news. Found A.", "Searched laws. Found B."]) == ""
    assert _common_first_sentence(["Searched news. Found A.", ""]) == ""  # a state not yet surveyed keeps the table honest
