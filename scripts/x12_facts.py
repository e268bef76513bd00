#!/usr/bin/env python3
"""Derive X12 facts from the x12-types crate's set and segment definitions.

Source: the `x12-types` crate (https://github.com/apimeister/x12-types, crates.io), licensed
MIT OR Apache-2.0. Only facts are taken (which segment comes where in a set, its requirement and
whether it repeats, the loops; per segment the number of elements, each element's requirement,
and, where the crate documents it, the element's reference number, name, type and min/max
length). No code is copied.

Usage:
    scripts/x12_facts.py CRATE_DIR [OUT]      write the facts file (default grammars/x12/facts/x12-types.json)
    scripts/x12_facts.py CRATE_DIR --check    exit 1 when the committed facts file differs
    scripts/x12_facts.py --names [--check]    name every element of the grammars (see NAMES below);
                                              --check: exit 1 when a grammar file would change
    scripts/x12_facts.py --sets               from the committed facts file, rewrite the structure of
                                              the sets 309, 810, 850, 856 (005010 facts) and
                                              grammars/x12/open-segments.toml (every segment the set
                                              structures name that no dictionary describes)

CRATE_DIR is an unpacked x12-types source tree, e.g. after `cargo fetch` of a project that
depends on it: ~/.cargo/registry/src/*/x12-types-0.12.0. tests/x12_standard.rs compares the
committed grammars with the committed facts file (no network, no crate needed).
"""

import json
import os
import re
import sys

# The sets entrywatch reads, per version, as far as the crate defines them.
SETS = ["309", "350", "353", "355", "810", "850", "856", "997", "999"]
VERSIONS = ["004010", "005010"]

STRUCT = re.compile(r"pub struct (\w+) \{(.*?)\n\}", re.S)
FIELD = re.compile(r"^\s*(?:#\[x12\(loop_trigger = \"(\w+)\"\)\]\s*)?pub (?:r#)?(\w+): (.+?),\s*$", re.M)


def struct_fields(text):
    """struct name -> [(field type text)] in declaration order."""
    out = {}
    for m in STRUCT.finditer(text):
        body = m.group(2)
        fields = []
        for line in body.split("\n"):
            line = line.strip()
            if not line.startswith("pub "):
                continue
            ty = line.split(":", 1)[1].strip().rstrip(",").strip()
            fields.append(ty)
        out[m.group(1)] = fields
    return out


def node(ty, structs, version, depth=0):
    """A set or loop field's type -> a node {seg|loop, req, repeat}."""
    if ty.startswith("Vec<"):
        inner, req, rep = ty[4:-1], "O", ">1"
    elif ty.startswith("Option<"):
        inner, req, rep = ty[7:-1], "O", "1"
    else:
        inner, req, rep = ty, "M", "1"
    inner = inner.split("::")[-1]
    if inner.startswith("_") and inner in structs:
        if depth > 8:
            raise SystemExit(f"loop nesting too deep at {inner}")
        body = [node(t, structs, version, depth + 1) for t in structs[inner]]
        return {"loop": body[0]["seg"], "req": req, "repeat": rep, "body": body}
    return {"seg": inner, "req": req, "repeat": rep}


TABLE_ROW = re.compile(r"^/// (\d\d) \| (\w+) \| (.*?) \| (\d+|>1) \| ([MOXZ/]+) \| (\w+) \| (\d+)/(\d+)\s*$")


def segment_defs(seg_dir):
    """segment id -> {name, elements:[{pos, req, ref?, name?, type?, min?, max?}]}."""
    out = {}
    for fn in sorted(os.listdir(seg_dir)):
        if not fn.endswith(".rs"):
            continue
        text = open(os.path.join(seg_dir, fn), encoding="utf-8").read()
        for m in re.finditer(r"((?:^///[^\n]*\n)*)(?:#\[derive\([^\]]*\)\]\s*)+pub struct ([A-Z][A-Z0-9]{1,2}) \{(.*?)\n\}", text, re.S | re.M):
            doc, sid, body = m.group(1), m.group(2), m.group(3)
            fields = [ln.split(":", 1)[1].strip().rstrip(",") for ln in body.split("\n") if ln.strip().startswith("pub _")]
            rows = {}
            title = ""
            for ln in doc.split("\n"):
                t = re.match(r"^/// ([A-Z][A-Z0-9]{1,2}) - (.+)$", ln)
                if t and t.group(1) == sid:
                    title = t.group(2).strip()
                r = TABLE_ROW.match(ln)
                if r:
                    rows[int(r.group(1))] = r
            els = []
            for i, ty in enumerate(fields, 1):
                e = {"pos": i, "req": "O" if ty.startswith("Option<") else "M"}
                r = rows.get(i)
                if r:
                    e.update({"ref": r.group(2), "name": r.group(3), "table_req": r.group(5), "type": r.group(6),
                              "min": int(r.group(7)), "max": int(r.group(8))})
                els.append(e)
            out[sid] = {"name": title, "documented": bool(rows), "elements": els}
    return out


