"""The `etl` command: options, a call into the library (`etl.api`), printing and exit codes. No logic
of its own; nothing heavy is imported until a command needs it.

Exit codes: 0 success; 1 the data has problems (or outputs are stale); 2 usage error; 3 an internal error.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import click

from . import api
from .archive import FAMILIES
from .problems import CommandError, ProblemError, as_json, as_text
from .project import Project

EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL = 1, 2, 3


class _Group(click.Group):
    """Turns curators' problems into messages with an exit code, and never shows a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ProblemError as error:
            _report(error, ctx)
            ctx.exit(EXIT_PROBLEMS)
        except CommandError as error:
            raise click.ClickException(str(error)) from None
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except BrokenPipeError:  # the reader went away (`etl show x | head`): end quietly, as cat does
            _silence_stdout()
            ctx.exit(141)
        except KeyboardInterrupt:
            publish = sys.modules.get("etl.publish")
            done = "the new outputs were published" if getattr(publish, "committed", False) else "published outputs are unchanged"
            click.echo(f"etl: interrupted; {done}", err=True)
            ctx.exit(130)
        except Exception as error:  # the last line of defence against tracebacks
            if os.environ.get("ETL_DEBUG"):
                raise
            click.echo(f"etl: internal error: {type(error).__name__}: {error} (set ETL_DEBUG=1 to see where)", err=True)
            ctx.exit(EXIT_INTERNAL)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):  # no real file descriptor (as under a test runner)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _report(error: ProblemError, ctx: click.Context) -> None:
    if ctx.meta.get("format") == "json":
        click.echo(as_json(error.problems))
    else:
        click.echo(as_text(error.problems))
    files = len({p.file for p in error.problems})
    click.echo(f"{len(error.problems)} problem(s) in {files} file(s)", err=True)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {name}" for name, count in counts.items())


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True,
              help="The project folder (holding raw/, schemas/, datasets/).")
@click.version_option(package_name="us-ice-cooperation-etl")
@click.pass_context
def cli(ctx: click.Context, root: Path):
    """Build, check and publish the dataset of US local government actions on cooperation with ICE.

    Data flows one way: raw/ (hand-curated YAML) -> tables -> validation -> datasets/ and datapackage.json.
    """
    if not root.is_dir():
        raise click.BadParameter(f"{root} is not a folder", param_hint="--root")
    ctx.obj = Project(root.resolve())


@cli.command()
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="How to print problems.")
@click.pass_context
def validate(ctx: click.Context, output_format: str):
    """Check every raw record; print each problem as FILE:LINE: FIELD: MESSAGE.

    Exits 0 when the data is valid and 1 when it has problems. Only the raw files that changed since
    the last run are read again (.etl-cache/ keeps the rest); the checks across files cover every row.
    """
    ctx.meta["format"] = output_format
    counts = api.validate(ctx.obj)
    click.echo(as_json([]) if output_format == "json" else "valid: " + _counts(counts))


@cli.command()
@click.option("--check", is_flag=True, help="Build in memory and fail if the committed outputs differ; write nothing.")
@click.pass_obj
def build(project: Project, check: bool):
    """Validate raw/ and publish datasets/ (Parquet and CSV) and datapackage.json.

    Publishing is atomic: a build that fails, or is killed, leaves the previous outputs as they were.
    Like validate, it reads again only the raw files that changed; with --check it reads them all.
    """
    if check:
        stale, compared = api.stale_outputs(project)
        if stale:
            click.echo("stale outputs (run `etl build` and commit them):\n" + "\n".join(f"  {path}" for path in stale), err=True)
            sys.exit(EXIT_PROBLEMS)
        click.echo(f"outputs are current ({compared} files)")
        return
    built = api.build(project)
    if built.current:
        click.echo("outputs are current: nothing in raw/, schemas/ or the code changed since they were published")
    else:
        click.echo(f"published {built.files} files: {_counts(built.counts)}")


