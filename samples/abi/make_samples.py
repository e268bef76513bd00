#!/usr/bin/env python3
"""Writes the ABI sample files in this folder from the grammars in ../../grammars/abi.

Records are built by field name so every column comes from the grammar. Run from the repo
root: python3 samples/abi/make_samples.py. Every value here is this project's own invention.
"""
import os, tomllib

ROOT = os.path.dirname(os.path.abspath(__file__))
G = {}
for f in os.listdir(os.path.join(ROOT, "../../grammars/abi")):
    d = tomllib.load(open(os.path.join(ROOT, "../../grammars/abi", f), "rb"))
    G[d["application"]] = {r["name"]: r for r in d["record"]}


def rec(app, name, **vals):
    r = G[app][name]
    out = [" "] * 80
    for i, c in enumerate(r["id"]):
        out[i] = c
    names = {f["name"]: f for f in r["fields"]}
    for k, v in vals.items():
        f = names[k]
        n = f["length"]
        if isinstance(v, int):
            s = str(v).rjust(n, "0")
        else:
            s = str(v).ljust(n)
        assert len(s) == n, (app, name, k, v)
        out[f["start"] - 1:f["start"] - 1 + n] = list(s)
    if r.get("select"):
        s = r["select"]
        out[s["start"] - 1:s["start"] - 1 + len(s["value"])] = list(s["value"])
    return "".join(out)


def env(app, date, body, port="2704", filer="EEE", user="", bstmt=None, ycount=True, site="2704"):
    a = rec("envelope", "A", site_code=site, sender_id=filer, transmission_date=date, application_id=app, user_data=user)
    b = rec("envelope", "B", port=port, filer_code=filer, application_id=app, **(bstmt or {}))
    y = rec("envelope", "Y", port=port, filer_code=filer, application_id=app,
            **({"image_count": len(body)} if ycount else {}))
    z = rec("envelope", "Z", site_code=site, sender_id=filer, transmission_date=date)
    return [a, b] + body + [y, z]


def write(name, records, sep="\n"):
    with open(os.path.join(ROOT, name), "w", newline="") as fh:
        fh.write(sep.join(records) + (sep if sep else ""))


E3 = dict(filer_code="EEE", entry_number="12345673")


def ae_summary(hts2="8471300100", action="A", entry="12345673", psc=""):
    return [
        rec("AE", "10", action_code=action, filer_code="EEE", entry_number=entry, port_of_entry="2704",
            broker_reference="BR0001", entry_type="01", mode_of_transport="11", electronic_signature="X",
            payment_type="2", statement_print_date="021026", psc_indicator=psc),
        rec("AE", "11", importer_number="12-345678900", estimated_entry_date="020226", import_date="013126",
            state_of_destination="CA"),
        rec("AE", "40", line_number=1, country_of_origin="CN", country_of_export="CN", export_date="010526",
            charges_amount=850, foreign_port_of_lading="57035", gross_weight_kg=1200),
        rec("AE", "50", hts_number="6110202079", duty_amount=165000, entered_value=10000, quantity_1=10000,
            uom_1="DOZ", quantity_2=120000, uom_2="KG"),
        rec("AE", "62", fee_class="499", fee_amount=3464),
        rec("AE", "62", fee_class="501", fee_amount=1250),
        rec("AE", "40", line_number=2, country_of_origin="VN", country_of_export="VN", export_date="010826",
            charges_amount=120, foreign_port_of_lading="55206", gross_weight_kg=300),
        rec("AE", "50", hts_number=hts2, duty_amount=0, entered_value=5000, quantity_1=5000, uom_1="NO"),
        rec("AE", "62", fee_class="499", fee_amount=1732),
        rec("AE", "62", fee_class="501", fee_amount=625),
        rec("AE", "89", fee_class_1="499", fee_amount_1=5196, fee_class_2="501", fee_amount_2=1875),
        rec("AE", "90", total_duty=165000, total_user_fees=7071),
    ]


