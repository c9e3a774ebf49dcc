"""A static site of the published data (`etl site` -> site/): an index with the counts over time as
charts, a county map, search and downloads; a page per state and per jurisdiction with its timeline,
every claim with its source and locator. Everything it needs is in the folder: no request leaves the
page (the county shapes are the Census Bureau's cartographic boundaries as the `us-atlas` package
ships them, archived in archive/us-atlas/). It is made from the validated tables only, and the same
tables give the same bytes."""

from __future__ import annotations

import datetime as dt
import html
import json
import shutil
from pathlib import Path
from urllib.parse import quote

from .report import records

ATLAS = "archive/us-atlas/counties-albers-10m.json"
CATEGORIES = [  # what a county has, in the map's order: (key, label, colour: hues colour-blind readers tell apart, in light and dark steps)
    ("both", "a 287(g) agreement and an ICE detention facility (IGSA or USMS)", "#7f2704"),
    ("287g", "a 287(g) agreement listed by ICE", "#fdae6b"),
    ("detention", "an ICE detention facility under an IGSA or USMS agreement", "#08519c"),
    ("curated", "curated actions only (no current listing)", "#41ab5d"),
]
NONE_COLOUR = "#ffffff"
SITE_TITLE = "US local government actions on cooperation with ICE"
COUNTY_KINDS = ("county", "parish", "independent_city", "consolidated_city_county", "borough")  # jurisdictions that are a county on the map
STYLE = """
:root{color-scheme:light}body{font:16px/1.5 system-ui,sans-serif;color:#1a1a1a;background:#fff;margin:0 auto;max-width:70rem;padding:0 1rem}
a{color:#0b5394}a:focus,input:focus{outline:3px solid #1a1a1a;outline-offset:2px}.scroll{overflow-x:auto}.day{white-space:nowrap}
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
const [name,st]=q.split(',').map(t=>t.trim());
const hits=index.filter(e=>(e[0]+' '+e[3]).toLowerCase().includes(name)&&(!st||e[1].toLowerCase()==st)).slice(0,50);
for(const [label,state,href,also] of hits){const li=document.createElement('li'),a=document.createElement('a');
a.href=href;a.textContent=label+', '+state+(also?' ('+also+')':'');li.appendChild(a);out.appendChild(li)}
document.getElementById('count').textContent=hits.length+(hits.length==50?'+':'')+' found';});
"""


def esc(value) -> str:
    return html.escape("" if value is None else str(value))


def page(title: str, body: str, depth: int = 0, crumbs: list[tuple[str, str]] | None = None) -> str:
    up = "../" * depth
    trail = "".join(f'<li><a href="{up}{href}">{esc(label)}</a></li>' for label, href in crumbs or [])
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
            f'<title>{esc(title)}</title><link rel="icon" href="data:,"><style>{STYLE}</style></head><body>'
            f'<a class="skip" href="#main">Skip to the content</a>'
            f'<header><nav aria-label="Breadcrumb"><ol><li><a href="{up}index.html">{esc(SITE_TITLE)}</a></li>{trail}</ol></nav></header>'
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
    for folder in ("j", "state", "api/j"):
        (out / folder).mkdir(parents=True)
    shutil.copytree(datasets, out / "data")
    shutil.copy(root / "datapackage.json", out / "data" / "datapackage.json")
    context = _Context(rows, shown)
    pages = {"index.html": _index(rows, shown, root, package, context)}
    for jid, record in shown.items():
        pages[f"j/{jid}.html"] = _jurisdiction(record, context)
    for state, found in context.states.items():
        pages[f"state/{state.lower()}.html"] = _state(state, found)
    pages["jurisdictions.html"] = _all_jurisdictions(shown)
    for name, text in sorted(pages.items()):
        (out / name).write_text(text, "utf-8")
    for jid, record in shown.items():  # the same records as JSON, for tools
        (out / f"api/j/{jid}.json").write_text(json.dumps(record, indent=1, default=str, ensure_ascii=False, sort_keys=True) + "\n", "utf-8")
    index = [{"jurisdiction_id": jid, "name": r["jurisdiction"]["name"], "state": r["jurisdiction"]["state"], "page": f"j/{jid}.html",
              "json": f"api/j/{jid}.json"} for jid, r in sorted(shown.items())]
    (out / "api/jurisdictions.json").write_text(json.dumps(index, indent=1, ensure_ascii=False) + "\n", "utf-8")
    return len(pages)