@cli.command()
@click.option("--check", is_flag=True, help="Write nothing; fail if any file is not in canonical form.")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def fmt(project: Project, check: bool, files: tuple[Path, ...]):
    """Rewrite raw files in canonical form (key order, indentation, quoting).

    With no FILES, every raw file. Comments are not kept: put what readers need in `notes`.
    """
    changed = api.fmt(project, [Path(f).resolve() for f in files] or None, write=not check)
    verb = "not canonical" if check else "reformatted"
    for name in changed:
        click.echo(f"{verb}: {name}")
    if check and changed:
        click.echo(f"{len(changed)} file(s) not canonical; run `etl fmt`", err=True)
        sys.exit(EXIT_PROBLEMS)


@cli.group()
def new():
    """Scaffold a record with a fresh stable id, in canonical form."""


@new.command("jurisdiction")
@click.option("--state", required=True, help="USPS code of the state, e.g. VA.")
@click.option("--name", required=True, help="Official name, e.g. 'Fairfax County'.")
@click.option("--kind", required=True, help="Kind of government, e.g. county, city, state.")
@click.pass_obj
def new_jurisdiction(project: Project, state: str, name: str, kind: str):
    """Write raw/jurisdictions/<state>/<slug>.yaml for a new jurisdiction."""
    click.echo(api.new_jurisdiction(project, state, name, kind))


@new.command("action")
@click.argument("jurisdiction_id")
@click.pass_obj
def new_action(project: Project, jurisdiction_id: str):
    """Append an action with a fresh id to JURISDICTION_ID's file; print the id."""
    click.echo(api.new_action(project, jurisdiction_id))


@new.command("source")
@click.option("--url", required=True, help="Where the document can be read (http or https).")
@click.option("--publisher", required=True, help="Who published it.")
@click.option("--id", "source_id", help="A readable id (default: src- and random letters).")
@click.pass_obj
def new_source(project: Project, url: str, publisher: str, source_id: str | None):
    """Write raw/sources/<id>.yaml for a new source; print its path."""
    click.echo(api.new_source(project, url, publisher, source_id))


@cli.command("archive")
@click.argument("family", type=click.Choice(FAMILIES))
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A CSV of the files' origin (columns file, sha256, obtained_from, note): archive every file it names, "
                   "checking each SHA-256.")
@click.option("--obtained-from", help="Where the files were obtained (a web address, or repository@commit:path), without --manifest.")
@click.pass_obj
def archive_command(project: Project, family: str, source: Path, manifest: Path | None, obtained_from: str | None):
    """Keep official files in archive/FAMILY/ (one copy of each content) and list every name in
    archive/MANIFEST.csv, so that a clone can import them again. SOURCE is a file or a folder.
    Archiving only adds: a name already archived must have the same bytes."""
    done = api.archive(project, family, source, manifest, obtained_from)
    click.echo(f"archived {len(done.added_files)} files and {len(done.added_names)} names; {done.known} names were already archived")


@cli.group("import")
def import_group():
    """Turn an official list into raw records (see each list's command)."""


def import_options(command: str, matched: str):
    """The options every `etl import` command takes; `matched` says what --verbose lists."""
    def decorate(function):
        function = click.pass_obj(function)
        function = click.option("--verbose", is_flag=True, help=f"Also list every automatic match of a listing to {matched}.")(function)
        function = click.option("--check", is_flag=True, help="Write nothing; fail if raw/ does not already say what the archived editions say.")(function)
        function = click.option("--registry", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                                help="The Open Civic Data registry of US counties and places (CSV: id,name,census_geoid); "
                                     "default: the copy in archive/ocd/.")(function)
        return import_group.command(command)(function)
    return decorate


@import_options("ice-287g", "an agreement")
def import_ice_287g(project: Project, registry: Path | None, check: bool, verbose: bool):
    """Make raw/ say what every edition of ICE's 287(g) "participating agencies" and "pending
    agencies" lists in archive/ says (add new ones first with `etl archive ice-287g`).

    Each edition becomes a source; each distinct row, as ICE wrote it, a listing in its jurisdiction's
    file with the runs of editions it stood in; rows that are one agreement under another spelling or
    a corrected SIGNED share an agreement id, each match with its reason. Importing again changes
    nothing; the editions may be archived in any order. Rows whose jurisdiction cannot be matched are
    reported, not guessed.
    """
    report = api.import_ice_287g(project, registry, write=not check)
    _report_import(report, "ice-287g", check, verbose, [
        ("listings with no jurisdiction (published with the reason; a curator can assign them in imports/ice-287g-agencies.yaml)",
         sorted(set(report.unmatched))),
        ("agreements listed before but not in the latest edition of their list (evidence, not proof, of an end)", report.no_longer_listed),
    ], "listings matched to an agreement they were not first in")


