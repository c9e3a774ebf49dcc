"""A static site of the published data (`etl site` -> site/): an index with the counts over time as
charts, a county map, search and downloads; a page per state and per jurisdiction with its timeline,
every claim with its source and locator. Everything it needs is in the folder: no request leaves the
page (the county shapes are the Census Bureau's cartographic boundaries as the `us-atlas` package
ships them, archived in archive/us-atlas/). It is made from the validated tables only, and the same
tables give the same bytes."""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path
from urllib.parse import quote

from .report import records

ATLAS = "archive/us-atlas/counties-albers-10m.json"
CATEGORIES = [  # what a county has, in the map's order: (key, label, colour: Okabe and Ito's palette, which colour-blind readers tell apart)
    ("both", "a 287(g) agreement and an ICE detention facility (IGSA or USMS)", "#D55E00"),
    ("287g", "a 287(g) agreement listed by ICE", "#E69F00"),
    ("detention", "an ICE detention facility under an IGSA or USMS agreement", "#0072B2"),
    ("curated", "curated actions only (no current listing)", "#009E73"),
]
NONE_COLOUR = "#e8e8e8"
COUNTY_KINDS = ("county", "parish", "independent_city", "consolidated_city_county", "borough")  # jurisdictions that are a county on the map
STYLE = """
:root{color-scheme:light}body{font:16px/1.5 system-ui,sans-serif;color:#1a1a1a;background:#fff;margin:0 auto;max-width:70rem;padding:0 1rem}
a{color:#0b5394}a:focus,input:focus{outline:3px solid #E69F00;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border-bottom:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
figure{margin:1rem 0}svg{max-width:100%;height:auto}
.legend span{display:inline-block;width:1em;height:1em;margin-right:.4em;vertical-align:middle;border:1px solid #666}
.claim{margin:.25rem 0 .75rem 1rem}.meta{color:#444;font-size:.9rem}nav ol{padding-left:0;list-style:none}nav li{display:inline}nav li+li:before{content:" / "}
@media (max-width:40rem){body{font-size:15px}th,td{padding:.2rem}}
"""
SEARCH = """
const box=document.getElementById('q'),out=document.getElementById('results'),index=JSON.parse(document.getElementById('index').textContent);
box.addEventListener('input',()=>{const q=box.value.trim().toLowerCase();out.innerHTML='';if(q.length<2)return;
const hits=index.filter(e=>e[0].toLowerCase().includes(q)).slice(0,50);
for(const [name,state,href] of hits){const li=document.createElement('li'),a=document.createElement('a');
a.href=href;a.textContent=name+', '+state;li.appendChild(a);out.appendChild(li)}
document.getElementById('count').textContent=hits.length+(hits.length==50?'+':'')+' found';});
"""


def esc(value) -> str:
    return html.escape("" if value is None else str(value))


def page(title: str, body: str, depth: int = 0, crumbs: list[tuple[str, str]] | None = None) -> str:
    up = "../" * depth
    trail = "".join(f'<li><a href="{up}{href}">{esc(label)}</a></li>' for label, href in crumbs or [])
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
            f'<a class="skip" href="#main">Skip to the content</a>'
            f'<header><nav aria-label="Breadcrumb"><ol><li><a href="{up}index.html">US government cooperation with ICE</a></li>{trail}</ol></nav></header>'
            f'<main id="main"><h1>{esc(title)}</h1>{body}</main>'
            f'<footer><p class="meta">Data under CC BY 4.0; see <a href="{up}index.html#cite">how to cite</a>. County shapes: the U.S. Census Bureau\'s '
            f"cartographic boundaries (2017), as the us-atlas package redistributes them (ISC licence).</p></footer></body></html>\n")