ELEMENT_DOC = re.compile(r"/// \*\*(\w+)\*\* (.+?)\n.*?/// - Type: [^(\n]*\((\w+)\)\n\s*/// - Length: min (\d+), max (\d+)", re.S)


def element_dictionary(el_dir):
    """The crate's own element dictionary: ref -> (name, type, min, max)."""
    out = {}
    if not os.path.isdir(el_dir):
        return out
    for fn in sorted(os.listdir(el_dir)):
        if fn.endswith(".rs"):
            for m in ELEMENT_DOC.finditer(open(os.path.join(el_dir, fn), encoding="utf-8").read()):
                out[m.group(1)] = (m.group(2).strip(), m.group(3), int(m.group(4)), int(m.group(5)))
    return out


def verify(seg, elements, usage):
    """A segment's element table is taken as fact only when it agrees with the rest of the crate:
    every element reference in it is used with one name, type and length across all the version's
    segment tables (`usage`), every row whose element the crate's element dictionary has matches
    its name, type and lengths, and at least one row is checkable there. (Several tables are
    machine-shifted, e.g. BSN01 typed as Shipment Identification, every CTP element as 100; those
    fail here and are not used.)"""
    rows = [e for e in seg["elements"] if "ref" in e]
    checked = 0
    for e in rows:
        if len(usage.get(e["ref"], ())) > 1:
            return False
        d = elements.get(e["ref"])
        if d is None:
            continue
        checked += 1
        t = "N0" if e["type"] == "N" else e["type"]
        if (e["name"].lower(), t, e["min"], e["max"]) != (d[0].lower(), d[1], d[2], d[3]):
            return False
    return checked > 0


def collect_segs(nodes, acc):
    for n in nodes:
        if "loop" in n:
            collect_segs(n["body"], acc)
        else:
            acc.add(n["seg"])


def derive(crate):
    cargo = open(os.path.join(crate, "Cargo.toml"), encoding="utf-8").read()
    ver = re.search(r'^version = "([^"]+)"', cargo, re.M).group(1)
    lic = re.search(r'^license = "([^"]+)"', cargo, re.M).group(1)
    facts = {
        "source": f"x12-types {ver} (https://github.com/apimeister/x12-types, crates.io)",
        "licence": f"{lic}; facts only (segment order, requirement, repeat, loops; element count, "
                   "requirement, reference, name, type and length where the crate documents them)",
        "derived-by": "scripts/x12_facts.py",
        "sets": {},
        "segments": {},
        "elements": {},
    }
    for v in VERSIONS:
        vdir = os.path.join(crate, "src", "v" + v)
        if not os.path.isdir(vdir):
            continue
        sets = {}
        used = set()
        for s in SETS:
            p = os.path.join(vdir, f"_{s}_doc.rs")
            if not os.path.exists(p):
                continue
            structs = struct_fields(open(p, encoding="utf-8").read())
            top = structs.get(f"_{s}")
            if not top:
                continue
            nodes = [node(t, structs, v) for t in top]
            sets[s] = nodes
            collect_segs(nodes, used)
        segs = segment_defs(os.path.join(vdir, "segment"))
        elements = element_dictionary(os.path.join(vdir, "element"))
        usage = {}
        for seg in segs.values():
            for e in seg["elements"]:
                if "ref" in e:
                    usage.setdefault(e["ref"], set()).add((e["name"].lower(), e["type"], e["min"], e["max"]))
        for seg in segs.values():
            seg["verified"] = seg["documented"] and verify(seg, elements, usage)
        facts["sets"][v] = sets
        facts["segments"][v] = {k: segs[k] for k in sorted(used) if k in segs and k not in ("ST", "SE")}
        facts.setdefault("elements", {})[v] = {
            k: {"name": d[0], "type": "N0" if d[1] == "N" else d[1], "min": d[2], "max": d[3]}
            for k, d in sorted(elements.items(), key=lambda kv: (len(kv[0]), kv[0]))
        }
    return facts


# Sets whose structure is derived from the facts (350, 353, 355 and the acks are checked only).
DERIVED = ["309", "810", "850", "856"]
DERIVE_FROM = "005010"