@import_options("ice-detention", "a facility")
def import_ice_detention(project: Project, registry: Path | None, check: bool, verbose: bool):
    """Make raw/ say what every edition of ICE's detention statistics in archive/ says about its
    facilities (add new ones first with `etl archive ice-detention`).

    Each edition becomes a source with its data date; each distinct facility row, as ICE wrote it, a
    listing in its state's file with the runs of editions it stood in and the figures each edition gave;
    rows that are one facility under another spelling, address or type share a facility id, each match
    with its reason. Each facility's jurisdiction comes from its type, its name and the reference
    lists, or is left empty with the reason. Importing again changes nothing.
    """
    report = api.import_ice_detention(project, registry, write=not check)
    _report_import(report, "ice-detention", check, verbose, [
        ("IGSA, USMS IGA or juvenile facilities with no jurisdiction (published with the reason; a curator can assign them in "
         "imports/ice-detention-facilities.yaml)", sorted(set(report.unmatched))),
        ("facilities listed before but not in the latest edition (they held no one on the day, or ICE left them out; not an end)",
         report.no_longer_listed),
        ("listings removed: the archived editions they claim no longer hold them as written", report.removed_listings),
    ], "listings matched to a facility they were not first in")


def _report_import(report, name: str, check: bool, verbose: bool, sections: list[tuple[str, list[str]]], matched: str) -> None:
    click.echo(f"{len(report.editions)} editions ({len(report.added_editions)} new); {len(report.added_listings)} new listings, "
               f"{len(report.added_jurisdictions)} new jurisdictions; {len(report.matches)} listings matched to an earlier one; "
               f"{'would change' if check else 'wrote'} {len(report.written)} files")
    sections = [("rows ICE wrote that cannot be read", report.unreadable_rows), *sections,
                ("jurisdictions given the county the Census list of places by county gives", report.completed_jurisdictions),
                ("jurisdictions whose county the Census list of places by county contradicts (a curator decides)", report.county_disagreements)]
    if verbose:
        sections.append((matched, report.matches))
    for title, lines in sections:
        if lines:
            click.echo(f"{len(lines)} {title}:")
            click.echo("\n".join(f"  {line}" for line in lines))
    if check and report.written:
        click.echo(f"raw/ does not say what the archived editions say: run `etl import {name}`", err=True)
        sys.exit(EXIT_PROBLEMS)


@cli.command()
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Print for people, or JSON for tools.")
@click.pass_context
def stats(ctx: click.Context, output_format: str):
    """Count actions by state, year, action, arrangement and initiating level, with the share of
    actions dated to the day and of actions with more than one source."""
    import json

    from .report import stats_text

    ctx.meta["format"] = output_format
    summary = api.stats(ctx.obj)
    click.echo(json.dumps(summary, indent=2) if output_format == "json" else stats_text(summary))


