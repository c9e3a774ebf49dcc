"""The canonical text of a raw record: keys in schema order, nested lists indented, and quotes only
where another YAML reader would otherwise take the text for a number, a yes/no, a null or a date-time.
Dates stay plain (our loader reads them as text) so files remain easy to edit by hand."""

from __future__ import annotations

import yaml

from .schema import Nested, Schemas

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _CanonicalDumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)  # indent list items under their key


# Days stay plain (`date: 2018-07-10`): our loader reads them as text, and editors' YAML 1.2 does too.
_CanonicalDumper.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()
}


_BREAKS = ("\x85", "\u2028", "\u2029")  # line breaks to YAML that PyYAML would write raw and fold


def _represent_text(dumper: yaml.SafeDumper, text: str):
    if any(character in text for character in _BREAKS):
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')  # escaped, so the value survives
    style = "|" if "\n" in text.strip("\n") else None  # several lines: a literal block, as written
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_CanonicalDumper.add_representer(str, _represent_text)


def ordered(schemas: Schemas, table: str, record: dict) -> dict:
    """The record with its keys in canonical order, nested records ordered too, empty values dropped."""
    result = {}
    children = {child.layout.key: child.name for child in schemas.children[table] if isinstance(child.layout, Nested)}
    for key in schemas.raw_keys(table):
        value = record.get(key)
        if value is None or value == []:
            continue
        result[key] = [ordered(schemas, children[key], item) for item in value] if key in children else value
    return result


def dump(schemas: Schemas, table: str, record: dict) -> str:
    return yaml.dump(
        ordered(schemas, table, record),
        Dumper=_CanonicalDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100_000,
    )