class _Context:
    """What every page may need: where each action is, each edition, and each state's records."""

    def __init__(self, rows: dict, shown: dict):
        self.action_at = {a["action_id"]: a for a in rows["actions"]}
        self.editions = {s["source_id"]: s for s in rows["sources"] if s["edition_of"]}
        self.shown = shown
        self.states: dict[str, list[dict]] = {}
        for record in shown.values():
            self.states.setdefault(record["jurisdiction"]["state"], []).append(record)


# -- index -------------------------------------------------------------------------------------------

def _index(rows: dict, shown: dict, root: Path, package: dict, context: _Context) -> str:
    editions = sorted(rows["editions_287g"], key=lambda e: (e["published"], e["source_id"]))
    participating = [(e["published"], e["agreements"]) for e in editions if e["list"] == "ice_287g_participating"]
    held = sorted((e["data_date"], e["facilities"]) for e in rows["editions_detention"])
    by_year: dict[int, int] = {}
    for action in rows["actions"]:
        by_year[action["date_end"].year] = by_year.get(action["date_end"].year, 0) + 1
    counties = _county_categories(rows)
    latest = participating[-1] if participating else None
    as_of = (f"ICE's 287(g) lists as of {latest[0]}, its detention statistics as of {held[-1][0]}; the latest curated action is of "
             f"{max(a['date_end'] for a in rows['actions'])}." if latest and held and rows["actions"] else "")
    body = [
        "<p>What US states, counties, cities and sheriffs do about cooperating with U.S. Immigration and Customs Enforcement (ICE): "
        f"{len(rows['actions'])} curated actions, each claim cited with a source and a locator, beside ICE's own lists: "
        f"{len(rows['editions_287g'])} editions of its 287(g) lists and {len(rows['editions_detention'])} of its detention statistics. "
        f"Dataset version {esc(package.get('version'))}{' of ' + esc(package['created'][:10]) if package.get('created') else ''}. "
        f"{esc(as_of)}</p>",
        '<h2 id="search-heading">Find a jurisdiction, agency or facility</h2>',
        '<label for="q">A name, and if you like a state after a comma (Hudson County, NJ)</label> <input id="q" type="search" autocomplete="off">'
        '<noscript><p>Searching needs JavaScript; without it, use <a href="jurisdictions.html">the list of every jurisdiction</a> '
        "or a state's page.</p></noscript>"
        '<p id="count" class="meta" aria-live="polite"></p><ul id="results"></ul>'
        '<p>Or browse <a href="jurisdictions.html">every jurisdiction</a>, or a state: '
        + ", ".join(f'<a href="state/{s.lower()}.html">{s}</a>' for s in sorted(context.states)) + ".</p>",
        f'<script type="application/json" id="index">{_search_index(rows, shown, context)}</script><script>{SEARCH}</script>',
        "<h2>Over time</h2>",
        _chart("287(g) agreements on ICE's participating list, by edition", "agreements", participating,
               f"From {participating[0][0]} to {latest[0]}, the number of agreements ICE lists as participating went from "
               f"{participating[0][1]} to {latest[1]}." if latest else "No edition imported."),
        _chart("Facilities in ICE's detention statistics, by data date", "facilities", held,
               f"ICE listed between {min(n for _, n in held)} and {max(n for _, n in held)} facilities in each edition." if held else "No edition imported."),
        _chart("Curated actions, by year", "actions",
               [(dt.date(year, 7, 1), by_year.get(year, 0)) for year in range(min(by_year), max(by_year) + 1)] if by_year else [],
               f"{len(rows['actions'])} curated actions from {min(by_year)} to {max(by_year)}; the curated layer is not a census "
               "(see the README's coverage statement)." if by_year else "No curated action.", label=lambda day: str(day.year)),
        "<h2>Map</h2>", _map(root, counties, shown, context),
        '<h2 id="downloads">Downloads</h2><p>Every table as CSV and Parquet, with <a href="data/datapackage.json">datapackage.json</a> '
        "(Frictionless), which describes each field; each jurisdiction's record as JSON in <code>api/</code> "
        '(<a href="api/jurisdictions.json">the index</a>). Read codes such as FIPS as text (see the README).</p><ul>'
        + "".join(f'<li><a href="data/{name}.csv">{name}.csv</a> · <a href="data/{name}.parquet">Parquet</a> ({len(r)} rows)</li>'
                  for name, r in rows.items()) + "</ul>",
        f'<h2 id="cite">How to cite</h2><p>{esc(package.get("contributors", [{}])[0].get("title", ""))}, <cite>{esc(package.get("title"))}</cite>, '
        f"version {esc(package.get('version'))}{' (' + esc(package['created'][:10]) + ')' if package.get('created') else ''}, CC BY 4.0. "
        "Cite the sources the rows rest on too; every page lists them.</p>",
    ]
    return page(SITE_TITLE, "".join(body))