def structure_text(nodes, ind=""):
    out = []
    for n in nodes:
        mn = 1 if n["req"] == "M" else 0
        mx = ">1" if n["repeat"] == ">1" else "1"
        if "loop" in n:
            out.append(f"{ind}LOOP {n['loop']} {mn} {mx} {{")
            out.extend(structure_text(n["body"], ind + "  "))
            out.append(f"{ind}}}")
        else:
            out.append(f"{ind}{n['seg']} {mn} {mx}")
    return out


# Optional segments an earlier version has where the 005010 facts do not, added after the named
# segment inside the named loop so that neither version is falsely rejected:
# (set, loop trigger, after segment, added line, why).
ADDITIONS = [
    ("850", "N9", "MTX", "MSG 0 >1", "004010 carries free-form text in MSG; 005010 replaced it by MTX"),
]


def add_older(s, lines):
    out = []
    loops = []
    for ln in lines:
        out.append(ln)
        w = ln.split()
        if w and w[0] == "LOOP":
            loops.append(w[1])
        elif w and w[0] == "}":
            loops.pop()
        elif w and loops:
            for (st, trig, after, add, _why) in ADDITIONS:
                if st == s and loops[-1] == trig and w[0] == after:
                    out.append(ln[: len(ln) - len(ln.lstrip())] + add)
    return out


def write_sets(repo):
    import tomllib
    facts = json.load(open(os.path.join(repo, "grammars", "x12", "facts", "x12-types.json"), encoding="utf-8"))
    src = facts["source"]
    for s in DERIVED:
        path = os.path.join(repo, "grammars", "x12", "sets", f"{s}.toml")
        old = tomllib.load(open(path, "rb"))
        nodes = facts["sets"][DERIVE_FROM][s]
        lines = [
            f"# Generated by scripts/x12_facts.py --sets from {src}:",
            f"# {facts['licence']}.",
            f"# The {DERIVE_FROM} structure: segment order, requirement (1 = mandatory) and repeat",
            "# (1, or >1: the source gives no maximum, so none is enforced). Do not edit by hand:",
            "# tests/x12_standard.rs checks this file against grammars/x12/facts/x12-types.json.",
            'kind = "set"',
            f'set = "{s}"',
            f'name = {json.dumps(old.get("name", ""))}',
        ]
        if old.get("notes"):
            lines.append(f'notes = {json.dumps(old["notes"])}')
        if old.get("authority"):
            lines.append(f'authority = {json.dumps(old["authority"])}')
        lines.append("functional-ids = [" + ", ".join(json.dumps(f) for f in old["functional-ids"]) + "]")
        lines.append('structure = """')
        for (st, trig, after, add, why) in ADDITIONS:
            if st == s:
                lines.insert(-1, f"# Added: {add.split()[0]} after {after} in every {trig} loop ({why}).")
        lines.extend(add_older(s, structure_text(nodes)))
        lines.append('"""')
        open(path, "w", encoding="utf-8").write("\n".join(lines) + "\n")
        print("wrote " + path)
    # Segments the set structures name that no dictionary describes: open (id and place only).
    known = set()
    # The open dictionary is the base of 004010 (and through it of 005010): a segment only 005010
    # describes stays open for 004010.
    for d in ("004010",):
        known |= set(tomllib.load(open(os.path.join(repo, "grammars", "x12", d, "segments.toml"), "rb"))["segments"])
    known |= set(tomllib.load(open(os.path.join(repo, "grammars", "x12", "envelope.toml"), "rb"))["segments"])
    named = set()
    for fn in sorted(os.listdir(os.path.join(repo, "grammars", "x12", "sets"))):
        t = tomllib.load(open(os.path.join(repo, "grammars", "x12", "sets", fn), "rb"))
        for ln in t.get("structure", "").split("\n"):
            w = ln.split()
            if w and w[0] not in ("LOOP", "}"):
                named.add(w[0])
    open_ids = sorted(named - known)
    lines = [
        "# Generated by scripts/x12_facts.py --sets: standard segments the set structures name (from",
        f"# {src}) whose elements no source at hand describes reliably (the crate's element tables",
        "# disagree with its own segment definitions, see docs/x12.md). `[\"*\"]`: the segment's id and",
        "# place in the set are checked, its elements are not. A segment given elements in a version",
        "# dictionary (004010/segments.toml, 005010/segments.toml) replaces its entry here.",
        'kind = "dictionary"',
        'version = "open"',
        "",
        "[segments]",
    ]
    lines.extend(f'{i} = ["*"]' for i in open_ids)
    path = os.path.join(repo, "grammars", "x12", "open-segments.toml")
    open(path, "w", encoding="utf-8").write("\n".join(lines) + "\n")
    print("wrote " + path)


