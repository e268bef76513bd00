#!/usr/bin/env python3
"""Writes the duty recovery samples in this folder: broker files (AE, ER) for one entry in
each recovery situation, CAPE result files (validation result, claim details) and two result
files that cannot be read. Records are built by field name from ../../grammars/abi (see
../abi/make_samples.py). Run from the repo root: python3 samples/recovery/make_samples.py.
Every value here is this project's own invention; README.md says which day shows what.
"""
import os, sys

ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(ROOT, "..", "abi"))
import make_samples as abi  # noqa: E402  (rec, env: grammar-driven records and envelopes)


def letter_digit(c):
    if c.isdigit():
        return int(c)
    if "A" <= c <= "I":
        return ord(c) - ord("A") + 1
    if "J" <= c <= "R":
        return ord(c) - ord("J") + 1
    return ord(c) - ord("S") + 2


def check_digit(filer, number):
    digits = [letter_digit(c) for c in filer] + [int(c) for c in number]
    s = sum(d if i % 2 == 0 else (d * 2) // 10 + (d * 2) % 10 for i, d in enumerate(digits))
    return (10 - s % 10) % 10


FILER = "EEE"


def field(tx):
    n = f"{tx:07d}"
    return f"{n}{check_digit(FILER, n)}"


def display(tx):
    f = field(tx)
    return f"{FILER}-{f[:7]}-{f[7:]}"


def compact(tx):
    return FILER + field(tx)


# One entry per situation (ENTRYWATCH_NOW=2026-08-24 is the reference day, README.md).
SITUATIONS = [
    # tx, name, entry type, recon issue, IEEPA duty (cents), liquidated on (MMDDYY) or None, protest
    (3000001, "unliquidated", "01", "", 120000, None, "NO"),
    (3000002, "liquidated-79", "01", "", 50000, "060626", "NO"),
    (3000003, "liquidated-80", "01", "", 60000, "060526", "NO"),
    (3000004, "liquidated-81", "01", "", 70000, "060426", "NO"),
    (3000005, "liquidated-180", "01", "", 80000, "022526", "NO"),
    (3000006, "liquidated-181", "01", "", 90000, "022426", "NO"),
    (3000007, "recon-flagged", "01", "002", 30000, None, "NO"),
    (3000008, "type-09", "09", "", 40000, None, "NO"),
    (3000009, "drawback-type-47", "47", "", 45000, None, "NO"),
    (3000010, "open-protest", "01", "", 55000, "060526", "YS"),
    (3000011, "cape-accepted", "01", "", 1234567, None, "NO"),
    (3000012, "cape-rejected", "01", "", 65000, "060526", "NO"),
]


def ae(tx, etype, recon, ieepa, entered="101525"):
    body = [
        abi.rec("AE", "10", action_code="A", filer_code=FILER, entry_number=field(tx), port_of_entry="2704",
                broker_reference=f"RC{tx % 10000000:07d}", entry_type=etype, mode_of_transport="11",
                electronic_signature="X", recon_issue_code=recon, payment_type="2", statement_print_date=entered),
        abi.rec("AE", "11", importer_number="12-345678900", estimated_entry_date=entered, import_date=entered,
                state_of_destination="CA"),
        abi.rec("AE", "40", line_number=1, country_of_origin="CN", country_of_export="CN", export_date="092025",
                charges_amount=850, foreign_port_of_lading="57035", gross_weight_kg=1200),
        abi.rec("AE", "50", hts_number="6110202079", duty_amount=165000, entered_value=10000, quantity_1=10000,
                uom_1="DOZ"),
        abi.rec("AE", "50", hts_number="9903012500", duty_amount=ieepa, entered_value=0),
        abi.rec("AE", "90", total_duty=165000 + ieepa, total_user_fees=0),
    ]
    return abi.env("AE", entered, body)


def er(tx, liquidated_on, protest):
    mm, dd, yy = liquidated_on[:2], liquidated_on[2:4], liquidated_on[4:]
    sent = f"{mm}{int(dd) + 2:02d}{yy}" if int(dd) <= 26 else liquidated_on
    body = [
        abi.rec("ER", "JB", filer_code=FILER, entry_number=field(tx), version_number="00100",
                liquidation_status="1", liquidation_date=liquidated_on, center_id="CEE001"),
        abi.rec("ER", "JC", control_status="1", summary_status="1", status_date="101725", release_status="1",
                collection_status="2", protest_status=protest),
        abi.rec("ER", "JD", entry_date="101525", liquidated_duty=0, liquidated_tax=0, liquidated_fees=0,
                liquidated_interest=0),
    ]
    return abi.env("ER", sent, body)


def write_text(name, text):
    with open(os.path.join(ROOT, name), "w", newline="") as fh:
        fh.write(text)


def main():
    abi.ROOT = ROOT
    for d in ("broker", "results"):
        os.makedirs(os.path.join(ROOT, d), exist_ok=True)
    for tx, name, etype, recon, ieepa, liq, protest in SITUATIONS:
        # The accepted entry is recent (entered 2026-02-10, before ACE stopped IEEPA on 02-24),
        # so its PSC window is still open and the PSC/CAPE conflict shows.
        entered = "021026" if name == "cape-accepted" else "101525"
        abi.write(f"broker/ae-{name}.abi", ae(tx, etype, recon, ieepa, entered))
        if liq:
            abi.write(f"broker/er-{name}.abi", er(tx, liq, protest))
    acc, rej = 3000011, 3000012
    # The validation result file (File Uploads work area): one row per entry of the upload.
    write_text("results/cape-validation-result.csv",
               "Entry Number,Status,Error Code,Error Description\r\n"
               f"{compact(acc)},Accepted,,\r\n"
               f"{compact(rej)},Rejected,E2,Statement processing not complete\r\n")
    # The claim details (Claim Status work area): claim number, amounts, the refund paid.
    write_text("results/cape-claim-details.csv",
               "CAPE Claim Details\r\nClaim Number,Entry Number,Entry Status,Error Description,"
               "Claimed Amount,Refund Amount,Refund Date\r\n"
               f"C26-000123,{display(acc)},Accepted,,\"$12,345.67\",\"$12,000.00\",07/15/2026\r\n"
               f"C26-000123,{display(rej)},Rejected,Statement processing not complete,$650.00,,\r\n")
    # Cannot be read: no known header; no row naming a readable entry.
    write_text("results/broken-no-header.csv", "PO Number,Amount\r\n4500012345,100.00\r\n")
    write_text("results/broken-no-entries.csv", "Entry Number,Status\r\nBII0001,Accepted\r\n")


if __name__ == "__main__":
    main()
