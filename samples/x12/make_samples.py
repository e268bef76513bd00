#!/usr/bin/env python3
"""Writes the synthetic X12 samples in this folder (every file here is made up by this script).

Run from the repository root: python3 samples/x12/make_samples.py
"""
import os
import re

OUT = os.path.dirname(os.path.abspath(__file__))


def isa(ctl, version="00501", rep="^", comp=":", elem="*", sender="ENTRYWATCHTEST", receiver="CBPTEST", short=False):
    a2 = " " * (9 if short else 10)
    f = ["ISA", "00", a2, "00", " " * 10, "ZZ", sender.ljust(15), "ZZ", receiver.ljust(15), "260203", "1012",
         rep, version, ctl, "0", "T", comp]
    return elem.join(f)


def txn(set_id, ctl, body, st03=None):
    """body: list of segments (lists of elements, id first). Returns segments with ST/SE and a correct SE01."""
    st = ["ST", set_id, ctl] + ([st03] if st03 else [])
    segs = [st] + body
    segs.append(["SE", str(len(segs) + 1), ctl])
    return segs


def group(fid, ctl, version, txns, date="20260203", ge01=None, ge02=None):
    segs = [["GS", fid, "ENTRYWATCHTEST", "CBPTEST", date, "1012", ctl, "X", version]]
    for t in txns:
        segs += t
    segs.append(["GE", str(len(txns) if ge01 is None else ge01), ge02 or ctl])
    return segs


def interchange(ctl, groups, version="00501", rep="^", iea01=None, iea02=None, **kw):
    body = []
    for g in groups:
        body += g
    return {"isa": isa(ctl, version, rep, **kw), "segs": body + [["IEA", str(len(groups) if iea01 is None else iea01), iea02 or ctl]]}


def render(ics, elem="*", term="~", after="\n"):
    out = []
    for ic in ics:
        out.append(ic["isa"] + term + after)
        for s in ic["segs"]:
            out.append(elem.join(s) + term + after)
    return "".join(out)


def write(name, text, enc="utf-8"):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(text if isinstance(text, bytes) else text.encode(enc))


# ---------- valid transaction bodies
X4 = lambda bol, code, date="20260203", time="1012", qty="100": ["X4", bol, qty, "01", "EEE12345673", date, time, code, "", "MAEU"]

B350 = [
    ["M10", "MAEU", "11", "DK", "9321483", "MAERSK ESSEX", "612W"],
    ["P4", "2704", "20260201", "100", "2704"],
    ["V9", "ARV", "VESSEL ARRIVED", "20260201", "0630"],
    X4("MAEU123456789", "1H"), ["K1", "CBP HOLD AT PORT OF DISCHARGE"],
    X4("MAEU123456789", "1A"), ["K1", "INTENSIVE EXAM REQUIRED"],
    X4("MAEU123456789", "1I", time="1530"),
    X4("MAEU123456789", "1B", date="20260204", time="0900"),
    X4("MAEU987654321", "1C"),
]
B309 = [
    ["M10", "MAEU", "11", "DK", "9321483", "MAERSK ESSEX", "612W"],
    ["P4", "2704", "20260201", "2"],
    ["LX", "1"], ["M11", "MAEU123456789", "2704", "100", "2400.5", "K"],
    ["N1", "SH", "ACME TEXTILES LTD"], ["N1", "CN", "ENTRYWATCH IMPORTS INC"],
    ["VID", "CN", "MSKU", "1234565"],
    ["LX", "2"], ["M11", "MAEU987654321", "2704", "50", "800", "K"],
]
B353 = [
    ["M10", "MAEU", "11", "DK", "9321483", "MAERSK ESSEX", "612W"],
    ["P4", "2704", "20260201"],
    ["M15", "BM", "MAEU123456789", "20260201", "0630", "2704"],
    ["R4", "D", "D", "2704", "LOS ANGELES"],
    ["K1", "CONVEYANCE ARRIVED"],
]
B355 = [
    ["M10", "MAEU", "11", "DK", "9321483", "MAERSK ESSEX", "612W"],
    ["K1", "ACCEPTED"],
    ["P4", "2704", "20260201"],
    ["LX", "1"], ["M11", "MAEU123456789", "2704"], ["K1", "BILL ACCEPTED"],
]
B997 = [["AK1", "SO", "17"], ["AK2", "309", "0001"], ["AK5", "A"], ["AK9", "A", "1", "1", "1"]]
B999 = [
    ["AK1", "IN", "21", "005010"], ["AK2", "810", "0001", "005010"],
    ["IK3", "IT1", "5", "IT1", "8"], ["IK4", "2", "358", "6", "1O"], ["IK5", "R", "5"],
    ["AK9", "R", "1", "1", "0"],
]
B810 = [
    ["BIG", "20260203", "INV-77", "20260110", "PO-4500012"],
    ["CUR", "SE", "USD"],
    ["N1", "RE", "ACME TEXTILES LTD", "92", "ACME"], ["N3", "1 HARBOUR ROAD"], ["N4", "HONG KONG", "", "", "HK"],
    ["ITD", "01", "3", "", "", "", "", "30"],
    ["IT1", "1", "100", "DZ", "100", "", "VP", "SW-100"], ["PID", "F", "", "", "", "MENS SWEATERS COTTON"],
    ["IT1", "2", "50", "DZ", "40.5", "", "VP", "SC-200"],
    ["TDS", "1202500"],
    ["CTT", "2"],
]
B850 = [
    ["BEG", "00", "SA", "PO-4500012", "", "20260110"],
    ["REF", "IA", "V0001"],
    ["DTM", "002", "20260201"],
    ["N1", "ST", "ENTRYWATCH IMPORTS INC", "92", "DC01"], ["N3", "100 WAREHOUSE WAY"], ["N4", "CARSON", "CA", "90745", "US"],
    ["PO1", "10", "100", "DZ", "100", "PE", "VP", "SW-100"], ["PID", "F", "", "", "", "MENS SWEATERS COTTON"],
    ["PO1", "20", "50", "DZ", "40.5", "PE", "VP", "SC-200"],
    ["CTT", "2", "150"],
]