def build_site(tables: dict, root: Path, out: Path, datasets: Path, package: dict) -> int:
    """Write the site into `out` (replacing it); return how many pages."""
    rows = {name: table.rows for name, table in tables.items()}
    everything = records(tables)
    shown = {jid: r for jid, r in everything.items() if r["actions"] or r["agreements_287g"] or r["detention_facilities"]}
    if out.exists():
        shutil.rmtree(out)
    (out / "j").mkdir(parents=True)
    (out / "state").mkdir()
    shutil.copytree(datasets, out / "data")
    shutil.copy(root / "datapackage.json", out / "data" / "datapackage.json")
    pages = {"index.html": _index(rows, shown, root, package)}
    for jid, record in shown.items():
        pages[f"j/{jid}.html"] = _jurisdiction(record)
    states: dict[str, list[dict]] = {}
    for record in shown.values():
        states.setdefault(record["jurisdiction"]["state"], []).append(record)
    for state, found in states.items():
        pages[f"state/{state.lower()}.html"] = _state(state, found)
    pages["jurisdictions.html"] = _all_jurisdictions(shown)
    for name, text in sorted(pages.items()):
        (out / name).write_text(text, "utf-8")
    return len(pages)


# -- index -------------------------------------------------------------------------------------------

def _index(rows: dict, shown: dict, root: Path, package: dict) -> str:
    editions = sorted(rows["editions_287g"], key=lambda e: (e["published"], e["source_id"]))
    participating = [(e["published"], e["agreements"]) for e in editions if e["list"] == "ice_287g_participating"]
    held = sorted((e["data_date"], e["facilities"]) for e in rows["editions_detention"])
    counties = _county_categories(rows)
    search_index = json.dumps(sorted([r["jurisdiction"]["name"], r["jurisdiction"]["state"], f"j/{jid}.html"] for jid, r in shown.items()),
                              separators=(",", ":")).replace("</", "<\\/")
    latest = participating[-1] if participating else None
    body = [
        "<p>What US states, counties, cities and sheriffs do about cooperating with U.S. Immigration and Customs Enforcement (ICE): "
        f"{len(rows['actions'])} curated actions, each claim cited with a source and a locator, beside ICE's own lists: "
        f"{len(rows['editions_287g'])} editions of its 287(g) lists and {len(rows['editions_detention'])} of its detention statistics. "
        f"Dataset version {esc(package.get('version'))}.</p>",
        '<h2 id="search-heading">Find a jurisdiction</h2>',
        '<label for="q">Name of a state, county, city or sheriff\'s jurisdiction</label> <input id="q" type="search" autocomplete="off">'
        '<p id="count" class="meta" aria-live="polite"></p><ul id="results"></ul>'
        '<p>Or browse <a href="jurisdictions.html">every jurisdiction</a>, or a state: '
        + ", ".join(f'<a href="state/{s.lower()}.html">{s}</a>' for s in sorted({r["jurisdiction"]["state"] for r in shown.values()})) + ".</p>",
        f'<script type="application/json" id="index">{search_index}</script><script>{SEARCH}</script>',
        "<h2>Over time</h2>",
        _chart("287(g) agreements on ICE's participating list, by edition", "agreements", participating,
               f"From {participating[0][0]} to {latest[0]}, the number of agreements ICE lists as participating went from "
               f"{participating[0][1]} to {latest[1]}." if latest else "No edition imported."),
        _chart("Facilities in ICE's detention statistics, by data date", "facilities", held,
               f"ICE listed between {min(n for _, n in held)} and {max(n for _, n in held)} facilities in each edition." if held else "No edition imported."),
        "<h2>Map</h2>", _map(root, counties, shown),
        '<h2 id="downloads">Downloads</h2><p>Every table as CSV and Parquet, with <a href="data/datapackage.json">datapackage.json</a> '
        "(Frictionless), which describes each field. Read codes such as FIPS as text (see the README).</p><ul>"
        + "".join(f'<li><a href="data/{name}.csv">{name}.csv</a> · <a href="data/{name}.parquet">Parquet</a> ({len(r)} rows)</li>'
                  for name, r in rows.items()) + "</ul>",
        f'<h2 id="cite">How to cite</h2><p>{esc(package.get("contributors", [{}])[0].get("title", ""))}, <cite>{esc(package.get("title"))}</cite>, '
        f"version {esc(package.get('version'))}, CC BY 4.0. Cite the sources the rows rest on too; every page lists them.</p>",
    ]
    return page("US government cooperation with ICE", "".join(body))