@cli.command()
@click.argument("query")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Print for people, or JSON for tools.")
@click.pass_obj
def show(project: Project, query: str, output_format: str):
    """Print a jurisdiction's record: every curated action in date order, with the people who acted,
    the links between actions and each source with its claim and locator; then its 287(g) agreements
    and detention facilities in ICE's lists. QUERY is an id (va-fairfax-county), an id without the
    state (fairfax-county) or a name ("Fairfax County", "Fairfax County, VA")."""
    import json

    shown = api.show(project, query)
    if shown.text is None:
        if output_format == "json":
            click.echo(json.dumps({"query": query, "candidates": shown.candidates, "suggestions": shown.suggestions}, indent=1))
        elif shown.candidates:
            click.echo(f"{query!r} could be any of these; give one of the ids:\n" + "\n".join(f"  {jid}" for jid in shown.candidates), err=True)
        else:
            close = f"; did you mean {', '.join(shown.suggestions)}?" if shown.suggestions else ""
            click.echo(f"no jurisdiction {query!r} (ids look like va-fairfax-county; a name or part of one works too){close}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(json.dumps(shown.record, indent=1, default=str, ensure_ascii=False) if output_format == "json" else shown.text)


@cli.command()
@click.argument("before")
@click.argument("after", default=".")
@click.option("--details", type=int, default=0, show_default=True, help="List up to this many ids of rows added, removed and changed per table.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Print for people, or JSON for tools (every id).")
@click.pass_obj
def diff(project: Project, before: str, after: str, details: int, output_format: str):
    """Compare two builds of the dataset table by table: rows added, removed and changed (by primary
    key, with the fields that changed). BEFORE and AFTER are each a folder holding a build (its
    datapackage.json and datasets/) or a git revision (HEAD~3, a tag); AFTER defaults to the project's
    own folder, as built now."""
    import json

    from .diff import as_data, summary

    old, new, diffs = api.diff(project, before, str(project.root) if after == "." else after)
    click.echo(json.dumps(as_data(diffs), indent=1) if output_format == "json" else summary(old, new, diffs, details))


@cli.command()
@click.argument("version")
@click.option("--date", "day", help="The release's date (YYYY-MM-DD); default: today (UTC).")
@click.option("--since", help="The previous release's build to compare with (a git revision or a folder); default: the tag data-vX.Y.Z "
                              "of the version in schemas/package.json, when it exists.")
@click.option("--repository", help="The repository's public address, for CITATION.cff.")
@click.pass_obj
def release(project: Project, version: str, day: str | None, since: str | None, repository: str | None):
    """Release the dataset as VERSION (MAJOR.MINOR.PATCH, the data's own version, apart from the
    code's): write it and the date into schemas/package.json and datapackage.json, a CHANGELOG.md entry
    from the diff with the previous release, CITATION.cff and .zenodo.json. Refused when the step is
    smaller than the changes call for (a removed column needs a major release; added rows a minor one).
    Commit what it wrote and tag the commit data-vVERSION yourself: the next release finds the previous
    one by that tag (or pass --since)."""
    from . import dates

    try:
        when = dates.day(day) if day else dates.today()
    except ValueError:
        raise click.BadParameter(f"{day!r} is not a date (YYYY-MM-DD)", param_hint="--date") from None
    done = api.release(project, version, when, since, repository)
    changes = "no table changed" if done.step == "none" else f"the changes call for at least a {done.step} step"
    click.echo(f"released {done.version} ({done.date.isoformat()}); compared with {done.since or 'nothing (the first release)'}: "
               f"{changes}; wrote {', '.join(done.written)}")
    click.echo(f"commit them, then tag the commit: git tag data-v{done.version}")


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None, help="The folder to write (default: site/ in the project).")
@click.pass_obj
def site(project: Project, out: Path | None):
    """Write the static site: an index with the counts over time, a county map, search and downloads;
    a page per state and per jurisdiction with its timeline and every claim's source. It works from a
    plain file server (python3 -m http.server -d site) and loads nothing from elsewhere."""
    target = out or project.root / "site"
    pages = api.site(project, target)
    click.echo(f"wrote {pages} pages and the downloads into {target}")


@cli.command()
@click.option("--check", is_flag=True, help="Write nothing; fail if a generated document is out of date.")
@click.pass_obj
def docs(project: Project, check: bool):
    """Regenerate what is derived from schemas/ and the commands: the README's data dictionary and
    command reference, and the raw files' JSON Schemas."""
    stale = api.docs(project, cli, write=not check)
    for name in stale:
        click.echo(f"{'out of date' if check else 'wrote'}: {name}")
    if check and stale:
        click.echo("run `etl docs` and commit the result", err=True)
        sys.exit(EXIT_PROBLEMS)


def main():  # pragma: no cover - the console-script entry point
    cli(prog_name="etl")
