"""What the chat can answer from, as the page says it: a line for the Ask tab (how many
documents and abstracts, which years, which era of NHS commissioning), the Documents tab's
table (each file, and each abstract of a result listing on a row of its own) and the index
status. HTML and Markdown made from the Service's documents; no Gradio here.

The eras are what a commissioner needs to place a document: the bodies that commissioned
NHS care, by the years they did it. A document names a body by its name or its acronym.

    >>> c = coverage([{"doc_id": "a", "year": 2006, "kind": "report"},
    ...               {"doc_id": "l/pmid-1", "year": 2019, "kind": "abstract", "record": "1", "pmid": "1"}],
    ...              {"a": "PCTs commission care.", "l/pmid-1": "CCGs took over."})
    >>> coverage_text(c)
    '1 document and 1 PubMed abstract, 2006–2019, from the PCT/CCG era (primary care trusts are named in 1, \
clinical commissioning groups in 1); none names integrated care boards, the commissioners since July 2022, \
so nothing here is current policy.'
"""
from __future__ import annotations

import re
import time
from urllib.parse import quote

from .view import e, shorten

# (name, acronym, the year its bodies began commissioning, its pattern): the eras in order
ERAS = [("primary care trusts", "PCT", 2002, r"\bPCTs?\b|\bprimary care trusts?\b"),
        ("clinical commissioning groups", "CCG", 2013, r"\bCCGs?\b|\bclinical commissioning groups?\b"),
        ("integrated care boards", "ICB", 2022, r"\bICBs?\b|\bintegrated care boards?\b")]
CURRENT_SINCE = "July 2022"  # when integrated care boards took over from CCGs, the latest era


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def is_record(d: dict) -> bool:
    """A record of a result listing (one file of many abstracts), not a document of its own."""
    return d.get("record") is not None


def coverage(documents: list[dict], texts: dict) -> dict:
    """Counts of documents and abstracts, their years and, per era, how many documents name
    its bodies. documents: Service.documents(); texts: {doc_id: text}."""
    records = [d for d in documents if is_record(d)]
    years = sorted(d["year"] for d in documents if d.get("year"))
    eras = []
    for name, acronym, since, pattern in ERAS:
        short = re.compile(pattern.split("|", 1)[0])  # the acronym in capitals, the name in any case
        long = re.compile(pattern.split("|", 1)[1], re.I)
        named = sum(1 for d in documents if short.search(texts.get(d["doc_id"], ""))
                    or long.search(texts.get(d["doc_id"], "")))
        eras.append({"name": name, "acronym": acronym, "since": since, "documents": named})
    return {"documents": len(documents) - len(records), "abstracts": len(records),
            "pubmed": bool(records) and all(d.get("pmid") for d in records),
            "years": (years[0], years[-1]) if years else None,
            "undated": sum(1 for d in documents if not d.get("year")), "eras": eras}


def coverage_text(c: dict) -> str:
    """The Ask tab's line: what the answers can come from, in words."""
    parts = []
    if c["documents"] or not c["abstracts"]:
        parts.append(plural(c["documents"], "document"))
    if c["abstracts"]:
        parts.append(plural(c["abstracts"], "PubMed abstract" if c["pubmed"] else "abstract"))
    line = " and ".join(parts)
    if c["years"]:
        y0, y1 = c["years"]
        line += f", {y0}" if y0 == y1 else f", {y0}–{y1}"
        if c["undated"]:
            line += f" ({c['undated']} undated)"
    named = [era for era in c["eras"][:-1] if era["documents"]]
    current = c["eras"][-1]
    if named:
        counts = ", ".join(f"{era['name']} {'are named in' if i == 0 else 'in'} {era['documents']}"
                           for i, era in enumerate(named))
        line += f", from the {'/'.join(era['acronym'] for era in named)} era ({counts})"
        if not current["documents"]:
            line += (f"; none names {current['name']}, the commissioners since {CURRENT_SINCE}, so nothing here is "
                     "current policy")
    if current["documents"]:
        line += (f"; {current['documents']} name{'s' if current['documents'] == 1 else ''} {current['name']}, the "
                 f"commissioners since {CURRENT_SINCE}")
    return line + "."


# ---------------------------------------------------------------- the Documents tab

def years_of(docs: list[dict]) -> str:
    years = sorted({d["year"] for d in docs if d.get("year")})
    return "—" if not years else (str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}")