def _search_index(rows: dict, shown: dict, context: _Context) -> str:
    """[label, state, page, what it is] for every jurisdiction with a page, and every 287(g) agency and
    detention facility (to its jurisdiction's page, or its state's)."""
    entries = [[r["jurisdiction"]["name"], r["jurisdiction"]["state"], f"j/{jid}.html", ""] for jid, r in shown.items()]
    def where(jid: str | None, state: str) -> str | None:
        return f"j/{jid}.html" if jid in shown else f"state/{state.lower()}.html" if state in context.states else None
    for a in rows["agreements_287g"]:
        if (href := where(a["jurisdiction_id"], a["state"])):
            entries.append([a["agency"], a["state"], href, "287(g) agency"])
    for f in rows["detention_facilities"]:
        if (href := where(f["jurisdiction_id"], f["state"])):
            entries.append([f["name"].title(), f["state"], href, "detention facility"])
    unique = sorted({tuple(e) for e in entries})
    return json.dumps([list(e) for e in unique], separators=(",", ":")).replace("</", "<\\/")


def _chart(title: str, what: str, points: list[tuple], summary: str, label=str) -> str:
    """A line chart on a time axis as SVG, with its title and description, and the table of its numbers."""
    width, height, pad = 640, 260, 48
    if not points:
        return f"<figure><figcaption>{esc(title)}</figcaption><p>{esc(summary)}</p></figure>"
    top = max(n for _, n in points) or 1
    first, last = points[0][0].toordinal(), points[-1][0].toordinal()
    span = max(last - first, 1)
    xy = [(pad + (day.toordinal() - first) / span * (width - 2 * pad), height - pad - (n / top) * (height - 2 * pad)) for day, n in points]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    key = what.replace(" ", "-")
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#08519c"/>' for x, y in xy)
    svg = (f'<svg viewBox="0 0 {width} {height}" role="img" aria-labelledby="{key}-t" aria-describedby="{key}-d">'
           f'<title id="{key}-t">{esc(title)}</title><desc id="{key}-d">{esc(summary)}</desc>'
           f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#444"/>'
           f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#444"/>'
           f'<text x="{pad - 6}" y="{height - pad + 5}" font-size="16" text-anchor="end">0</text>'
           f'<text x="{pad - 6}" y="{pad + 5}" font-size="16" text-anchor="end">{top}</text>'
           f'<polyline points="{line}" fill="none" stroke="#08519c" stroke-width="2"/>{dots}'
           f'<text x="{pad}" y="{height - pad + 24}" font-size="16">{esc(label(points[0][0]))}</text>'
           f'<text x="{width - pad}" y="{height - pad + 24}" font-size="16" text-anchor="end">{esc(label(points[-1][0]))}</text></svg>')
    table = "".join(f'<tr><td class="day">{esc(label(day))}</td><td>{n}</td></tr>' for day, n in points)
    return (f"<figure>{svg}<figcaption>{esc(title)} (a point per {'year' if what == 'actions' else 'edition'}, on a time axis). "
            f"{esc(summary)}</figcaption>"
            '<details><summary>The numbers behind the chart</summary><div class="scroll"><table><thead><tr><th>Date</th>'
            f"<th>{esc(what.capitalize())}</th></tr>"
            f"</thead><tbody>{table}</tbody></table></div></details></figure>")


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


