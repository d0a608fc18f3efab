//! The printout as a person checks it with the CLI: a chart headed with whose it is, the
//! summary's code verified by `verify-printout`, refusals on one line, and the growth
//! JSON carrying what the text prints.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const PASSPHRASE: &str = "test passphrase";

fn redbook(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redbook"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("REDBOOK_PASSPHRASE", PASSPHRASE)
        .env_remove("REDBOOK_UK90_PACK")
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ada(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("family.db");
    ok(redbook(&db, &["init", "--device-name", "Mum's phone"]));
    ok(redbook(
        &db,
        &[
            "child",
            "add",
            "--name",
            "Ada Lovelace",
            "--birth-date",
            "2026-01-01",
            "--sex",
            "female",
            "--gestation",
            "40+0",
            "--nhs-number",
            "9434765919",
        ],
    ));
    for (date, kg) in [("2026-02-01", "4.2"), ("2026-04-01", "5.9")] {
        ok(redbook(
            &db,
            &["measure", "ada", "--date", date, "--weight-kg", kg],
        ));
    }
    db
}

fn code_in(html: &str) -> String {
    let at = html.find("data-code=\"").unwrap() + "data-code=\"".len();
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

#[test]
fn a_chart_names_its_child_and_the_summarys_code_verifies() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = ada(dir.path());
    let svg_path = dir.path().join("weight.svg");
    ok(redbook(
        &db,
        &[
            "chart",
            "ada",
            "--measure",
            "weight",
            "--out",
            svg_path.to_str().unwrap(),
        ],
    ));
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.contains("Ada Lovelace \u{b7} born 1 Jan 2026 \u{b7} NHS number 943 476 5919"));
    // A term baby weighed at WHO ages only: no note about the UK90 pack.
    assert!(!svg.contains("UK90 data pack"));

    let page = dir.path().join("ada.html");
    ok(redbook(
        &db,
        &[
            "export",
            "ada",
            "--summary",
            "--out",
            page.to_str().unwrap(),
        ],
    ));
    let code = code_in(&std::fs::read_to_string(&page).unwrap());
    let said = ok(redbook(&db, &["verify-printout", "ada", "--code", &code]));
    assert!(
        said.starts_with("Genuine: printed by Mum's phone (parent), a member of this record, on "),
        "{said}"
    );
    assert!(said.contains("The record still shows what this printout shows."));

    // From stdin, as a scanner's output is piped in.
    let mut child = Command::new(env!("CARGO_BIN_EXE_redbook"))
        .arg("--db")
        .arg(&db)
        .args(["verify-printout", "ada", "--code", "-", "--json"])
        .env("REDBOOK_PASSPHRASE", PASSPHRASE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{code}").unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&ok(child.wait_with_output().unwrap())).unwrap();
    assert_eq!(json["unchanged"], true);
    assert_eq!(json["signer_role"], "parent");

    // Garbage and a damaged code: one line on stderr, exit code 1, no panic, no echo.
    for bad in ["garbage", &code[..code.len() - 3], "RBP1:", ""] {
        let out = redbook(&db, &["verify-printout", "ada", "--code", bad]);
        assert_eq!(out.status.code(), Some(1), "{bad:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.starts_with("redbook: invalid printout code: "), "{err}");
        assert!(!err.contains("panicked") && (bad.len() < 10 || !err.contains(bad)));
    }
}

#[test]
fn growth_json_carries_the_mid_parental_height_it_prints() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = ada(dir.path());
    ok(redbook(
        &db,
        &["parents", "ada", "--mother-cm", "165", "--father-cm", "180"],
    ));
    let text = ok(redbook(&db, &["growth", "ada", "--measure", "height"]));
    let json: serde_json::Value = serde_json::from_str(&ok(redbook(
        &db,
        &["growth", "ada", "--measure", "height", "--json"],
    )))
    .unwrap();
    // Without the UK90 pack it cannot be worked out: both say why, in the same words.
    let said = json["mid_parental_height_text"].as_str().unwrap();
    assert!(text.contains(said), "{text} / {said}");
    assert!(json["mid_parental_height"].is_null());
    assert!(json["points"].is_array(), "the series is still there");
    // Weight has no mid-parental height.
    let weight: serde_json::Value = serde_json::from_str(&ok(redbook(
        &db,
        &["growth", "ada", "--measure", "weight", "--json"],
    )))
    .unwrap();
    assert!(weight["mid_parental_height_text"].is_null());

    // With the pack (scripts/test.sh builds one): the figure itself, as the text says it.
    let Some(pack) = std::env::var_os("REDBOOK_UK90_PACK") else {
        return;
    };
    let pack = pack.to_str().unwrap();
    let json: serde_json::Value = serde_json::from_str(&ok(redbook(
        &db,
        &[
            "growth",
            "ada",
            "--measure",
            "height",
            "--json",
            "--uk90-pack",
            pack,
        ],
    )))
    .unwrap();
    // A girl: (mother + father - 13) / 2.
    assert_eq!(json["mid_parental_height"]["height_cm"], 166.0);
    let text = ok(redbook(
        &db,
        &["growth", "ada", "--measure", "height", "--uk90-pack", pack],
    ));
    assert!(text.contains(json["mid_parental_height_text"].as_str().unwrap()));
}