# --- Element names -------------------------------------------------------------------------------
# Every element of every segment definition carries a name (`name=purchase_order_number`), taken by
# its data element reference number from, in this order:
#   1. the crate's element dictionary (grammars/x12/facts: "elements", 005010 then 004010), except
#      the references the crate gets wrong against the standard (CRATE_WRONG, see tests/x12_standard.rs);
#   2. the crate's segment tables, when at least two rows and three quarters of the rows that use
#      the reference give it one name;
#   3. SECONDARY below: X12 data element dictionary names the crate does not have (secondary: written
#      from the published element names, not from a machine-readable source);
#   4. otherwise `ref_<number>` (no source at hand names the element).
# A segment whose elements already carry names chosen for the interpreter (the CBP 350's P4, X4,
# K1: position-specific names from the crate's verified tables, e.g. `port_of_unlading`) is kept.
# The result is grammars/x12/facts/element-names.json, which tests/x12_standard.rs checks the
# grammars against.
CRATE_WRONG = {"2", "76", "100", "280", "387", "723"}
SECONDARY = {
    "2": "Number of Accepted Transaction Sets", "19": "City Name", "54": "Risk of Loss Code",
    "55": "Flight/Voyage Number", "76": "Invoice Number", "79": "Lading Description", "100": "Currency Code",
    "103": "Packaging Code", "113": "Pier Number", "114": "Port Name", "124": "Application Receiver's Code",
    "142": "Application Sender's Code", "174": "Terminal Name", "280": "Exchange Rate", "301": "Car Type Code",
    "304": "Event Code", "319": "Temperature Control", "324": "Purchase Order Number",
    "325": "Tax Identification Number", "329": "Transaction Set Control Number",
    "334": "Transportation Terms Qualifier Code", "387": "Routing", "388": "Terms Deferred Due Date",
    "389": "Deferred Amount Due", "396": "Shipment Identification", "400": "Unit Load Option Code",
    "443": "Contact Inquiry Reference", "480": "Version / Release / Industry Identifier Code",
    "587": "Acknowledgment Type", "597": "Vessel Code",
    "618": "Implementation Transaction Set Syntax Error Code", "620": "Implementation Segment Syntax Error Code",
    "621": "Implementation Data Element Syntax Error Code", "628": "Hierarchical ID Number",
    "669": "Currency Market/Exchange Code", "723": "Data Element Reference Number",
    "728": "Returnable Container Load Make-Up Code", "731": "Transit Direction Code",
    "732": "Transit Time Direction Qualifier", "733": "Transit Time", "734": "Hierarchical Parent ID Number",
    "751": "Product Description Code", "753": "Packaging Characteristic Code", "754": "Packaging Description Code",
    "765": "Day of Month", "770": "Option Number", "784": "Length of Binary Data", "785": "Binary Data",
    "819": "Language Code", "822": "Source Subqualifier", "828": "Dollar Basis For Percent",
    "933": "Free-Form Message Text", "934": "Printer Carriage Control Code", "1019": "Invoice Type Code",
    "1166": "Contract Type Code", "1232": "Purchase Category", "1251": "Date Time Period",
    "1301": "Agency Service, Promotion, Allowance, or Charge Code", "1705": "Implementation Convention Reference",
    "I02": "Authorization Information", "I04": "Security Information", "I06": "Interchange Sender ID",
    "I07": "Interchange Receiver ID", "I15": "Component Element Separator",
    "I17": "Interchange Acknowledgment Code", "I18": "Interchange Note Code", "I33": "Grade of Service Code",
    "I65": "Repetition Separator", "C001": "Composite Unit of Measure", "C002": "Actions Indicated",
    "C030": "Position in Segment", "C040": "Reference Identifier", "C998": "Context Identification",
    "C999": "Reference in Segment",
}


def snake(name):
    s = re.sub(r"[^a-z0-9]+", "_", name.lower().replace("'", "")).strip("_")
    return s


def element_name(facts, ref):
    """(name, source) for a data element reference number."""
    if ref not in CRATE_WRONG:
        for v in ("005010", "004010"):
            d = facts["elements"].get(v, {}).get(ref)
            if d:
                return d["name"], "x12-types element dictionary"
        from collections import Counter
        c = Counter()
        for v in facts["segments"]:
            for seg in facts["segments"][v].values():
                for e in seg["elements"]:
                    if e.get("ref") == ref and not e["name"].endswith(" NEW"):
                        c[e["name"]] += 1
        if c:
            (n, k), = c.most_common(1)
            if k >= 2 and k * 4 >= sum(c.values()) * 3:
                return n, "x12-types segment tables"
    if ref in SECONDARY:
        return SECONDARY[ref], "secondary"
    return None, "none"