def _map(root: Path, categories: dict[str, str], shown: dict, context: _Context) -> str:
    from . import reference

    atlas = json.loads((root / ATLAS).read_text("utf-8"))
    arcs = _decoded_arcs(atlas)
    page_of = {r["jurisdiction"]["county_fips"]: jid for jid, r in shown.items()
               if r["jurisdiction"]["county_fips"] and r["jurisdiction"]["kind"] in COUNTY_KINDS}
    usps = {fips: code for code, fips in reference.state_fips_by_usps().items()}
    colour = {key: c for key, _, c in CATEGORIES}
    label = {key: text for key, text, _ in CATEGORIES}
    paths, listed = [], []
    for county in sorted(atlas["objects"]["counties"]["geometries"], key=lambda g: g["id"]):
        fips = county["id"]
        d = _path(county, arcs)
        if not d:
            continue
        state = usps.get(fips[:2], "")
        name = f"{reference.county_names().get(fips, county['properties']['name'])}, {state}"
        kind = categories.get(fips)
        said = label[kind] if kind else "nothing recorded"
        shape = f'<path d="{d}" fill="{colour.get(kind or "", NONE_COLOUR)}"><title>{esc(name)}: {esc(said)}</title></path>'
        href = f"j/{page_of[fips]}.html" if fips in page_of else f"state/{state.lower()}.html" if kind and state in context.states else None
        paths.append(f'<a href="{href}" tabindex="-1">{shape}</a>' if href else shape)
        if kind:
            listed.append((state, name, fips, kind, href))
    borders = "".join(f'<path d="{_path(g, arcs)}"/>' for g in atlas["objects"]["states"]["geometries"])
    legend = "".join(f'<li><span style="background:{c}"></span>{esc(text)}</li>' for _, text, c in CATEGORIES)
    counts = {key: sum(1 for *_, k, _ in listed if k == key) for key, _, _ in CATEGORIES}
    summary = "; ".join(f"{counts[key]} counties with {text}" for key, text, _ in CATEGORIES)
    rows = "".join(f"<tr><td>{esc(state)}</td><td>{_linked(name, href)}</td><td>{fips}</td><td>{esc(label[kind])}</td></tr>"
                   for state, name, fips, kind, href in sorted(listed))
    return (f'<figure><svg viewBox="0 0 975 610" aria-hidden="true" focusable="false">'
            f'<g stroke="#999" stroke-width="0.3">{"".join(paths)}</g><g fill="none" stroke="#333" stroke-width="0.8">{borders}</g></svg>'
            f"<figcaption>US counties, coloured by what the data record for each (a city's 287(g) agreement or facility counts where "
            f"its county is known; state agencies' agreements are not on the map). {esc(summary)}. The table below lists the same "
            f"counties, each with its page.</figcaption><ul class=\"legend\">{legend}</ul>"
            f"<details><summary>The table behind the map ({len(listed)} counties)</summary><div class=\"scroll\"><table><thead><tr>"
            f"<th>State</th><th>County</th><th>FIPS</th><th>What is recorded</th></tr></thead><tbody>{rows}</tbody></table></div></details></figure>")


def _linked(text: str, href: str | None) -> str:
    return f'<a href="{href}">{esc(text)}</a>' if href else esc(text)


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
    return page(f"{state}: jurisdictions", f'<div class="scroll"><table><thead>{header}</thead><tbody>{rows}</tbody></table></div>', 1,
                [(state, f"state/{state.lower()}.html")])


def words(code: str | None) -> str:
    """A vocabulary code as words (`igsa_detention` -> `IGSA detention`)."""
    text = (code or "").replace("_", " ")
    return text.replace("igsa", "IGSA").replace("usms", "USMS").replace("287g", "287(g)").replace("lpr", "license-plate reader")


def when(date: str) -> str:
    """An action's date as the sources support it, in words: `../2018-09-06` is on or before that day."""
    if date.startswith("../"):
        return f"on or before {date[3:]}"
    if "/" in date:
        start, _, end = date.partition("/")
        return f"between {start} and {end}"
    return date


