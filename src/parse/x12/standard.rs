//! A generated X12 stream laid out the way the standard orders its segments (the x12-types facts
//! of grammars/x12/facts, not our grammar): 004010 850s and 005010 856s with the heading, detail
//! and summary segments partners really send (FOB before ITD and DTM, TXI late in the heading,
//! N9/MSG, SPI, CLD). Used by `benches/x12.rs` and by the tests that it validates clean.

/// One 850 (004010 order) with `lines` PO1 loops.
pub fn purchase_order(ctl: usize, lines: usize) -> String {
    let mut s = format!(
        "ST*850*{ctl:04}~BEG*00*SA*PO-{ctl}**20260110~CUR*BY*USD~REF*IA*V0001~PER*BD*JANE BUYER*TE*5555551212~\
         TAX*123456789*CA~FOB*PP*OR*CARSON~SAC*C*D240***1000~CUR*BY*USD~ITD*01*3*2**30**60~DTM*002*20260201~\
         PID*F****MENS SWEATERS~MEA*PD*WT*120~TD1*CTN25*10~TD5*B*2*MAEU*S~MAN*GM*MARKS~TXI*ST*12.50~\
         N9*L1*NOTES~MSG*PLEASE CONFIRM BY RETURN~N1*ST*ENTRYWATCH IMPORTS INC*92*DC01~N2*RECEIVING DOCK 4~\
         N3*100 WAREHOUSE WAY~N4*CARSON*CA*90745*US~REF*DP*100~PER*DC*JOHN DOCK*TE*5551234~"
    );
    for i in 0..lines {
        s.push_str(&format!(
            "PO1*{}*100*DZ*12.5*PE*VP*SW-{i:05}*UP*0123456789{:02}~CTP*RS*RES*15.00~PID*F****MENS SWEATERS COTTON~\
             MEA*PD*LN*12~PO4*12*1*EA~SAC*A*C310***500~DTM*010*20260301~TD5*B*2*MAEU~N1*BT*BUYER CO~\
             SPI*00~MSG*LINE NOTE~",
            i + 1,
            i % 100
        ));
    }
    s.push_str(&format!("CTT*{lines}~AMT*TT*1000.00~"));
    close(s, ctl)
}

/// One 856 (005010 order): shipment, order, and `items` item levels, each with a CLD loop.
pub fn ship_notice(ctl: usize, items: usize) -> String {
    let mut s = format!(
        "ST*856*{ctl:04}~BSN*00*SH{ctl:06}*20260203*1012*0001~DTM*011*20260203~\
         HL*1**S~TD1*CTN25*10****G*250*KG~TD5*B*2*MAEU*S~TD3*CN*MAEU*1234567~REF*BM*MAEU123456789~\
         DTM*011*20260203~FOB*PP~N1*ST*ENTRYWATCH IMPORTS INC*92*DC01~N3*100 WAREHOUSE WAY~N4*CARSON*CA*90745*US~\
         HL*2*1*O~PRF*PO-4500012***20260110~"
    );
    for i in 0..items {
        s.push_str(&format!(
            "HL*{}*2*I~LIN*{}*VP*SW-{i:05}~SN1**24*EA~PID*F****ITEM {i}~CLD*2*12*CTN25~REF*LT*LOT{i}~",
            i + 3,
            i + 1
        ));
    }
    s.push_str(&format!("CTT*{}~", items + 2));
    close(s, ctl)
}

fn close(mut s: String, ctl: usize) -> String {
    let n = s.matches('~').count() + 1;
    s.push_str(&format!("SE*{n}*{ctl:04}~"));
    s
}

/// One interchange (ISA13 = `n`): a 004010 group of twenty 850s (25 lines each) and a 005010
/// group of twenty 856s (30 items each), one segment a line.
pub fn interchange(n: usize) -> String {
    let mut s = format!(
        "ISA*00*          *00*          *ZZ*ENTRYWATCHTEST *ZZ*PARTNER        *260203*1012*U*00401*{n:09}*0*T*:~\n"
    );
    s.push_str("GS*PO*ENTRYWATCHTEST*PARTNER*20260203*1012*1*X*004010~\n");
    for t in 0..20 {
        s.push_str(&purchase_order(t + 1, 25).replace('~', "~\n"));
    }
    s.push_str("GE*20*1~\nGS*SH*ENTRYWATCHTEST*PARTNER*20260203*1012*2*X*005010~\n");
    for t in 0..20 {
        s.push_str(&ship_notice(t + 1, 30).replace('~', "~\n"));
    }
    s.push_str(&format!("GE*20*2~\nIEA*2*{n:09}~\n"));
    s
}
