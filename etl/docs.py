"""Documents generated from the code: the README's data dictionary and command reference, and the
JSON Schemas of the raw files. `etl docs --check` fails when any is out of date."""

from __future__ import annotations

import json
import re

import click

from .files import write_text_atomically
from .pipeline import load_dataset
from .project import Project
from .report import coverage_markdown, survey_markdown
from .schema import data_dictionary, raw_json_schema

README = "README.md"


def generate(project: Project, command: click.Group, write: bool) -> list[str]:
    """Names of the generated files that were out of date (rewritten when `write`)."""
    schemas = project.schemas
    expected = {
        schemas.layout_of(table.name).json_schema: json.dumps(raw_json_schema(schemas, table.name), indent=2, ensure_ascii=False) + "\n"
        for table in schemas.file_tables
    }
    text = (project.root / README).read_text("utf-8")
    text = _replace_section(text, "dictionary", data_dictionary(schemas))
    text = _replace_section(text, "citation", citation_line(schemas.package))
    text = _replace_section(text, "commands", command_reference(command))
    if "<!-- coverage:start -->" in text:  # only the project's own README states its coverage (from the tables as built)
        tables = load_dataset(project).tables
        text = _replace_section(text, "coverage", coverage_markdown(tables))
        text = _replace_section(text, "survey", survey_markdown(tables))
    expected[README] = text
    stale = [path for path, content in expected.items() if _current(project, path) != content]
    if write:
        for path in stale:
            write_text_atomically(project.root / path, expected[path])
    return stale


def refresh_citation(project: Project) -> None:
    """Write the README's citation (for `etl release`, which changes the version it names)."""
    path = project.root / README
    text = path.read_text("utf-8") if path.exists() else ""
    if "<!-- citation:start -->" in text:  # a project without the README's citation has nothing to refresh
        write_text_atomically(path, _replace_section(text, "citation", citation_line(project.schemas.package)))


def citation_line(package: dict) -> str:
    """How to cite the dataset, with its version and release date (schemas/package.json)."""
    released = f" ({package['created'][:10]})" if package.get("created") else ""
    author = (package.get("contributors") or [{}])[0].get("title", "")
    return f"> {author}, *{package['title']}*, version {package['version']}{released}, CC BY 4.0.\n"


def _current(project: Project, path: str) -> str | None:
    try:
        return (project.root / path).read_text("utf-8")
    except OSError:
        return None


def _replace_section(text: str, name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise click.ClickException(f"{README} has no {start} ... {end} section to fill")
    return pattern.sub(lambda _: f"{start}\n{body}{end}", text)


def command_reference(command: click.Group) -> str:
    """Every command's --help text, in the order a reader meets them."""
    parts = []
    for path, cmd in _commands(command, ["etl"]):
        with click.Context(cmd, info_name=" ".join(path), terminal_width=100, max_content_width=100,
                           help_option_names=["-h", "--help"]) as ctx:
            parts.append(f"#### `{' '.join(path)}`\n\n```\n{cmd.get_help(ctx)}\n```\n")
    return "\n".join(parts)


def _commands(command: click.Command, path: list[str]):
    yield path, command
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            yield from _commands(command.commands[name], path + [name])
