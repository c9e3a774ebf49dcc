"""The schema model: schemas/ are read and checked before anything else, every mistake in them is a
problem with its file, line and path, and what code needs (layout, keys, tables) comes from them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO, run

from etl.problems import ProblemError
from etl.project import Project
from etl.schema import FileLayout, load_schemas


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(ProblemError) as caught:
        load_schemas(folder)
    return [p.text() for p in caught.value.problems]


def edit(project: Path, name: str, change) -> None:
    path = project / "schemas" / name
    descriptor = json.loads(path.read_text())
    change(descriptor)
    path.write_text(json.dumps(descriptor, indent=2) + "\n")


def line_of(project: Path, name: str, text: str) -> int:
    lines = (project / "schemas" / name).read_text().splitlines()
    return next(number for number, line in enumerate(lines, start=1) if text in line)


def test_the_real_schemas_load(project):
    schemas = load_schemas(project / "schemas")
    assert list(schemas.tables) == json.loads((REPO / "schemas/package.json").read_text())["x-tables"]
    assert [t.name for t in schemas.file_tables] == ["jurisdictions", "sources", "ice_287g_states", "ice_detention_states"]


def test_a_misspelt_custom_property_is_an_error_with_its_line(project):
    edit(project, "actions.schema.json", lambda d: d["fields"][2].update({"x-invlid": "oops"}))
    line = line_of(project, "actions.schema.json", '"x-invlid"')
    assert problems_of(project / "schemas") == [
        f"schemas/actions.schema.json:{line}: fields[2].x-invlid: is not a known property "
        "(allowed: name, title, description, type, constraints, categories, x-derived, x-invalid, x-multiline)"
    ]


def test_an_unknown_constraint_and_a_wrong_type_are_errors(project):
    def change(d):
        d["fields"][0]["constraints"]["requird"] = True
        d["fields"][1]["type"] = "text"

    edit(project, "sources.schema.json", change)
    found = problems_of(project / "schemas")
    assert any("fields[0].constraints.requird: is not a known property" in p for p in found)
    assert any("fields[1].type: 'text' is not a type this project uses" in p for p in found)


def test_categories_must_match_the_enum(project):
    edit(project, "actions.schema.json", lambda d: next(f for f in d["fields"] if f["name"] == "action")["categories"].pop())
    assert any("categories: must define exactly the values of constraints.enum" in p for p in problems_of(project / "schemas"))


def test_references_to_missing_tables_and_fields_are_errors(project):
    def change(d):
        d["foreignKeys"][1]["reference"]["resource"] = "source"
        d["primaryKey"] = ["action_id", "sourceid"]

    edit(project, "citations.schema.json", change)
    found = problems_of(project / "schemas")
    assert any("primaryKey: names 'sourceid', which is not a field" in p for p in found)


def test_a_table_file_not_listed_in_the_package_is_an_error(project):
    (project / "schemas/extra.schema.json").write_text("{}")
    assert problems_of(project / "schemas") == ["schemas/extra.schema.json: is not listed in schemas/package.json x-tables"]


def test_invalid_json_names_its_line(project):
    path = project / "schemas/sources.schema.json"
    path.write_text(path.read_text().replace('"name": "sources",', '"name": "sources"', 1))
    assert problems_of(project / "schemas")[0].startswith("schemas/sources.schema.json:3: is not valid JSON")


def test_a_command_reports_schema_problems_without_a_traceback(project):
    edit(project, "package.json", lambda d: d.update({"x-tabels": []}))
    result = run(project, "validate")
    assert result.exit_code == 1
    assert "schemas/package.json:" in result.stdout and "x-tabels: is not a known property" in result.stdout
    assert "Traceback" not in result.output


def test_the_layout_comes_from_the_schema(project):
    edit(project, "sources.schema.json", lambda d: d["x-raw"].update({"file": "raw/docs/{source_id}.yaml"}))
    (project / "raw/docs").mkdir()
    (project / "raw/sources/example-news.yaml").rename(project / "raw/docs/example-news.yaml")
    assert Project(project).record_names()[-1] == "raw/docs/example-news.yaml"
    assert run(project, "validate").exit_code == 0


def test_file_layouts_map_keys_to_paths_and_refuse_what_cannot_be_a_key():
    layout = FileLayout("raw/jurisdictions/{state}/{slug}.yaml", "{state}-{slug}", "x.json", "x")
    assert layout.path_for("va-fairfax-county") == "raw/jurisdictions/va/fairfax-county.yaml"
    assert layout.matches("raw/jurisdictions/va/fairfax-county.yaml")
    assert not layout.matches("raw/jurisdictions/fairfax-county.yaml")
    for key in ("va-", "../../x", "va/x-y", "nohyphen"):
        assert layout.path_for(key) is None, key