def _chart(title: str, what: str, points: list[tuple], summary: str) -> str:
    """A line chart as SVG with its title and description, and the table of its numbers behind it."""
    width, height, pad = 640, 240, 40
    if not points:
        return f"<figure><figcaption>{esc(title)}</figcaption><p>{esc(summary)}</p></figure>"
    top = max(n for _, n in points) or 1
    step = (width - 2 * pad) / max(len(points) - 1, 1)
    xy = [(pad + i * step, height - pad - (n / top) * (height - 2 * pad)) for i, (_, n) in enumerate(points)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    key = what.replace(" ", "-")
    svg = (f'<svg viewBox="0 0 {width} {height}" role="img" aria-labelledby="{key}-t {key}-d"><title id="{key}-t">{esc(title)}</title>'
           f'<desc id="{key}-d">{esc(summary)}</desc>'
           f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#666"/>'
           f'<polyline points="{line}" fill="none" stroke="#0072B2" stroke-width="2"/>'
           f'<text x="{pad}" y="{pad - 10}" font-size="12">{top} {esc(what)}</text>'
           f'<text x="{pad}" y="{height - pad + 16}" font-size="12">{esc(points[0][0])}</text>'
           f'<text x="{width - pad}" y="{height - pad + 16}" font-size="12" text-anchor="end">{esc(points[-1][0])}</text></svg>')
    table = "".join(f"<tr><td>{esc(day)}</td><td>{n}</td></tr>" for day, n in points)
    return (f"<figure>{svg}<figcaption>{esc(title)}. {esc(summary)}</figcaption>"
            f"<details><summary>The numbers behind the chart</summary><table><thead><tr><th>Edition</th><th>{esc(what.capitalize())}</th></tr>"
            f"</thead><tbody>{table}</tbody></table></details></figure>")


def _county_categories(rows: dict) -> dict[str, str]:
    """County FIPS -> what it has (a CATEGORIES key)."""
    agreements = {a["county_fips"] for a in rows["agreements_287g"] if a["status"] == "listed" and a["county_fips"]}
    held = {f["county_fips"] for f in rows["detention_facilities"] if f["status"] == "listed" and f["arrangement"] and f["county_fips"]}
    county_of = {j["jurisdiction_id"]: j["county_fips"] for j in rows["jurisdictions"]}
    curated = {fips for a in rows["actions"] if (fips := county_of.get(a["jurisdiction_id"]))}
    found = {}
    for fips in agreements | held | curated:
        found[fips] = "both" if fips in agreements and fips in held else "287g" if fips in agreements else "detention" if fips in held else "curated"
    return found


def _map(root: Path, categories: dict[str, str], shown: dict) -> str:
    atlas = json.loads((root / ATLAS).read_text("utf-8"))
    arcs = _decoded_arcs(atlas)
    page_of = {r["jurisdiction"]["county_fips"]: jid for jid, r in shown.items()
               if r["jurisdiction"]["county_fips"] and r["jurisdiction"]["kind"] in COUNTY_KINDS}
    colour = {key: c for key, _, c in CATEGORIES}
    label = {key: text for key, text, _ in CATEGORIES}
    paths, listed = [], []
    for county in sorted(atlas["objects"]["counties"]["geometries"], key=lambda g: g["id"]):
        fips, name = county["id"], county["properties"]["name"]
        d = _path(county, arcs)
        if not d:
            continue
        kind = categories.get(fips)
        fill = colour.get(kind or "", NONE_COLOUR)
        what = f"{name} ({fips}): {label[kind]}" if kind else f"{name} ({fips}): nothing recorded"
        shape = f'<path d="{d}" fill="{fill}"><title>{esc(what)}</title></path>'
        if fips in page_of:
            shape = f'<a href="j/{page_of[fips]}.html" tabindex="-1" aria-label="{esc(what)}">{shape}</a>'
        paths.append(shape)
        if kind:
            listed.append((fips, name, kind))
    legend = "".join(f'<li><span style="background:{c}"></span>{esc(text)}</li>' for _, text, c in CATEGORIES)
    counts = {key: sum(1 for _, _, k in listed if k == key) for key, _, _ in CATEGORIES}
    summary = "; ".join(f"{counts[key]} counties with {text}" for key, text, _ in CATEGORIES)
    rows = "".join(f"<tr><td>{fips}</td><td>{_county_link(fips, name, page_of)}</td><td>{esc(label[kind])}</td></tr>" for fips, name, kind in listed)
    return (f'<figure><svg viewBox="0 0 975 610" role="group" aria-labelledby="map-t map-d"><title id="map-t">US counties by what ICE\'s lists and '
            f'the curated actions record</title><desc id="map-d">{esc(summary)}. The table after the map lists the same counties.</desc>'
            f'<g stroke="#fff" stroke-width="0.3">{"".join(paths)}</g></svg>'
            f'<figcaption>Each county coloured by what the data record for it (a city\'s 287(g) agreement counts where its county is known). '
            f'{esc(summary)}.</figcaption><ul class="legend">{legend}</ul>'
            f"<details><summary>The table behind the map ({len(listed)} counties)</summary><table><thead><tr><th>FIPS</th><th>County</th>"
            f"<th>What is recorded</th></tr></thead><tbody>{rows}</tbody></table></details></figure>")


def _county_link(fips: str, name: str, page_of: dict[str, str]) -> str:
    return f'<a href="j/{page_of[fips]}.html">{esc(name)}</a>' if fips in page_of else esc(name)


def _decoded_arcs(atlas: dict) -> list[list[tuple[float, float]]]:
    """TopoJSON's quantized, delta-encoded arcs as absolute coordinates."""
    (sx, sy), (tx, ty) = atlas["transform"]["scale"], atlas["transform"]["translate"]
    decoded = []
    for arc in atlas["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        decoded.append(points)
    return decoded


def _path(geometry: dict, arcs: list) -> str:
    polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]] if geometry["type"] == "Polygon" else []
    parts = []
    for polygon in polygons:
        for ring in polygon:
            points: list[tuple[float, float]] = []
            for index in ring:
                arc = arcs[index] if index >= 0 else arcs[~index][::-1]
                points.extend(arc if not points else arc[1:])
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z")
    return "".join(parts)