def document_row(d: dict, title: str) -> str:
    year = str(d["year"]) if d.get("year") else "—"
    if d.get("updated"):
        year += f" (updated {d['updated']})"
    kind = (d.get("kind") or "document").capitalize()
    return (f"<tr><td>{e(title)}<br><small>{e(d['source'])}</small></td><td>{e(year)}</td><td>{e(kind)}</td>"
            f"<td class='rc-wide'>{e(d.get('pages') or '—')}</td><td class='rc-wide'>{e(d.get('added') or '—')}</td>"
            "</tr>")


def record_row(d: dict, title: str) -> str:
    """An abstract of a listing: its title, journal and record links."""
    links = []
    if d.get("pmid"):
        links.append(f"<a href='https://pubmed.ncbi.nlm.nih.gov/{quote(str(d['pmid']))}/' target='_blank' "
                     f"rel='noopener noreferrer'>PMID {e(d['pmid'])}</a>")
    if d.get("doi"):
        links.append(f"<a href='https://doi.org/{quote(d['doi'], safe='/:;()')}' target='_blank' "
                     f"rel='noopener noreferrer'>doi:{e(d['doi'])}</a>")
    detail = " · ".join([e(d["journal"])] * bool(d.get("journal")) + links)
    return (f"<tr class='rc-record'><td>{e(shorten(title, 160))}" + (f"<br><small>{detail}</small>" if detail else "")
            + f"</td><td>{e(d.get('year') or '—')}</td><td>Abstract</td><td class='rc-wide'>—</td>"
            f"<td class='rc-wide'>{e(d.get('added') or '—')}</td></tr>")


def documents_html(service) -> str:
    """The indexed documents: one row per file, and a result listing's abstracts each on a row
    of its own under a heading for their file (removed together, as the file)."""
    files: dict[str, list] = {}
    for d in service.documents():
        files.setdefault(d["source"], []).append(d)
    titles = service.titles(d["doc_id"] for docs in files.values() for d in docs)
    single, listings = [], []
    for source, docs in sorted(files.items()):
        if len(docs) == 1 and not is_record(docs[0]):
            single.append(document_row(docs[0], titles.get(docs[0]["doc_id"], docs[0]["title"])))
            continue
        docs = sorted(docs, key=lambda d: (int(d["record"]) if str(d.get("record") or "").isdigit() else 10**9,
                                           d["doc_id"]))
        what = "PubMed abstract" if all(d.get("pmid") for d in docs) else "record"
        listings.append(
            f"<tbody class='rc-listing'><tr><th scope='rowgroup' colspan='5'>{e(plural(len(docs), what))}, "
            f"{e(years_of(docs))}, from {e(source)} <small>(one file: removing it removes them all)</small></th></tr>"
            + "".join(record_row(d, titles.get(d["doc_id"], d["title"])) for d in docs) + "</tbody>")
    return ("<table class='rc-docs'><caption class='rc-sr'>Indexed documents</caption><thead><tr><th scope='col'>"
            "Document</th><th scope='col'>Year</th><th scope='col'>Kind</th><th scope='col' class='rc-wide'>Pages</th>"
            "<th scope='col' class='rc-wide'>Added</th></tr></thead><tbody>" + "".join(single) + "</tbody>"
            + "".join(listings) + "</table>")


def status_text(service) -> str:
    """The index and the latest update, in Markdown."""
    s = service.status()
    line = (f"**Index:** {s['documents']} documents from {s['files'] or '?'} files, {s['chunks']} passages; "
            f"built {s['built_at'] or 'unknown'} (generation {s['generation']}).")
    if s.get("reload_error"):
        line += "\n\n**A newer index on disk could not be loaded**, so this one is still served; see the server log."
    job = s["job"]
    if job:
        files = ", ".join(job["files"])
        if job["state"] == "running":
            took = time.time() - job["started"]
            line += f"\n\n**Updating ({job['action']} {files}):** {job['message']}… ({took:.0f} s)"
        elif job["state"] == "done":
            line += f"\n\n**Last update ({job['action']} {files}):** {job['message']}. The chat now uses it."
        else:
            line += f"\n\n**Last update failed ({job['action']} {files}):** {job['message']}"
    if s["stale"]:
        line += f"\n\nChanged on disk since the build: {', '.join(s['stale'])}."
    return line
