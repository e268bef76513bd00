#!/usr/bin/env python3
"""Draft ABI record layouts from a CATAIR chapter's text (reference/catair/*.txt).

Finds every record layout table ("<ID>-Record  Length/ ... Class  Position  Desig") and reads
its rows (data element, length+class, start-end, designation), with the page each row is on.
Prints, per record: the fields as grammar TOML, whether they tile columns 1-80, and the pages.
It is a reading aid for writing grammars/abi/*.toml by hand (every field is checked against the
page before it goes in a grammar); tests/catair_ae.rs uses its tiling check on chapter 02.

Usage: scripts/catair_layouts.py [--json] CHAPTER.txt [RECORD_ID ...]   (Python 3 stdlib only)
  --json  print {record id: [[start, length, class, designation, page], ...]} instead
"""
import re
import sys

HEAD = re.compile(r"^\s*(?:([A-Z0-9]{2,4})[ -]Record\s+Length/|Record Identifier ([A-Z0-9]{2,4}) \(Input\)\s*$)")
ROW = re.compile(
    r"^\s*(?P<name>\S.*?)?\s+(?P<len>\d+)\s*(?P<cls>\(S\)N|AN|A|N|X|S|D)\b(?:\s+or\s*\d*\s*\w+)?\s+"
    r"(?P<a>\d+)(?:\s*-\s*(?P<b>\d+))?(?:\s+(?P<desig>[MCO])\b|\s*$|\s{2,})"
)
PAGE = re.compile(r"^=== PAGE (\d+) ===")


def snake(words):
    s = re.sub(r"[^A-Za-z0-9]+", "_", " ".join(words)).strip("_").lower()
    s = re.sub(r"_+", "_", s)
    return s or "field"


def layouts(path):
    page = 0
    cur = None
    out = {}
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        m = PAGE.match(line)
        if m:
            page = int(m.group(1))
            continue
        h = HEAD.match(line)
        if h:
            cur = h.group(1) or h.group(2)
            rec = out.setdefault(cur, {"rows": {}, "pages": set()})
            rec["pages"].add(page)
            continue
        if cur is None:
            continue
        r = ROW.match(line)
        if r:
            name = [r.group("name") or ""]
            # Continuation lines: text in the name column (before col 28) with nothing at the row's class column.
            for nxt in lines[i + 1 : i + 4]:
                col = nxt[:26].strip()
                if not col or ROW.match(nxt) or HEAD.match(nxt) or PAGE.match(nxt):
                    break
                if len(nxt) > 28 and nxt[28:40].strip() and not nxt[:28].strip():
                    break
                name.append(col)
            a = int(r.group("a"))
            b = int(r.group("b") or a)
            rows = out[cur]["rows"]
            rows.setdefault(a, (a, b, int(r.group("len")), r.group("cls"), r.group("desig"), snake(name), page))
            out[cur]["pages"].add(page)
    return out


def tiles(rows):
    col = 1
    for a in sorted(rows):
        s, e = rows[a][0], rows[a][1]
        if s != col:
            return False
        col = e + 1
    return col == 81


def toml_fields(rows):
    lines = []
    for a in sorted(rows):
        s, e, n, cls, desig, name, page = rows[a]
        cls = {"(S)N": "SN"}.get(cls, cls)
        if cls == "N" and n == 6 and "date" in name:
            cls = "D"
        if cls == "S":
            name = "filler"
        extra = ', mandatory = true' if desig == "M" and cls not in ("S",) else ""
        lines.append('  { name = "%s", start = %d, length = %d, class = "%s"%s },' % (name, s, e - s + 1, cls, extra))
    return lines


def main():
    args = sys.argv[1:]
    as_json = "--json" in args
    args = [a for a in args if a != "--json"]
    if not args:
        print(__doc__)
        return 2
    got = layouts(args[0])
    want = args[1:] or sorted(got)
    if as_json:
        import json

        out = {}
        for rid in want:
            rows = got.get(rid, {"rows": {}})["rows"]
            out[rid] = [[r[0], r[1] - r[0] + 1, r[3], r[4], r[6]] for r in (rows[a] for a in sorted(rows))]
        print(json.dumps(out, sort_keys=True))
        return 0
    for rid in want:
        rec = got.get(rid)
        if not rec:
            print("# %s: no layout table found" % rid)
            continue
        pages = ", ".join(str(p) for p in sorted(rec["pages"]))
        print("# %s: pages %s; tiles 1-80: %s" % (rid, pages, tiles(rec["rows"])))
        print("\n".join(toml_fields(rec["rows"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