# -- states and jurisdictions ---------------------------------------------------------------------------

def _all_jurisdictions(shown: dict) -> str:
    items = sorted(shown.values(), key=lambda r: (r["jurisdiction"]["state"], r["jurisdiction"]["name"]))
    body = "<ul>" + "".join(f'<li><a href="j/{r["jurisdiction"]["jurisdiction_id"]}.html">{esc(r["jurisdiction"]["name"])}</a>, '
                            f'{esc(r["jurisdiction"]["state"])}</li>' for r in items) + "</ul>"
    return page("Every jurisdiction", f"<p>{len(items)} jurisdictions with curated actions, 287(g) agreements or ICE detention facilities.</p>" + body)


def _state(state: str, found: list[dict]) -> str:
    header = "<tr><th>Jurisdiction</th><th>Curated actions</th><th>287(g) agreements listed</th><th>Detention facilities listed</th></tr>"
    rows = "".join(
        f'<tr><td><a href="../j/{r["jurisdiction"]["jurisdiction_id"]}.html">{esc(r["jurisdiction"]["name"])}</a></td><td>{len(r["actions"])}</td>'
        f'<td>{sum(a["status"] == "listed" for a in r["agreements_287g"])}</td><td>{sum(f["status"] == "listed" for f in r["detention_facilities"])}</td></tr>'
        for r in sorted(found, key=lambda r: r["jurisdiction"]["name"]))
    return page(f"{state}: jurisdictions", f"<table><thead>{header}</thead><tbody>{rows}</tbody></table>", 1, [(state, f"state/{state.lower()}.html")])