GRAMMAR_FILES = ["envelope.toml", "004010/segments.toml", "005010/segments.toml"]
SEG_START = re.compile(r"^([A-Z][A-Z0-9]{1,2}) = \[")
ELEMENT = re.compile(r'"([MOX] [^"\s]+ [^"\s]+ [^"\s]+ ([^"\s]+)(?: [^"]*)?)"')


def name_files(repo, check):
    facts = json.load(open(os.path.join(repo, "grammars", "x12", "facts", "x12-types.json"), encoding="utf-8"))
    paths = GRAMMAR_FILES + ["sets/" + f for f in sorted(os.listdir(os.path.join(repo, "grammars", "x12", "sets")))]
    names = {}
    changed = []
    for rel in paths:
        path = os.path.join(repo, "grammars", "x12", rel)
        text = open(path, encoding="utf-8").read()
        out = []
        seg, used, keep = None, {}, False
        for line in text.split("\n"):
            m = SEG_START.match(line)
            if m:
                seg, used = m.group(1), {}
                keep = "name=" in line or (not line.rstrip().endswith("]") and _array_has_names(text, line))
            if seg is not None:
                def repl(em):
                    spec, ref = em.group(1), em.group(2)
                    if keep or "name=" in spec:
                        return em.group(0)
                    n, src = element_name(facts, ref)
                    names[ref] = {"name": n, "source": src}
                    base = snake(n) if n else f"ref_{snake(ref)}"
                    used[base] = used.get(base, 0) + 1
                    nm = base if used[base] == 1 else f"{base}_{used[base]}"
                    return f'"{spec} name={nm}"'
                line = ELEMENT.sub(repl, line)
                if line.rstrip().endswith("]"):
                    seg = None
            out.append(line)
        new = "\n".join(out)
        if new != text:
            changed.append(path)
            if not check:
                open(path, "w", encoding="utf-8").write(new)
    doc = {
        "derived-by": "scripts/x12_facts.py --names",
        "rule": "name = the element's name by reference number: x12-types element dictionary, else its segment "
                "tables (one name in >= 3/4 of the rows), else secondary (X12 element dictionary names the crate "
                "lacks), else ref_<number>; snake_case, a repeat within a segment gets _2, _3 ...",
        "names": {k: names[k] for k in sorted(names, key=lambda r: (len(r), r))},
    }
    target = os.path.join(repo, "grammars", "x12", "facts", "element-names.json")
    text = dump(doc) + "\n"
    if check:
        old = open(target, encoding="utf-8").read() if os.path.exists(target) else ""
        if changed or (old != text and names):
            print("differs: " + ", ".join(changed or [target]))
            sys.exit(1)
        print("up to date")
        return
    if names:
        open(target, "w", encoding="utf-8").write(text)
    for p in changed:
        print("named " + p)


def _array_has_names(text, first_line):
    """Whether the multi-line array starting at `first_line` already carries names."""
    at = text.index(first_line)
    end = text.index("]", at)
    return "name=" in text[at:end]


def dump(o, depth=0):
    """JSON, one line per set node, segment or element: small and diffable."""
    if depth >= 3 or not isinstance(o, (dict, list)) or not o:
        return json.dumps(o, separators=(",", ":"))
    pad = " " * (depth + 1)
    if isinstance(o, dict):
        items = [f"{pad}{json.dumps(k)}: {dump(v, depth + 1)}" for k, v in o.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    items = [f"{pad}{dump(v, depth + 1)}" for v in o]
    return "[\n" + ",\n".join(items) + "\n" + " " * depth + "]"


def main():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if sys.argv[1:] == ["--sets"]:
        write_sets(repo)
        return
    if sys.argv[1:2] == ["--names"]:
        name_files(repo, "--check" in sys.argv[2:])
        return
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    crate = sys.argv[1]
    out = os.path.join(repo, "grammars", "x12", "facts", "x12-types.json")
    check = "--check" in sys.argv[2:]
    rest = [a for a in sys.argv[2:] if a != "--check"]
    if rest:
        out = rest[0]
    text = dump(derive(crate)) + "\n"
    if check:
        same = os.path.exists(out) and open(out, encoding="utf-8").read() == text
        print(("up to date: " if same else "differs: ") + out)
        sys.exit(0 if same else 1)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    open(out, "w", encoding="utf-8").write(text)
    print("wrote " + out)


if __name__ == "__main__":
    main()
