//! The grammar loader's checks, one test each: a copy of the shipped grammars/ in a temp dir
//! with one file made bad loads with that code, naming the file and (where the problem sits
//! on one line) the line.

use entrywatch::grammar::{embedded_files, GrammarError, Grammars};

/// The shipped grammars with `edit` applied to the file at `path` (relative to grammars/;
/// `None` from the edit deletes the file), plus any `extra` files, written to a temp dir and
/// loaded from there.
fn load_with(path: &str, edit: impl Fn(&str) -> Option<String>, extra: &[(&str, String)]) -> Vec<GrammarError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut found = false;
    for f in embedded_files() {
        let text = if f.path == path {
            found = true;
            let Some(t) = edit(&f.text) else { continue };
            assert_ne!(t, f.text, "the edit of {path} changed nothing");
            t
        } else {
            f.text
        };
        let p = dir.path().join(&f.path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    assert!(found, "{path} is not a shipped grammar file");
    for (p, text) in extra {
        let p = dir.path().join(p);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    Grammars::load(Some(dir.path())).expect_err("the bad grammar must not load")
}

fn shipped(path: &str) -> String {
    embedded_files().into_iter().find(|f| f.path == path).map(|f| f.text).expect("shipped file")
}

/// The 1-based line of the `n`-th (0-based) line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str, n: usize) -> usize {
    text.lines().enumerate().filter(|(_, l)| l.contains(needle)).nth(n).map(|(i, _)| i + 1).expect("needle")
}

/// The one error with `code`, which must name `file` and `line`.
fn expect(errors: &[GrammarError], code: &str, file: &str, line: Option<usize>) {
    let hits: Vec<&GrammarError> = errors.iter().filter(|e| e.code == code).collect();
    assert!(!hits.is_empty(), "no {code} in {errors:?}");
    assert!(hits.iter().any(|e| e.file == file && e.line == line), "{code}: want {file} line {line:?}, got {hits:?}");
}

#[test]
fn g002_a_toml_syntax_error_names_its_line() {
    let errors = load_with("codes/uc_dispositions.toml", |t| Some(t.replace("code = \"8\"", "code = = \"8\"")), &[]);
    let line = line_of(&shipped("codes/uc_dispositions.toml"), "code = \"8\"", 0);
    expect(&errors, "G002", "codes/uc_dispositions.toml", Some(line));
}

#[test]
fn g002_an_unknown_key_names_its_line() {
    let errors = load_with(
        "codes/uc_dispositions.toml",
        |t| Some(t.replace("code = \"8\"", "code = \"8\"\nmeening = \"x\"")),
        &[],
    );
    let line = line_of(&shipped("codes/uc_dispositions.toml"), "code = \"8\"", 0) + 1;
    expect(&errors, "G002", "codes/uc_dispositions.toml", Some(line));
}

#[test]
fn g003_a_file_outside_the_grammar_folders() {
    let errors =
        load_with("codes/uc_dispositions.toml", |t| Some(format!("{t}\n")), &[("misc/extra.toml", "a = 1\n".into())]);
    expect(&errors, "G003", "misc/extra.toml", Some(1));
}

#[test]
fn g111_an_envelope_without_ge() {
    let text = shipped("x12/envelope.toml");
    let ge = text.lines().find(|l| l.starts_with("GE = ")).expect("GE line").to_string();
    let errors = load_with("x12/envelope.toml", |t| Some(t.replace(&format!("{ge}\n"), "")), &[]);
    expect(&errors, "G111", "x12/envelope.toml", Some(line_of(&text, "[segments]", 0)));
    assert!(errors.iter().any(|e| e.code == "G111" && e.message.contains("GE")), "{errors:?}");
}

#[test]
fn g202_a_record_defined_twice() {
    let text = shipped("abi/uc.toml");
    let start = text.find("[[record]]\nname = \"E2\"").expect("E2");
    let end = text.get(start + 1..).and_then(|r| r.find("[[record]]")).map_or(text.len(), |i| start + 1 + i);
    let block = text.get(start..end).expect("block").to_string();
    let errors = load_with("abi/uc.toml", |t| Some(format!("{t}\n{block}")), &[]);
    let doubled = format!("{text}\n{block}");
    expect(&errors, "G202", "abi/uc.toml", Some(line_of(&doubled, "name = \"E2\"", 1)));
}

#[test]
fn g205_an_application_defined_twice() {
    let text = shipped("abi/uc.toml");
    let errors = load_with("abi/uc.toml", |t| Some(format!("{t}\n")), &[("abi/uc2.toml", text.clone())]);
    expect(&errors, "G205", "abi/uc2.toml", Some(line_of(&text, "application = \"UC\"", 0)));
    assert!(errors.iter().any(|e| e.code == "G205" && e.message.contains("also in abi/uc.toml")), "{errors:?}");
}

#[test]
fn g207_a_record_whose_first_field_is_not_record_id() {
    let text = shipped("abi/uc.toml");
    let errors = load_with(
        "abi/uc.toml",
        |t| {
            Some(t.replacen(
                "{ name = \"record_id\", start = 1, length = 2",
                "{ name = \"record_ix\", start = 1, length = 2",
                1,
            ))
        },
        &[],
    );
    expect(&errors, "G207", "abi/uc.toml", Some(line_of(&text, "name = \"E1\"", 0)));
}

#[test]
fn g208_no_abi_envelope_grammar() {
    // Nothing to point at: the grammar is absent, so the error names the folder, no line.
    let errors = load_with("abi/envelope.toml", |_| None, &[]);
    expect(&errors, "G208", "abi/", None);
}

#[test]
fn g210_a_filler_with_another_name() {
    let text = shipped("abi/uc.toml");
    let errors = load_with(
        "abi/uc.toml",
        |t| Some(t.replacen("{ name = \"filler\", start = 54", "{ name = \"spare\", start = 54", 1)),
        &[],
    );
    expect(&errors, "G210", "abi/uc.toml", Some(line_of(&text, "{ name = \"filler\", start = 54", 0)));
}

#[test]
fn g301_a_code_list_defined_twice() {
    let text = shipped("codes/uc_dispositions.toml");
    let errors =
        load_with("codes/uc_dispositions.toml", |t| Some(format!("{t}\n")), &[("codes/uc_zz.toml", text.clone())]);
    expect(&errors, "G301", "codes/uc_zz.toml", Some(line_of(&text, "name = \"uc_dispositions\"", 0)));
}

#[test]
fn g302_a_code_twice_in_a_list() {
    let text = shipped("codes/uc_dispositions.toml");
    let added = "\n[[code]]\ncode = \"8\"\nmeaning = \"again\"\n";
    let errors = load_with("codes/uc_dispositions.toml", |t| Some(format!("{t}{added}")), &[]);
    expect(&errors, "G302", "codes/uc_dispositions.toml", Some(line_of(&format!("{text}{added}"), "code = \"8\"", 1)));
}

#[test]
fn g303_a_code_without_meaning() {
    let text = shipped("codes/uc_dispositions.toml");
    let errors = load_with(
        "codes/uc_dispositions.toml",
        |t| Some(t.replace("meaning = \"Entry summary canceled\"", "meaning = \" \"")),
        &[],
    );
    expect(&errors, "G303", "codes/uc_dispositions.toml", Some(line_of(&text, "code = \"6\"", 0)));
}

#[test]
fn g304_removes_on_a_code_that_neither_removes_nor_releases() {
    let text = shipped("codes/uc_dispositions.toml");
    let errors = load_with(
        "codes/uc_dispositions.toml",
        |t| Some(t.replace("meaning = \"Quota status\"", "meaning = \"Quota status\"\nremoves = [\"D\"]")),
        &[],
    );
    expect(&errors, "G304", "codes/uc_dispositions.toml", Some(line_of(&text, "code = \"Q\"", 0)));
}

#[test]
fn g305_removes_a_code_its_list_does_not_define() {
    let text = shipped("codes/uc_dispositions.toml");
    let errors =
        load_with("codes/uc_dispositions.toml", |t| Some(t.replace("removes = [\"D\"]", "removes = [\"DD\"]")), &[]);
    expect(&errors, "G305", "codes/uc_dispositions.toml", Some(line_of(&text, "code = \"C\"", 0)));
    // A release origin's `removes` names SO60 codes (removes-from): 03 there is the exam.
    let errors =
        load_with("codes/release_origins.toml", |t| Some(t.replace("removes = [\"03\"]", "removes = [\"3X\"]")), &[]);
    let origins = shipped("codes/release_origins.toml");
    expect(&errors, "G305", "codes/release_origins.toml", Some(line_of(&origins, "code = \"05\"", 0)));
}

#[test]
fn the_shipped_grammars_load() {
    let g = Grammars::embedded().expect("shipped grammars load");
    // The release lifts are data: SO60 98 and X407 1B name what they lift.
    assert_eq!(
        g.codes.get("so60_dispositions", "98").map(|c| c.removes.clone()),
        Some(vec!["99".into(), "96".into(), "90".into()])
    );
    assert_eq!(g.codes.get("x407", "1B").map(|c| c.removes.clone()), Some(vec!["1A".into(), "4A".into()]));
    assert_eq!(g.codes.get("release_origins", "05").map(|c| c.removes.clone()), Some(vec!["03".into()]));
}
