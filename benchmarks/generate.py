"""Write a complete synthetic project that `etl --root DIR build` builds and validates.

    python benchmarks/generate.py --actions 10000 /tmp/bench-10k

Jurisdictions are real counties (from the Census list `addfips` ships) across every state, each with
several actions; every action cites one or two sources and some link to an earlier action. The text is
made up and says so: it is for measuring the tool, never for publishing.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from etl import reference  # noqa: E402
from etl.canonical import dump  # noqa: E402
from etl.scaffold import ID_ALPHABET, slugify  # noqa: E402
from etl.schema import load_schemas  # noqa: E402
from etl.validate import ocd_slug  # noqa: E402

ACTIONS_PER_JURISDICTION = 10
ACTIONS_PER_SOURCE = 10
VOCABULARY = {
    "action": ["enter", "renew", "restrict", "terminate", "request", "protest"],
    "stage": ["announced", "approved", "notice_given", "in_effect"],
    "arrangement": ["igsa_detention", "usms_rider", "287g_jail_enforcement", "287g_task_force", "detainer_policy"],
    "actor_role": ["sheriff", "county_board", "county_executive", "public"],
}


def synthetic_id(rng: random.Random, prefix: str) -> str:
    return prefix + "-" + "".join(rng.choice(ID_ALPHABET) for _ in range(10))


def counties(count: int) -> list[tuple[str, str, str]]:
    """(USPS, county FIPS, Census name) for `count` counties spread over the states."""
    states = {fips: usps for usps, fips in reference.state_fips_by_usps().items()}
    rows = sorted(reference.county_names().items())
    rows = [(states[fips[:2]], fips, name) for fips, name in rows if fips[:2] in states]
    step = max(1, len(rows) // count) if count <= len(rows) else 1
    picked = rows[::step][:count]
    while len(picked) < count:  # more jurisdictions than counties: cities in them, under new names
        usps, fips, name = rows[len(picked) % len(rows)]
        picked.append((usps, fips, f"{name} {len(picked) // len(rows) + 1}"))
    return picked


def _kind_and_name(census_name: str, reused: bool) -> tuple[str, str, str]:
    """The jurisdiction's kind, name and OCD division type, as the validation rules expect them of
    a county (its Census name), a parish, an independent city, or a made-up city in a county."""
    if reused:
        return "city", census_name, "place"
    if census_name.endswith(" Parish"):
        return "parish", census_name, "parish"
    if census_name.endswith(" city"):
        return "independent_city", census_name.removesuffix(" city"), "place"
    return "county", census_name, "county"


def generate(root: Path, actions: int, seed: int = 2026) -> None:
    rng = random.Random(seed)
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(REPO / "schemas", root / "schemas")
    schemas = load_schemas(root / "schemas")
    source_ids = [f"synthetic-source-{n:06d}" for n in range(max(1, actions // ACTIONS_PER_SOURCE))]
    for source_id in source_ids:
        record = {
            "source_id": source_id, "url": f"https://example.org/synthetic/{source_id}", "publisher": "Synthetic Publisher",
            "title": f"Synthetic story {source_id}", "published": f"20{rng.randint(17, 25)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            "kind": "news", "notes": "Made up for benchmarks; not a real document.",
        }
        _write(root / "raw/sources" / f"{source_id}.yaml", dump(schemas, "sources", record))
    jurisdictions = counties(max(1, -(-actions // ACTIONS_PER_JURISDICTION)))
    made = 0
    for usps, fips, name in jurisdictions:
        count = min(ACTIONS_PER_JURISDICTION, actions - made)
        record = _jurisdiction(usps, fips, name)
        record["actions"] = [_action(rng, source_ids, made + n) for n in range(count)]
        for action, date in zip(record["actions"], sorted(a["date"] for a in record["actions"]), strict=True):
            action["date"] = date  # in date order, so that each link names an earlier action
        for index in range(1, count, 3):
            record["actions"][index]["links"] = [{"relation": "carries_out", "related_action_id": record["actions"][index - 1]["action_id"]}]
        made += count
        _write(root / "raw/jurisdictions" / usps.lower() / f"{record['jurisdiction_id'][3:]}.yaml",
               dump(schemas, "jurisdictions", record))
    _cite_unused(root, schemas, source_ids, rng)


def _jurisdiction(usps: str, fips: str, census_name: str) -> dict:
    kind, name, division = _kind_and_name(census_name, reference.county_names().get(fips) != census_name)
    slug = ocd_slug(name, kind) if division in ("county", "parish") else slugify(name).replace("-", "_")
    return {
        "jurisdiction_id": f"{usps.lower()}-{slugify(name)}", "name": name, "kind": kind, "state": usps,
        "state_fips": fips[:2], "county_fips": fips,
        "ocd_id": f"ocd-division/country:us/state:{usps.lower()}/{division}:{slug}",
    }


def _action(rng: random.Random, source_ids: list[str], number: int) -> dict:
    year, month, day = rng.randint(2017, 2025), rng.randint(1, 12), rng.randint(1, 28)
    cited = {source_ids[number // ACTIONS_PER_SOURCE % len(source_ids)]}
    if number % 4 == 0:  # a quarter of the actions cite a second source
        cited.add(rng.choice(source_ids))
    return {
        "action_id": synthetic_id(rng, "act"), "date": f"{year}-{month:02d}-{day:02d}" if number % 5 else f"{year}-{month:02d}",
        **{field: rng.choice(values) for field, values in VOCABULARY.items()},
        "actor_name": "Synthetic Actor", "initiated_by": "local",
        "summary": f"Synthetic action number {number} for benchmarking the build.",
        "citations": [{"source_id": s, "claim": f"Synthetic claim for action {number}.", "locator": f"paragraph {rng.randint(1, 20)}"} for s in sorted(cited)],
    }


def _cite_unused(root: Path, schemas, source_ids: list[str], rng: random.Random) -> None:
    """Every source must be cited: remove the few the random draw left out."""
    cited = set()
    for path in (root / "raw/jurisdictions").rglob("*.yaml"):
        cited.update(line.split(": ", 1)[1] for line in path.read_text().splitlines() if "source_id: " in line)
    for source_id in set(source_ids) - cited:
        (root / "raw/sources" / f"{source_id}.yaml").unlink()


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, required=True, help="how many actions to write")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (the same seed writes the same project)")
    parser.add_argument("dir", type=Path, help="the project folder to (re)create")
    args = parser.parse_args()
    generate(args.dir, args.actions, args.seed)


if __name__ == "__main__":
    main()
