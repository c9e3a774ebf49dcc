"""Writes the malformed raw inputs of the corpus (tests/corpus/cases/). Run it only to add cases:

    .venv/bin/python tests/corpus/make_cases.py

Each case is one file, `<name>.<target>.yaml`, which the corpus test puts into a small valid project:
target `j` replaces its jurisdiction file, `s` its source file, `j2` is added as a second jurisdiction
file (raw/jurisdictions/ca/alameda-county.yaml), `s2` as a second source file
(raw/sources/second-source.yaml), and `stray` where no raw record belongs (raw/jurisdictions/stray.yaml). Its `<name>.expected` holds the exact problems
`etl validate` must print ({today} stands for today's date). Expected files are written by hand, or
written by `--expected` and then read line by line before committing: they are the specification.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from conftest import JURISDICTION, SOURCE  # noqa: E402

CASES_DIR = HERE / "cases"


def j(old: str, new: str) -> bytes:
    assert old in JURISDICTION, old
    return JURISDICTION.replace(old, new, 1).encode("utf-8")


def s(old: str, new: str) -> bytes:
    assert old in SOURCE, old
    return SOURCE.replace(old, new, 1).encode("utf-8")


A0 = "  - action_id: act-aaaaaaaa\n"
SUMMARY = "    summary: The jail stopped holding people for ICE.\n"
CLAIM = "        claim: The contract ended in November.\n"
LINK = "        related_action_id: act-aaaaaaaa\n"
LAUGHS = "".join(
    ["a: &a [x, x, x, x, x, x, x, x, x]\n"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9)]
)

CASES: dict[str, tuple[str, bytes]] = {
    # -- broken YAML and bytes --------------------------------------------------------------------
    "yaml-unclosed-bracket": ("j", b"jurisdiction_id: [ca-contra-costa-county\nname: x\n"),
    "yaml-unclosed-quote": ("j", j("name: Contra Costa County", 'name: "Contra Costa County')),
    "yaml-bad-indentation": ("j", j("    stage: in_effect\n", "   stage: in_effect\n")),
    "yaml-mapping-in-scalar": ("j", j("name: Contra Costa County", "name: Contra: Costa: County")),
    "yaml-tab-indent": ("j", j("    stage: in_effect\n", "\tstage: in_effect\n")),
    "yaml-duplicate-key-top": ("j", j("kind: county\n", "kind: county\nkind: city\n")),
    "yaml-duplicate-key-action": ("j", j(SUMMARY, SUMMARY + "    summary: Again.\n")),
    "yaml-two-documents": ("j", JURISDICTION.encode() + b"---\nname: again\n"),
    "yaml-top-level-list": ("j", b"- jurisdiction_id: ca-contra-costa-county\n"),
    "yaml-top-level-text": ("j", b"just some text\n"),
    "yaml-empty-file": ("j", b""),
    "yaml-only-comment": ("j", b"# nothing here\n"),
    "yaml-only-spaces": ("s", b"   \n\n"),
    "bytes-not-utf8": ("j", j("name: Contra Costa County", "name: Contra Costa County").replace(b"Costa County\n", b"Costa Count\xe9\n", 1)),
    "bytes-latin1-source": ("s", s("publisher: Example News", "publisher: Exampl\xe9 News").decode().encode("latin-1")),
    "bytes-bom": ("j", b"\xef\xbb\xbf" + JURISDICTION.encode()),
    "bytes-crlf": ("j", JURISDICTION.replace("\n", "\r\n").encode()),
    "bytes-lone-cr": ("s", s("kind: news\n", "kind: news\r")),
    "bytes-nul": ("j", j("name: Contra Costa County", "name: Contra\x00Costa County")),
    "bytes-bell": ("s", s("title: An example story", "title: An example\x07 story")),
    "bytes-escape-char": ("j", j("actor_name: Sheriff Example\n    initiated_by: local\n    summary: The sheriff", "actor_name: Sheriff \x1bExample\n    initiated_by: local\n    summary: The sheriff")),
    "escaped-control-in-value": ("j", j(CLAIM, '        claim: "The contract ended\\x07 in November."\n')),
    "escaped-nul-in-value": ("s", s("title: An example story", 'title: "An example\\0 story"')),
    # -- anchors, aliases, tags ---------------------------------------------------------------------
    "yaml-anchor": ("j", j("name: Contra Costa County", "name: &n Contra Costa County")),
    "yaml-alias": ("j", j("name: Contra Costa County\nkind: county", "name: &n Contra Costa County\nkind: *n")),
    "yaml-merge-key": ("j", j(A0, "  - <<: &base {action: terminate}\n    action_id: act-aaaaaaaa\n")),
    "yaml-billion-laughs": ("j", LAUGHS.encode()),
    "yaml-python-object-tag": ("j", j("name: Contra Costa County", "name: !!python/object/apply:os.system ['echo hi']")),
    "yaml-python-name-tag": ("s", s("title: An example story", "title: !!python/name:os.system")),
    "yaml-str-tag": ("j", j("county_fips: '06013'", "county_fips: !!str 06013")),
    "yaml-binary-tag": ("s", s("title: An example story", "title: !!binary aGVsbG8=")),
    "yaml-custom-tag": ("j", j("kind: county", "kind: !county county")),
    "yaml-set": ("j", j("kind: county", "kind: !!set {county: null}")),
    # -- shapes and keys ------------------------------------------------------------------------------
    "unknown-key-top": ("j", j("kind: county\n", "kind: county\npopulation: '1000000'\n")),
    "unknown-key-action": ("j", j(SUMMARY, SUMMARY + "    colour: red\n")),
    "unknown-key-citation": ("j", j(CLAIM, CLAIM + "        page: '4'\n")),
    "unknown-key-link": ("j", j(LINK, LINK + "        why: because\n")),
    "unknown-key-source": ("s", s("kind: news\n", "kind: news\nlanguage: en\n")),
    "misspelt-key": ("j", j("county_fips: '06013'", "county_fip: '06013'")),
    "list-for-text": ("j", j("name: Contra Costa County", "name: [Contra, Costa]")),
    "mapping-for-text": ("s", s("publisher: Example News", "publisher: {name: Example News}")),
    "text-for-actions": ("j", JURISDICTION.split("actions:")[0].encode() + b"actions: none\n"),
    "text-for-citations": ("j", j("    citations:\n      - source_id: example-news\n        claim: The sheriff announced that the contract would end.\n        locator: paragraph 1\n", "    citations: example-news\n")),
    "scalar-in-actions-list": ("j", JURISDICTION.replace("actions:\n", "actions:\n  - just text\n", 1).encode()),
    "mapping-for-links": ("j", j("    links:\n      - relation: carries_out\n" + LINK, "    links:\n      relation: carries_out\n" + LINK.replace("        ", "      "))),
    # -- missing required fields -------------------------------------------------------------------
    **{f"missing-{key}": ("j", j(line, "")) for key, line in [
        ("jurisdiction-id", "jurisdiction_id: ca-contra-costa-county\n"), ("name", "name: Contra Costa County\n"),
        ("kind", "kind: county\n"), ("state", "state: CA\n"), ("state-fips", "state_fips: '06'\n"),
        ("ocd-id", "ocd_id: ocd-division/country:us/state:ca/county:contra_costa\n"),
        ("date", "    date: 2018-11\n"), ("stage", "    stage: in_effect\n"),
        ("summary", SUMMARY), ("claim", CLAIM), ("locator", "        locator: paragraph 2\n"), ("related-action", LINK),
    ]},
    "missing-action-id": ("j", j("  - action_id: act-bbbbbbbb\n    date: 2018-11\n", "  - date: 2018-11\n")),
    "missing-action": ("j", j("    action: terminate\n    stage: in_effect\n", "    stage: in_effect\n")),
    "missing-arrangement": ("j", j("    arrangement: igsa_detention\n    actor_role: sheriff\n    actor_name: Sheriff Example\n    initiated_by: local\n    summary: The jail",
                                   "    actor_role: sheriff\n    actor_name: Sheriff Example\n    initiated_by: local\n    summary: The jail")),
    "missing-relation": ("j", j("      - relation: carries_out\n        related_action_id", "      - related_action_id")),
    "missing-actor-role": ("j", j("    actor_role: sheriff\n    actor_name: Sheriff Example\n    initiated_by: local\n    summary: The jail", "    actor_name: Sheriff Example\n    initiated_by: local\n    summary: The jail")),
    "missing-citation-source": ("j", j("      - source_id: example-news\n" + CLAIM, "      - claim: The contract ended in November.\n")),
    "missing-source-url": ("s", s("url: https://example.org/news/1\n", "")),
    "missing-source-publisher": ("s", s("publisher: Example News\n", "")),
    "missing-source-kind": ("s", s("kind: news\n", "")),
    "empty-name": ("j", j("name: Contra Costa County", "name:")),
    "empty-quoted-claim": ("j", j(CLAIM, "        claim: ''\n")),
    "null-word-summary": ("j", j(SUMMARY, "    summary: null\n")),
    # -- values outside vocabularies and patterns ---------------------------------------------------
    "enum-kind": ("j", j("kind: county", "kind: County")),
    "enum-action": ("j", j("    action: terminate\n    stage: in_effect", "    action: cancel\n    stage: in_effect")),
    "enum-stage": ("j", j("stage: in_effect", "stage: done")),
    "enum-arrangement": ("j", j("    arrangement: igsa_detention\n    actor_role: sheriff\n    actor_name: Sheriff Example\n    initiated_by: local\n    summary: The jail", "    arrangement: 287g\n    actor_role: sheriff\n    actor_name: Sheriff Example\n    initiated_by: local\n    summary: The jail")),
    "enum-actor-role": ("j", j("    actor_role: sheriff\n    actor_name: Sheriff Example\n    initiated_by: local\n    summary: The jail", "    actor_role: deputy\n    actor_name: Sheriff Example\n    initiated_by: local\n    summary: The jail")),
    "enum-initiated-by": ("j", j("    initiated_by: local\n    summary: The jail", "    initiated_by: county\n    summary: The jail")),
    "enum-relation": ("j", j("relation: carries_out", "relation: follows")),
    "enum-source-kind": ("s", s("kind: news", "kind: newspaper")),
    "enum-edition-of": ("s", s("kind: news\n", "kind: news\nedition_of: ice_list\n")),
    "yes-as-kind": ("j", j("kind: county", "kind: yes")),
    "pattern-jurisdiction-id-upper": ("j", j("jurisdiction_id: ca-contra-costa-county", "jurisdiction_id: CA-Contra-Costa-County")),
    "pattern-action-id": ("j", j("action_id: act-bbbbbbbb", "action_id: action-2")),
    "pattern-source-id": ("s", s("source_id: example-news", "source_id: Example_News")),
    "pattern-state-lower": ("j", j("state: CA", "state: ca")),
    "pattern-state-fips-number": ("j", j("state_fips: '06'", "state_fips: 6")),
    "pattern-county-fips-short": ("j", j("county_fips: '06013'", "county_fips: 6013")),
    "pattern-place-geoid": ("j", j("county_fips: '06013'\n", "county_fips: '06013'\nplace_geoid: '06-00'\n")),
    "pattern-ocd-id": ("j", j("ocd_id: ocd-division/country:us/state:ca/county:contra_costa", "ocd_id: contra costa")),
    # -- dates ------------------------------------------------------------------------------------------
    **{f"date-{slug}": ("j", j("date: 2018-11\n", f"date: {value}\n")) for slug, value in [
        ("month-13", "2018-13-01"), ("february-30", "2018-02-30"), ("april-31", "2018-04-31"), ("not-leap", "2019-02-29"),
        ("month-00", "2018-00"), ("two-digit-year", "18-11-01"), ("slashes", "2018/11/01"), ("no-padding", "2018-1-1"),
        ("word", "yesterday"), ("reversed-span", "2019/2018-11"), ("future", "2999-01-01"), ("future-before", "../2999"),
        ("open-end", "2018-11/.."), ("spaces", "'2018 - 11'"), ("iso-week", "2018-W45"),
    ]},
    "date-stated-invalid": ("j", j("        locator: paragraph 2\n", "        locator: paragraph 2\n        date_stated: 2018-11-31\n")),
    "published-future": ("s", s("published: 2018-07-10", "published: 2999-07-10")),
    "published-invalid": ("s", s("published: 2018-07-10", "published: 2018-07-32")),
    "published-after-accessed": ("s", s("published: 2018-07-10", "published: 2018-07-10\naccessed: 2018-07-01")),
    "accessed-future": ("s", s("published: 2018-07-10", "published: 2018-07-10\naccessed: 2999-01-01")),
    "accessed-month-only": ("s", s("published: 2018-07-10", "published: 2018-07-10\naccessed: 2018-07")),
    # -- ids and references ---------------------------------------------------------------------------
    "duplicate-action-id-in-file": ("j", j("action_id: act-bbbbbbbb", "action_id: act-aaaaaaaa")),
    "duplicate-action-id-across-files": ("j2", JURISDICTION.replace("ca-contra-costa-county", "ca-alameda-county").replace("06013", "06001").replace("contra_costa", "alameda").replace("Contra Costa", "Alameda").replace("act-bbbbbbbb", "act-cccccccc").encode()),
    "duplicate-jurisdiction-id-across-files": ("j2", JURISDICTION.replace("act-aaaaaaaa", "act-dddddddd").replace("act-bbbbbbbb", "act-eeeeeeee").encode()),
    "source-cited-twice": ("j", j("        locator: paragraph 2\n", "        locator: paragraph 2\n      - source_id: example-news\n        claim: Said again here.\n        locator: paragraph 3\n")),
    "duplicate-link": ("j", j(LINK, LINK + "      - relation: carries_out\n" + LINK)),
    "missing-source-reference": ("j", j("      - source_id: example-news\n" + CLAIM, "      - source_id: no-such-source\n" + CLAIM)),
    "missing-linked-action": ("j", j(LINK, "        related_action_id: act-zzzzzzzz\n")),
    "self-link": ("j", j(LINK, "        related_action_id: act-bbbbbbbb\n")),
    "action-without-citation": ("j", j("    citations:\n      - source_id: example-news\n" + CLAIM + "        locator: paragraph 2\n", "")),
    "unused-source": ("s2", SOURCE.replace("example-news", "second-source").encode()),
    # -- geography ----------------------------------------------------------------------------------
    "state-unknown": ("j", j("state: CA", "state: ZZ")),
    "state-fips-mismatch": ("j", j("state_fips: '06'", "state_fips: '51'")),
    "county-fips-other-state": ("j", j("county_fips: '06013'", "county_fips: '51059'")),
    "county-fips-no-such-county": ("j", j("county_fips: '06013'", "county_fips: '06999'")),
    "county-without-county-fips": ("j", j("county_fips: '06013'\n", "")),
    "state-with-county-fips": ("j", j("kind: county", "kind: state")),
    "place-geoid-other-state": ("j", j("county_fips: '06013'\n", "county_fips: '06013'\nplace_geoid: '5101000'\n")),
    "ocd-id-other-state": ("j", j("state:ca/county:contra_costa", "state:va/county:fairfax")),
    "city-without-ocd-id": ("j", j("kind: county\n", "kind: city\n").replace(b"ocd_id: ocd-division/country:us/state:ca/county:contra_costa\n", b"")),
    # -- paths --------------------------------------------------------------------------------------
    "id-not-matching-path": ("j", j("jurisdiction_id: ca-contra-costa-county", "jurisdiction_id: ca-contra-costa")),
    "id-of-another-state": ("j", j("jurisdiction_id: ca-contra-costa-county", "jurisdiction_id: nv-contra-costa-county")),
    "source-id-not-matching-file": ("s", s("source_id: example-news", "source_id: example-story")),
    "file-outside-layout": ("stray", JURISDICTION.encode()),
    # -- URLs ---------------------------------------------------------------------------------------
    **{f"url-{slug}": ("s", s("url: https://example.org/news/1", f"url: '{value}'")) for slug, value in [
        ("javascript", "javascript:alert(1)"), ("data", "data:text/html,hi"), ("ftp", "ftp://example.org/a"),
        ("file", "file:///etc/passwd"), ("mailto", "mailto:a@example.org"), ("no-scheme", "example.org/news/1"),
        ("with-space", "https://example.org/a b"), ("scheme-only", "https://"),
    ]},
    **{f"url-{slug}": ("s", s("url: https://example.org/news/1", f"url: {url}")) for slug, url in [
        ("with-credentials", "https://user:secret@example.org/news/1"), ("deceptive-userinfo", "https://aacounty.org@evil.example/news"),
        ("empty-host", "https:///news/1"), ("port-out-of-range", "https://example.org:99999/news/1"),
    ]},
    "archive-url-javascript": ("s", s("kind: news\n", "kind: news\narchive_url: javascript:alert(1)\n")),
    # -- text a spreadsheet would run, control characters, lengths ----------------------------------
    **{f"formula-{slug}": ("j", j(SUMMARY, f"    summary: '{start}The jail stopped holding people for ICE.'\n")) for slug, start in [
        ("equals", "="), ("plus", "+"), ("minus", "-"), ("at", "@"),
    ]},
    "formula-in-name": ("j", j("name: Contra Costa County", "name: '=HYPERLINK(\"http://x\")'")),
    "formula-in-claim": ("j", j(CLAIM, "        claim: '@SUM(A1:A9) contract ended'\n")),
    "formula-in-title": ("s", s("title: An example story", "title: '+1 story'")),
    "leading-space": ("j", j("actor_name: Sheriff Example\n    initiated_by: local\n    summary: The jail", "actor_name: ' Sheriff Example'\n    initiated_by: local\n    summary: The jail")),
    "trailing-space": ("s", s("publisher: Example News", "publisher: 'Example News '")),
    "summary-too-long": ("j", j(SUMMARY, "    summary: " + "word " * 120 + "end.\n")),
    "claim-too-short": ("j", j(CLAIM, "        claim: Ended.\n")),
    "name-too-long": ("j", j("name: Contra Costa County", "name: " + "Contra Costa " * 20 + "County")),
    "notes-too-long": ("j", j(SUMMARY, SUMMARY + "    notes: " + "x" * 4001 + "\n")),
    "yaml-nested-990-levels": ("j", b"jurisdiction_id: " + b"[" * 990 + b"]" * 990 + b"\n"),
    "yaml-nested-990-records": ("j", b"jurisdiction_id: x\n" + b"".join(b"  " * i + b"k:\n" for i in range(990)) + b"  " * 990 + b"v: 1\n"),
    # -- links, codes and names that disagree (issue 12) ------------------------------------------------
    "link-to-a-later-action": ("j", j("    summary: The sheriff announced the end of the jail's contract to hold ICE detainees.\n",
                                      "    summary: The sheriff announced the end of the jail's contract to hold ICE detainees.\n"
                                      "    links:\n      - relation: reverses\n        related_action_id: act-bbbbbbbb\n")),
    "links-in-a-circle": ("j", j("    summary: The sheriff announced the end of the jail's contract to hold ICE detainees.\n",
                                 "    summary: The sheriff announced the end of the jail's contract to hold ICE detainees.\n"
                                 "    links:\n      - relation: required_by\n        related_action_id: act-bbbbbbbb\n")),
    "county-fips-of-another-county": ("j", j("county_fips: '06013'", "county_fips: '06001'")),
    "ocd-id-of-another-county": ("j", j("county:contra_costa", "county:alameda")),
    "ocd-id-of-another-jurisdiction": ("j2", JURISDICTION.replace("alameda", "x").replace("ca-contra-costa-county", "ca-alameda-county").replace("06013", "06001")
                                       .replace("Contra Costa", "Alameda").replace("act-aaaaaaaa", "act-cccccccc").replace("act-bbbbbbbb", "act-dddddddd").encode()),
    # -- dates that cannot have happened yet, and digits that are not ASCII (issue 12) ----------------
    "date-span-ending-after-today": ("j", j("date: 2018-11\n", "date: 2012/2999-12-31\n")),
    "date-before-a-day-after-today": ("j", j("date: 2018-11\n", "date: ../2999-01\n")),
    "date-stated-after-today": ("j", j(CLAIM, CLAIM + "        date_stated: 2999-01\n")),
    "accessed-arabic-indic-digits": ("s", s("kind: news\n", "kind: news\naccessed: \u0662\u0660\u0662\u0664-01-01\n")),
    "accessed-fullwidth-digits": ("s", s("kind: news\n", "kind: news\naccessed: \uff12\uff10\uff12\uff14-01-01\n")),
    # -- control characters, line breaks and separators, raw or escaped (issue 12) -----------------
    "escaped-c1-in-value": ("j", j(CLAIM, '        claim: "The contract ended\\x9b in November."\n')),
    "escaped-nel-in-value": ("j", j(CLAIM, '        claim: "The contract ended\\N in November."\n')),
    "escaped-line-separator-in-value": ("s", s("title: An example story", 'title: "An example\\L story"')),
    "escaped-tab-in-value": ("j", j(CLAIM, '        claim: "The contract ended\\tin November."\n')),
    "line-break-in-summary": ("j", j(SUMMARY, "    summary: |-\n      The jail stopped holding\n      people for ICE.\n")),
    "notes-line-starting-a-formula": ("j", j(SUMMARY, SUMMARY + '    notes: "Checked.\\n=HYPERLINK(\\"http://x\\")"\n')),
    "bytes-c1-control": ("s", s("title: An example story", "title: An example\u009b story")),
    "bytes-nel": ("s", s("title: An example story", "title: An example\u0085 story")),
    "bytes-line-separator": ("s", s("url: https://example.org/news/1", "url: https://example.org/news/1\u2028")),
    "id-extremely-long": ("s", s("source_id: example-news", "source_id: " + "a" * 5000)),
    "url-extremely-long": ("s", s("url: https://example.org/news/1", "url: https://example.org/" + "a" * 3000)),
}


def main() -> None:
    CASES_DIR.mkdir(exist_ok=True)
    for name, (target, content) in CASES.items():
        (CASES_DIR / f"{name}.{target}.yaml").write_bytes(content)
    print(f"wrote {len(CASES)} cases to {CASES_DIR}")


if __name__ == "__main__":
    main()