def _jurisdiction(record: dict) -> str:
    j = record["jurisdiction"]
    codes = ", ".join(f"{label} {esc(j[key])}" for key, label in (("county_fips", "county FIPS"), ("place_geoid", "place GEOID")) if j.get(key))
    body = [f'<p class="meta">{esc(j["kind"].replace("_", " "))}, {esc(j["state"])}{"; " + codes if codes else ""}; id {esc(j["jurisdiction_id"])}</p>']
    body.append("<h2>Curated actions</h2>")
    if not record["actions"]:
        body.append("<p>No curated action recorded.</p>")
    for action in record["actions"]:
        body.append(f'<h3 id="{esc(action["action_id"])}">{esc(action["date"])}: {esc(action["action"])} ({esc(action["stage"].replace("_", " "))}), '
                    f'{esc(action["arrangement"].replace("_", " "))}</h3><p>{esc(action["summary"])}</p>'
                    f'<p class="meta">By {esc(action["actor_name"])} ({esc(action["actor_role"].replace("_", " "))}); '
                    f'decided at the {esc(action["initiated_by"])} level. {esc(action["notes"] or "")}</p>')
        for link in action["links"]:
            body.append(f'<p class="meta">{esc(link["relation"].replace("_", " "))} <a href="#{esc(link["related_action_id"])}">'
                        f'{esc(link["related_action_id"])}</a></p>')
        body.append("<ul>" + "".join(_citation(c) for c in action["citations"]) + "</ul>")
    if record["agreements_287g"]:
        body.append("<h2>287(g) agreements in ICE's lists</h2><table><thead><tr><th>Agency</th><th>Model</th><th>Signed</th><th>Listed</th>"
                    "<th>Status</th></tr></thead><tbody>")
        body += [f'<tr><td>{esc(a["agency"])}</td><td>{esc(a["model"].replace("287g_", "").replace("_", " "))}</td><td>{esc(a["signed"])}</td>'
                 f'<td>{esc(a["first_listed"])} to {esc(a["last_listed"])} ({a["editions"]} editions)</td>'
                 f'<td>{esc(a["status"].replace("_", " "))}{" from " + esc(a["not_listed_from"]) if a["not_listed_from"] else ""}</td></tr>'
                 for a in record["agreements_287g"]]
        body.append("</tbody></table>")
    if record["detention_facilities"]:
        body.append("<h2>Facilities in ICE's detention statistics</h2><table><thead><tr><th>Facility</th><th>Type</th><th>History</th>"
                    "<th>Status</th></tr></thead><tbody>")
        body += [f'<tr><td>{esc(f["name"])}, {esc(f["city"])}</td><td>{esc(f["type_detailed"])}</td><td>'
                 + "; ".join(f'{esc(r["type_detailed"])} from {esc(r["from"])}' + (f' until {esc(r["until"])}' if r["until"] else "") for r in f["runs"])
                 + f'</td><td>{esc(f["status"].replace("_", " "))}</td></tr>' for f in record["detention_facilities"]]
        body.append("</tbody></table>")
    if record["detention_consistency"]:
        body.append("<h2>Where the curated actions and ICE's lists disagree</h2><ul>"
                    + "".join(f'<li>{esc(r["action_says"])}; ICE: {esc(r["ice_says"])}</li>' for r in record["detention_consistency"]) + "</ul>")
    state = j["state"]
    return page(j["name"] + f", {state}", "".join(body), 1, [(state, f"state/{state.lower()}.html")])


def _citation(citation: dict) -> str:
    source = citation["source"] or {}
    locator = citation["locator"] or ""
    where, _, fragment = locator.partition("#:~:text=")
    url = source.get("url") or ""
    href = url + ("#:~:text=" + quote(fragment, safe="%-,") if fragment and "#" not in url else "")
    title = f" “{esc(source.get('title'))}”" if source.get("title") else ""
    return (f'<li class="claim">{esc(citation["claim"])} <span class="meta">({esc(where.strip().rstrip(";"))})</span><br>'
            f'<a class="source" href="{esc(href)}">{esc(source.get("publisher"))}{title}</a>'
            f'<span class="meta">, {esc(source.get("published") or "undated")}</span></li>')