def b856(items=3, sid="SH0001"):
    segs = [["BSN", "00", sid, "20260203", "1012"], ["HL", "1", "", "S"], ["TD1", "CTN25", "10", "", "", "", "G", "250", "KG"],
            ["TD5", "B", "2", "MAEU", "S"], ["REF", "BM", "MAEU123456789"], ["N1", "ST", "ENTRYWATCH IMPORTS INC", "92", "DC01"],
            ["HL", "2", "1", "O"], ["PRF", "PO-4500012", "", "", "20260110"]]
    n = 2
    for i in range(items):
        n += 1
        segs += [["HL", str(n), "2", "I"], ["LIN", str(i + 1), "VP", "SW-%03d" % i], ["SN1", "", "24", "EA"], ["PID", "F", "", "", "", "ITEM %d" % i]]
    segs.append(["CTT", str(n)])
    return segs


# Standard order (grammars/x12/facts, x12-types): the heading segments partners really send.
S850 = [
    ["BEG", "00", "SA", "PO-4500013", "", "20260110"], ["CUR", "BY", "USD"], ["REF", "IA", "V0001"],
    ["PER", "BD", "JANE BUYER", "TE", "5555551212"], ["TAX", "123456789", "CA"], ["FOB", "PP", "OR", "CARSON"],
    ["SAC", "C", "D240", "", "", "1000"], ["ITD", "01", "3", "2", "", "30", "", "60"], ["DTM", "002", "20260201"],
    ["TD5", "B", "2", "MAEU", "S"], ["TXI", "ST", "12.50"], ["N9", "L1", "NOTES"], ["MSG", "PLEASE CONFIRM BY RETURN"],
    ["N1", "ST", "ENTRYWATCH IMPORTS INC", "92", "DC01"], ["N3", "100 WAREHOUSE WAY"], ["N4", "CARSON", "CA", "90745", "US"],
    ["PO1", "1", "100", "DZ", "12.5", "PE", "VP", "SW-00001"], ["CTP", "RS", "RES", "15.00"],
    ["PID", "F", "", "", "", "MENS SWEATERS COTTON"], ["PO4", "12", "1", "EA"], ["DTM", "010", "20260301"],
    ["SPI", "00"], ["MSG", "LINE NOTE"],
    ["CTT", "1"], ["AMT", "TT", "1250.00"],
]
S856 = [
    ["BSN", "00", "SH0002", "20260203", "1012", "0001"], ["DTM", "011", "20260203"],
    ["HL", "1", "", "S"], ["TD1", "CTN25", "10", "", "", "", "G", "250", "KG"], ["TD5", "B", "2", "MAEU", "S"],
    ["TD3", "CN", "MAEU", "1234567"], ["REF", "BM", "MAEU123456789"], ["FOB", "PP"],
    ["N1", "ST", "ENTRYWATCH IMPORTS INC", "92", "DC01"], ["N3", "100 WAREHOUSE WAY"],
    ["HL", "2", "1", "O"], ["PRF", "PO-4500013", "", "", "20260110"],
    ["HL", "3", "2", "I"], ["LIN", "1", "VP", "SW-00001"], ["SN1", "", "24", "EA"], ["PID", "F", "", "", "", "ITEM 1"],
    ["CLD", "2", "12", "CTN25"], ["REF", "LT", "LOT1"],
    ["CTT", "3"],
]
S810 = [
    ["BIG", "20260203", "INV-78", "20260110", "PO-4500013"], ["CUR", "SE", "USD"], ["REF", "IA", "V0001"],
    ["N1", "RE", "ACME TEXTILES LTD", "92", "ACME"], ["N3", "1 HARBOUR ROAD"], ["N4", "HONG KONG", "", "", "HK"],
    ["ITD", "01", "3", "", "", "", "", "30"], ["DTM", "011", "20260203"], ["FOB", "PP"],
    ["IT1", "1", "100", "DZ", "12.5", "", "VP", "SW-00001"], ["PID", "F", "", "", "", "MENS SWEATERS COTTON"],
    ["TDS", "125000"], ["TXI", "ST", "12.50"], ["SAC", "C", "D240", "", "", "1000"], ["CTT", "1"],
]
# Before 004010 dates were 6 digits (YYMMDD): BEG05, DTM02 in an 003060 file.
S850_OLD = [
    ["BEG", "00", "SA", "PO-4500014", "", "260110"], ["REF", "IA", "V0001"], ["FOB", "PP"], ["ITD", "01", "3"],
    ["DTM", "002", "260201"], ["N1", "ST", "ENTRYWATCH IMPORTS INC", "92", "DC01"],
    ["PO1", "1", "100", "DZ", "12.5", "PE", "VP", "SW-00001"], ["CTT", "1"],
]
# 003060 (6-digit dates) 810 and 856.
S810_OLD = [
    ["BIG", "260203", "INV-79", "260110", "PO-4500014"], ["REF", "IA", "V0001"],
    ["N1", "RE", "ACME TEXTILES LTD", "92", "ACME"], ["ITD", "01", "3"], ["DTM", "011", "260203"], ["FOB", "PP"],
    ["IT1", "1", "100", "DZ", "12.5", "", "VP", "SW-00001"], ["PID", "F", "", "", "", "MENS SWEATERS COTTON"],
    ["TDS", "125000"], ["CTT", "1"],
]
S856_OLD = [
    ["BSN", "00", "SH0003", "260203", "1012"], ["HL", "1", "", "S"], ["TD5", "B", "2", "MAEU", "S"],
    ["REF", "BM", "MAEU123456789"], ["DTM", "011", "260203"], ["N1", "ST", "ENTRYWATCH IMPORTS INC", "92", "DC01"],
    ["HL", "2", "1", "O"], ["PRF", "PO-4500014", "", "", "260110"],
    ["HL", "3", "2", "I"], ["LIN", "1", "VP", "SW-00001"], ["SN1", "", "24", "EA"], ["CTT", "3"],
]