def _jurisdiction(record: dict, context: _Context) -> str:
    j = record["jurisdiction"]
    codes = ", ".join(f"{label} {esc(j[key])}" for key, label in (("county_fips", "county FIPS"), ("place_geoid", "place GEOID")) if j.get(key))
    body = [f'<p class="meta">{esc(words(j["kind"]))}, {esc(j["state"])}{"; " + codes if codes else ""}; id {esc(j["jurisdiction_id"])}; '
            f'<a href="../api/j/{esc(j["jurisdiction_id"])}.json">this record as JSON</a></p>']
    body.append("<h2>Curated actions</h2>")
    if not record["actions"]:
        body.append("<p>No curated action recorded.</p>")
    for action in record["actions"]:
        who = "the public" if action["initiated_by"] == "public" else f"the {esc(words(action['initiated_by']))} level"
        body.append(f'<h3 id="{esc(action["action_id"])}"><span class="day">{esc(when(action["date"]))}</span>: {esc(words(action["action"]))} '
                    f'({esc(words(action["stage"]))}), {esc(words(action["arrangement"]))}</h3><p>{esc(action["summary"])}</p>'
                    f'<p class="meta">By {esc(action["actor_name"])} ({esc(words(action["actor_role"]))}); initiated by {who}. '
                    f'{esc(action["notes"] or "")}</p>')
        for link in action["links"]:
            body.append(f'<p class="meta">{esc(words(link["relation"]))}: {_action_link(link["related_action_id"], j["jurisdiction_id"], context)}</p>')
        body.append("<ul>" + "".join(_citation(c) for c in action["citations"]) + "</ul>")
    if record["agreements_287g"]:
        body.append("<h2>287(g) agreements in ICE's lists</h2><div class=\"scroll\"><table><thead><tr><th>Agency</th><th>Model</th><th>Signed</th>"
                    "<th>Listed</th><th>Status</th><th>Source</th></tr></thead><tbody>")
        body += [f'<tr><td>{esc(a["agency"])}</td><td>{esc(words(a["model"].replace("287g_", "")))}</td><td class="day">{esc(a["signed"])}</td>'
                 f'<td><span class="day">{esc(a["first_listed"])}</span> to <span class="day">{esc(a["last_listed"])}</span> ({a["editions"]} editions)</td>'
                 f'<td>{esc(words(a["status"]))}{" from " + esc(a["not_listed_from"]) if a["not_listed_from"] else ""}</td>'
                 f'<td>{_edition_link(a["last_listed_source_id"], context)}</td></tr>' for a in record["agreements_287g"]]
        body.append("</tbody></table></div>")
    if record["detention_facilities"]:
        body.append("<h2>Facilities in ICE's detention statistics</h2><div class=\"scroll\"><table><thead><tr><th>Facility</th><th>Type</th>"
                    "<th>History</th><th>Status</th><th>Source</th></tr></thead><tbody>")
        body += [f'<tr><td>{esc(f["name"])}, {esc(f["city"])}</td><td>{esc(f["type_detailed"])}</td><td>'
                 + "; ".join(f'{esc(r["type_detailed"])} from <span class="day">{esc(r["from"])}</span>'
                             + (f' until <span class="day">{esc(r["until"])}</span>' if r["until"] else "") for r in f["runs"])
                 + f'</td><td>{esc(words(f["status"]))}</td><td>{_edition_link(f["last_listed_source_id"], context)}</td></tr>'
                 for f in record["detention_facilities"]]
        body.append("</tbody></table></div>")
    if record["detention_consistency"]:
        body.append("<h2>Where the curated actions and ICE's lists disagree</h2><ul>"
                    + "".join(f'<li>{esc(r["action_says"])}; ICE: {esc(r["ice_says"])}</li>' for r in record["detention_consistency"]) + "</ul>")
    state = j["state"]
    return page(j["name"] + f", {state}", "".join(body), 1, [(state, f"state/{state.lower()}.html")])


def _action_link(action_id: str, here: str, context: _Context) -> str:
    """A link to another action, on this page or its own jurisdiction's, named by its date and what it was."""
    action = context.action_at.get(action_id)
    if action is None:
        return esc(action_id)
    text = f"{when(action['date'])}: {words(action['action'])} ({words(action['stage'])}), {words(action['arrangement'])}"
    page_of = action["jurisdiction_id"]
    if page_of == here:
        return f'<a href="#{esc(action_id)}">{esc(text)}</a>'
    name = context.shown[page_of]["jurisdiction"]["name"] if page_of in context.shown else page_of
    return f'<a href="{esc(page_of)}.html#{esc(action_id)}">{esc(name)}, {esc(text)}</a>'


def _edition_link(source_id: str | None, context: _Context) -> str:
    edition = context.editions.get(source_id or "")
    if edition is None:
        return ""
    day = edition.get("data_date") or edition.get("published")
    return f'<a class="source" href="{esc(edition["url"])}">ICE, edition of {esc(day)}</a> (<a href="../data/sources.csv">sources</a>)'


def _citation(citation: dict) -> str:
    from urllib.parse import urlsplit

    source = citation["source"] or {}
    locator = citation["locator"] or ""
    where, _, fragment = locator.partition("#:~:text=")
    where = where.strip().rstrip(";").strip()
    url = source.get("url") or ""
    href = url + ("#:~:text=" + quote(fragment, safe="%-,") if fragment and "#" not in url else "")
    title = f" “{esc(source.get('title'))}”" if source.get("title") else ""
    host = urlsplit(url).hostname or ""
    place = f' <span class="meta">({esc(where)})</span>' if where else ""
    return (f'<li class="claim">{esc(citation["claim"])}{place}<br>'
            f'<a class="source" href="{esc(href)}">{esc(source.get("publisher"))}{title}</a>'
            f'<span class="meta">, {esc(source.get("published") or "undated")}; {esc(words(source.get("kind")))}, at {esc(host)}</span></li>')