def main():
    # ---- one entry's life: EEE-1234567-3, importer 12-345678900, port 2704 ----
    write("life-00-approved-pre-entry.abi", env("AE", "013026", ae_summary(hts2="8471500150"), user="PRE-ENTRY-APPROVED"))
    write("life-01-ae-filed.abi", env("AE", "020226", ae_summary(), user="MYREF-0001"))
    write("life-02-ax-accepted.abi", env("AX", "020226", [
        rec("AX", "E0", occurrence=1, ref_id_literal="REF ID:", filer_code="EEE", entry_number="12345673",
            broker_reference="BR0001"),
        rec("AX", "E1", disposition_code="A", condition_code="995", narrative="SUMMARY HAS BEEN ADDED",
            filer_code="EEE", entry_number="12345673", version_number=100, broker_reference="BR0001"),
    ], ycount=True, user="MYREF-0001"))
    so10 = rec("SO", "SO10", port_of_entry="2704", **E3, entry_type="01", importer_number="12-345678900",
               carrier_code="MAEU", vessel_name="MAERSK EXAMPLE", voyage_number="612W", estimated_arrival_date="020526")
    write("life-03-so-exam.abi", env("SO", "020526", [
        so10,
        rec("SO", "SO50", disposition_date="020526", disposition_time=815, disposition_code="95", narrative="BILL ARRIVED",
            split_bill="N", carrier_code="MAEU", voyage_number="612W", arrival_date="020526", port_of_arrival="2704"),
        rec("SO", "SO60", disposition_date="020526", disposition_time=930, disposition_code="03",
            narrative="PENDING INTENSIVE EXAM"),
    ]))
    write("life-04-so-fda-hold.abi", env("SO", "020626", [
        so10,
        rec("SO", "SO70", agency_code="FDA", program_code="FOO", status_date="020626", status_time=1012, pga_status="02",
            narrative="HOLD INTACT", line_status="02", status_reason="11", line_number=1, tariff_position=1,
            pga_line_number=1, processing_version="04"),
        rec("SO", "SO72", comment="PRODUCT SAMPLE REQUESTED BY FDA DISTRICT"),
    ]))
    write("life-05-so-fda-may-proceed.abi", env("SO", "020826", [
        so10,
        rec("SO", "SO70", agency_code="FDA", program_code="FOO", status_date="020826", status_time=1120, pga_status="07",
            narrative="MAY PROCEED", line_status="07", status_reason="22", line_number=1, tariff_position=1,
            pga_line_number=1, processing_version="04"),
    ]))
    write("life-06-so-released.abi", env("SO", "020926", [
        so10,
        rec("SO", "SO60", disposition_date="020926", disposition_time=1405, disposition_code="98", narrative="RELEASED",
            release_date="020926", release_origin="05"),
        rec("SO", "SO60", disposition_date="020926", disposition_time=1406, disposition_code="01", narrative="ONEUSG"),
    ]))
    stmt = dict(statement_number="2726041A01", statement_print_date="021026", payment_type="2")
    q1 = rec("PF", "Q1", port_of_entry="2704", **E3, importer_number="12-345678900", statement_print_date="021026",
             duty_amount=165000, tax_amount=0, broker_reference="BR0001", entry_type="01")
    q2 = rec("PF", "Q2", port_of_entry="2704", **E3, ad_duty=0, cv_duty=0, payment_type="2")
    qa = rec("PF", "QA", sequence=1, fee_class_1="499", fee_amount_1=5196, fee_class_2="501", fee_amount_2=1875)
    write("life-07-pf-preliminary.abi", env("PF", "021026", [
        q1, q2, qa,
        rec("PF", "Q3", statement_number="2726041A01", statement_print_date="021026", filer_code="EEE",
            total_duty=165000, total_tax=0, total_deferred_tax=0, port="2704"),
        rec("PF", "Q4", total_ad_duty=0, total_cv_duty=0, total_amount_due=172071, total_recon_interest=0,
            revenue_entries=1, non_revenue_entries=0),
        rec("PF", "QE", sequence=1, fee_class_1="499", fee_amount_1=5196, fee_class_2="501", fee_amount_2=1875),
    ], bstmt=dict(statement_status="P", **stmt)))
    write("life-08-pf-final.abi", env("PF", "021326", [
        q1, q2, qa,
        rec("PF", "Q5", statement_number="2726041A01", statement_print_date="021026", filer_code="EEE",
            total_duty=165000, total_tax=0, total_deferred_tax=0, port="2704"),
        rec("PF", "Q6", total_ad_duty=0, total_cv_duty=0, total_amount_paid=172071, total_recon_interest=0,
            revenue_entries=1, non_revenue_entries=0),
        rec("PF", "QJ", sequence=1, fee_class_1="499", fee_amount_1=5196, fee_class_2="501", fee_amount_2=1875),
    ], bstmt=dict(statement_status="F", **stmt)))
    write("life-09-er-liquidated.abi", env("ER", "121826", [
        rec("ER", "JB", **E3, version_number=100, accept_timestamp="02022610150 AM".replace(" ", "0")[:12] + "AM",
            liquidation_status="1", liquidation_date="121126", center_id="CEE003"),
        rec("ER", "JC", control_status="2", summary_status="1", status_date="020226", late_filing="0", release_status="1",
            release_date="020926", collection_status="2", collection_date="021326", protest_status="NO"),
        rec("ER", "JD", cbp_review="2", entry_date="020226", liquidated_duty=165000, liquidated_tax=0,
            liquidated_fees=7071, liquidated_interest=0, liquidated_adcvd=0, liquidation_reason_1="42",
            immediate_delivery="N"),
        rec("ER", "JE", estimated_duty=165000, estimated_tax=0, estimated_fees=7071, estimated_interest=0,
            estimated_adcvd=0),
        rec("ER", "JF", importer_number="12-345678900", entry_type=1, port_of_entry="2704", filing_date="020226"),
        rec("ER", "JG", specialist_team="612", center_id="CEE003", line_items=2),
        rec("ER", "JH", statement_print_date="021026", broker_reference="BR0001"),
        rec("ER", "JI", surety_code=123, primary_surety="Y", bond_type=8, multiple_bonds="N", bond_number="271234567"),
    ]))

    # ---- other valid files, one or more per application ----
    write("ax-rejected.abi", env("AX", "020326", [
        rec("AX", "E0", occurrence=1, ref_id_literal="REF ID:", filer_code="EEE", entry_number="76543213",
            broker_reference="BR0002"),
        rec("AX", "E0-REF", reference_type="LINE", occurrence=1, ref_id_literal="REF ID:", reference_text="001"),
        rec("AX", "E1", severity="F", condition_code="408", narrative="COUNTRY OF ORIGIN UNKNOWN", filer_code="EEE",
            entry_number="76543213", broker_reference="BR0002"),
        rec("AX", "E1", disposition_code="R", condition_code="998", narrative="TRANSACTION DATA REJECTED",
            filer_code="EEE", entry_number="76543213", broker_reference="BR0002"),
    ]))
    uc_e1 = lambda disp, reason, date, entry, narrative="": rec("UC", "E1", disposition_code=disp, action_source="1",
                                                             cbp_team="110", reason_code=reason, action_date=date,
                                                             narrative=narrative, filer_code="EEE",
                                                             entry_number=entry, broker_reference="BR0001")
    write("uc-notifications.abi", env("UC", "031026", [
        uc_e1("4", "003", "031026", "12345673"),
        rec("UC", "E2", cbp_user="J SMITH", cbp_phone="5625550100"),
        rec("UC", "E3", remarks="CLASSIFICATION INCORRECT ON LINE 001"),
        uc_e1("3", "", "031126", "76543213", "INVOICE AND PACKING LIST"),
        uc_e1("D", "", "031226", "55555550", "DETAINED"),
        uc_e1("8", "", "031326", "12345673", "PSC PRESENTED BY ANOTHER FILER"),
    ]))
    write("ms-monthly.abi", env("MS", "031726", [
        rec("MS", "Q1", daily_statement_number="2726041A01", port="2704", filer_code="EEE",
            importer_number="12-345678900", daily_statement_print_date="021026", presentation_date="021126",
            duty_amount=165000, tax_amount=0),
        rec("MS", "Q2", ad_duty=0, cv_duty=0, amount_due=172071),
        rec("MS", "QA", sequence=1, fee_class_1="499", fee_amount_1=5196, fee_class_2="501", fee_amount_2=1875),
        rec("MS", "Q3", statement_number="2726P02A01", statement_print_date="031726", statement_due_date="032026",
            filer_code="EEE", importer_number="12-345678900", total_duty=165000, total_tax=0),
        rec("MS", "Q4", total_ad_duty=0, total_cv_duty=0, total_amount_due=172071),
        rec("MS", "QE", sequence=1, fee_class_1="499", fee_amount_1=5196, fee_class_2="501", fee_amount_2=1875),
    ], bstmt=dict(statement_status="P", statement_number="2726P02A01", statement_print_date="031726", payment_type="6")))
    # The rejected batch of abi.md §1.8 (ACE-generated B/Y/Z).
    a = rec("envelope", "A", site_code="2704", sender_id="EEE", transmission_date="020226", user_data="MYREF-0002")
    write("envelope-batch-rejected.abi", [
        a, "B" + " " * 78 + "B",
        rec("envelope", "X1", severity="F", condition_code="X12", narrative="NOT A KNOWN ACE APPLICATION ID CODE"),
        rec("envelope", "X1", disposition_type="R", severity="F", condition_code="999", narrative="BATCH REJECTED"),
        "Y" + " " * 11 + "00002" + " " * 62 + "Y", "Z" + " " * 78 + "Z"])
    # Framings: continuous stream, CRLF.
    write("ae-stream.abi", env("AE", "020226", ae_summary()), sep="")
    write("ae-crlf.abi", env("AE", "020226", ae_summary()), sep="\r\n")

    # ---- broken files (each named for what is wrong) ----
    good = env("AE", "020226", ae_summary())
    def broken(name, recs):
        write("broken-" + name + ".abi", recs)
    r = list(good); r[3] = r[3].rstrip(); r[-1] = r[-1][:20]
    broken("short-records", r)
    r = list(good); r[4] = r[4] + "EXTRA"
    broken("long-record", r)
    r = list(good); r[2] = r[2].lower()
    broken("lowercase", r)
    r = list(good); r[5] = r[5][:30] + "\x07" + r[5][31:]
    broken("non-printable", r)
    r = list(good); r[2] = r[2][:75] + "JUNK " 
    broken("data-in-filler", r)
    r = list(good); r.insert(6, "77" + "X" * 78)
    r[-2] = rec("envelope", "Y", port="2704", filer_code="EEE", application_id="AE", image_count=13)
    broken("unknown-record", r)
    r = list(good); r.insert(3, r.pop(5))  # a 50 before its 40
    broken("out-of-sequence", r)
    r = list(good); del r[-2]
    broken("missing-y", r)
    r = list(good); del r[-1]
    broken("missing-z", r)
    r = list(good); r[-2] = rec("envelope", "Y", port="2704", filer_code="EEE", application_id="AE", image_count=3)
    broken("y-count", r)
    r = list(good); r[0] = rec("envelope", "A", site_code="2704", sender_id="EEE", transmission_date="020226", application_id="AX")
    broken("x19-application-conflict", r)
    r = list(good); r[-1] = rec("envelope", "Z", site_code="3001", sender_id="EEE", transmission_date="020226")
    broken("z-mismatch", r)
    broken("check-digit", env("AE", "020226", ae_summary(entry="12345674")))
    r = list(good); r[2] = r[2][:51] + "023126" + r[2][57:]
    broken("bad-date", r)
    r = list(good); r[5] = r[5][:13] + "00001650O0" + r[5][23:]
    broken("bad-amount", r)
    r = list(good); r[3] = "11" + " " * 78
    broken("mandatory-blank", r)
    r = list(good); r[2] = r[2][:33] + "77" + r[2][35:]
    broken("unknown-entry-type", r)
    broken("no-envelope", ae_summary())
    write("broken-empty.abi", [], sep="")


if __name__ == "__main__":
    main()