def one(set_id, fid, body, version="005010", isav="00501", ctl="000000101", rep="^", st03=None):
    return interchange(ctl, [group(fid, "101", version, [txn(set_id, "0001", body, st03)])], version=isav, rep=rep)


def main():
    # valid, one per set
    write("350-holds-exam-release.x12", render([one("350", "AU", B350)]))
    write("350-old-gs01-so-004010.x12", render([one("350", "SO", B350, version="004010", isav="00401", rep="U")]))
    write("309-manifest.x12", render([one("309", "AQ", B309)]))
    write("353-events.x12", render([one("353", "AX", B353)]))
    write("355-acceptance.x12", render([one("355", "AZ", B355)]))
    write("997-ack.x12", render([one("997", "FA", B997, version="004010", isav="00401", rep="U")]))
    write("999-ack.x12", render([one("999", "FA", B999, st03="005010X231A1")]))
    write("810-invoice.x12", render([one("810", "IN", B810, version="004010", isav="00401", rep="U")]))
    write("850-po.x12", render([one("850", "PO", B850, version="004010VICS", isav="00401", rep="U")]))
    write("856-asn-hl.x12", render([one("856", "SH", b856(), version="004010", isav="00401", rep="U")]))
    # standard order, one per set and version (issue 17): 004010 and 005010, one older, one newer
    write("850-standard-004010.x12", render([one("850", "PO", S850, version="004010", isav="00401", rep="U")]))
    write("850-standard-005010.x12", render([one("850", "PO", S850)]))
    write("856-standard-004010.x12", render([one("856", "SH", S856, version="004010", isav="00401", rep="U")]))
    write("856-standard-005010.x12", render([one("856", "SH", S856)]))
    write("810-standard-004010.x12", render([one("810", "IN", S810, version="004010", isav="00401", rep="U")]))
    write("810-standard-005010.x12", render([one("810", "IN", S810)]))
    write("850-older-003060.x12", render([one("850", "PO", S850_OLD, version="003060", isav="00306", rep="U")]))
    write("856-newer-005030.x12", render([one("856", "SH", S856, version="005030", isav="00503")]))
    write("810-older-003060.x12", render([one("810", "IN", S810_OLD, version="003060", isav="00306", rep="U")]))
    write("856-older-003040.x12", render([one("856", "SH", S856_OLD, version="003040", isav="00304", rep="U")]))
    write("850-newer-005030.x12", render([one("850", "PO", S850, version="005030", isav="00503")]))
    write("810-newer-005030.x12", render([one("810", "IN", S810, version="005030", isav="00503")]))
    # CBP's sets and the acks in the other dictionary version
    write("309-manifest-004010.x12", render([one("309", "SO", B309, version="004010", isav="00401", rep="U")]))
    write("353-events-004010.x12", render([one("353", "SO", B353, version="004010", isav="00401", rep="U")]))
    write("355-acceptance-004010.x12", render([one("355", "SO", B355, version="004010", isav="00401", rep="U")]))
    write("997-ack-005010.x12", render([one("997", "FA", B997)]))

    # quirks
    write("quirk-delimiters.x12", render([interchange("000000201", [group("AU", "201", "005010", [txn("350", "0001", B350)])],
                                                       rep="!", comp=">", elem="|")], elem="|", term="\x1d", after=""))
    write("quirk-isa11-u-00501.x12", render([one("350", "AU", B350, rep="U")]))
    write("quirk-ellipsis-terminator.x12", render([one("850", "PO", B850, version="004010", isav="00400", rep="U")], term="\u2026", after=""))
    write("quirk-crlf-indent.x12", render([one("810", "IN", B810, version="004010", isav="00401", rep="U")], after="\r\n    "))
    write("quirk-lf-terminator.x12", render([one("997", "FA", B997, version="004010", isav="00401", rep="U")], term="\n", after=""))
    wrapped = render([one("350", "AU", B350)], after="")
    write("quirk-wrapped-80.x12", "\n".join(wrapped[i:i + 80] for i in range(0, len(wrapped), 80)) + "\n")
    write("quirk-bom.x12", b"\xef\xbb\xbf" + render([one("997", "FA", B997, version="004010", isav="00401", rep="U")]).encode())
    write("quirk-utf16.x12", b"\xff\xfe" + render([one("997", "FA", B997, version="004010", isav="00401", rep="U")]).encode("utf-16-le"))
    m2 = render([interchange("000000302", [group("FA", "302", "004010", [txn("997", "0001", B997)])], version="00401", rep="U", comp=">", elem="|")], elem="|", term="^", after="\n")
    write("quirk-multi-interchange.x12", render([one("350", "AU", B350, ctl="000000301")]) + m2)
    write("quirk-short-isa.x12", render([interchange("000000401", [group("AU", "401", "005010", [txn("350", "0001", B350)])], short=True)]))
    bin_body = [["BIN", "11", "line1\nline2"]]
    write("quirk-bin-segment.x12", render([one("102", "AU", bin_body)]).replace("BIN*11*line1\nline2~", "BIN*11*line1\nline2~"))
    ic = one("997", "FA", B997, version="004010", isav="00401", rep="U")
    ic["segs"] = [["TA1", "000000099", "260202", "1200", "A", "000"], ["ISB", "1"]] + ic["segs"]
    write("quirk-ta1-isb.x12", render([ic]))
    write("quirk-version-004060.x12", render([one("856", "SH", b856(), version="004060", isav="00406", rep="U")]))
    write("quirk-unknown-set.x12", render([one("855", "PR", [["BAK", "00", "AC", "PO-4500012", "20260111"]], version="004010", isav="00401", rep="U")]))
    write("quirk-ta1-only.x12", render([{"isa": isa("000000501"), "segs": [["TA1", "000000101", "260203", "1012", "A", "000"], ["IEA", "0", "000000501"]]}]))

    # envelope errors
    def env(name, **kw):
        write(name, render([interchange("000000601", [group("AU", "601", "005010", [txn("350", "0001", B350)], **{k: v for k, v in kw.items() if k.startswith("ge")})],
                                        **{k: v for k, v in kw.items() if k.startswith("iea")})]))
    env("err-iea-control.x12", iea02="000000999")
    env("err-iea-count.x12", iea01="2")
    env("err-ge-control.x12", ge02="999")
    env("err-ge-count.x12", ge01="3")
    good = render([one("350", "AU", B350, ctl="000000701")])
    write("err-truncated.x12", good[: good.index("X4*MAEU987654321")])
    write("err-se-control.x12", re.sub(r"SE\*(\d+)\*0001", r"SE*\1*0002", good))
    write("err-se-count.x12", re.sub(r"SE\*(\d+)\*0001", "SE*99*0001", good))
    t2 = txn("350", "0001", B350)
    write("err-st-duplicate.x12", render([interchange("000000801", [group("AU", "801", "005010", [t2, t2])])]))
    write("err-gs-duplicate.x12", render([interchange("000000802", [group("AU", "802", "005010", [t2]), group("AU", "802", "005010", [t2])])]))
    write("err-gs-element.x12", render([interchange("000000803", [group("AU", "803", "005010", [t2], date="20261341")])]))
    write("err-outside-set.x12", good.replace("GS*AU", "K1*STRAY SEGMENT~\nGS*AU"))
    write("err-isa-fields.x12", good.replace("*260203*1012*", "*261341*2599*"))
    write("err-delimiters.x12", good.replace("*0*T*:~", "*0*T**~"))
    write("err-after-iea.x12", good + "THIS IS NOT AN INTERCHANGE\n")
    write("warn-duplicate-isa13.x12", good + good)

    # structure errors (AK304) and element errors (AK403) in a 350 unless noted
    def s350(name, body):
        write(name, render([one("350", "AU", body, ctl="000000901")]))
    s350("err-seg-unrecognized.x12", B350[:3] + [["ZZZ", "1"]] + B350[3:])
    b997 = lambda body, n: write(n, render([one("997", "FA", body, version="004010", isav="00401", rep="U")]))
    b997([["AK1", "SO", "17"], ["AK4", "1", "", "1"], ["AK9", "A", "0", "0", "0"]], "err-seg-unexpected.x12")
    b997([["AK2", "309", "0001"], ["AK5", "A"], ["AK9", "A", "1", "1", "1"]], "err-seg-missing.x12")
    s350("err-loop-max.x12", [B350[0]] + [["P4", "2704", "20260201"]] * 21)
    s350("err-seg-max.x12", B350[:4] + [["K1", "A"]] * 5 + B350[4:])
    s350("err-seg-not-in-set.x12", B350[:3] + [["BEG", "00", "SA", "PO1", "", "20260110"]] + B350[3:])
    write("err-seg-out-of-order.x12", render([one("850", "PO", B850[:7] + [B850[0]] + B850[7:], version="004010", isav="00401", rep="U")]))
    s350("err-el-missing.x12", B350[:3] + [X4("MAEU1", "")] + B350[3:])
    s350("err-el-too-many.x12", B350[:1] + [["P4", "2704", "20260201", "100", "2704", "1012", "EXTRA"]] + B350[2:])
    s350("err-el-too-short.x12", B350[:3] + [["X4", "MAEU1", "1", "01", "E1", "20260203", "1012", "1H", "", "M"]] + B350[3:])
    s350("err-el-too-long.x12", B350[:3] + [["X4", "MAEU1", "1", "01", "E1", "20260203", "1012", "1H", "", "MAEUX"]] + B350[3:])
    s350("err-el-invalid-char.x12", B350[:1] + [["P4", "2704", "20260201", "12A"]] + B350[2:])
    # A partner's code error rejects (AK403 7): a 997 whose AK501 is not an X12 code.
    b997([["AK1", "PO", "17"], ["AK2", "850", "0001"], ["AK5", "Q"], ["AK9", "A", "1", "1", "1"]], "err-el-invalid-code.x12")
    # CBP's own 350 with an X407 code not in our list: a warning, the set is applied (issue 13).
    s350("warn-350-unknown-code.x12", B350[:3] + [X4("MAEU1", "ZZ")] + B350[3:])
    s350("err-el-invalid-date.x12", B350[:3] + [X4("MAEU1", "1H", date="20260230")] + B350[3:])
    s350("err-el-invalid-time.x12", B350[:3] + [X4("MAEU1", "1H", time="2561")] + B350[3:])
    s350("err-el-repetitions.x12", B350[:4] + [["K1", "HOLD^SECOND"]] + B350[5:])
    s350("err-el-components.x12", B350[:4] + [["K1", "HOLD:PART"]] + B350[5:])


if __name__ == "__main__":
    main()
