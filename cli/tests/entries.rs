//! Every kind of entry the CLI writes, written and corrected as a person types them:
//! newborn screening, birth details, and `amend` for each kind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PASSPHRASE: &str = "test passphrase";

struct Phone {
    _dir: tempfile::TempDir,
    db: PathBuf,
}

impl Phone {
    /// A phone with Ada's record, born 1 March 2026.
    fn with_ada() -> Self {
        let dir = tempfile::TempDir::new().unwrap();
        let db = dir.path().join("family.db");
        let phone = Phone { _dir: dir, db };
        phone.ok(&["init", "--device-name", "Mum's phone"]);
        phone.ok(&[
            "child",
            "add",
            "--name",
            "Ada Lovelace",
            "--birth-date",
            "2026-03-01",
            "--sex",
            "female",
            "--gestation",
            "39+4",
        ]);
        phone
    }

    fn run(&self, args: &[&str]) -> Output {
        redbook(&self.db, args)
    }

    /// Runs a command that must succeed; its stdout, trimmed.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Runs a command that must fail; its one line on stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let line = stderr(&out);
        assert_eq!(line.trim().lines().count(), 1, "{line}");
        line
    }

    fn record(&self) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["show", "ada", "--json"])).unwrap()
    }

    /// An entry's body, by id.
    fn current_body(&self, id: &str) -> serde_json::Value {
        let record = self.record();
        let entry = record["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["entry"]["id"] == id)
            .unwrap_or_else(|| panic!("no entry {id}"));
        entry["entry"]["body"].clone()
    }

    fn status(&self, id: &str) -> serde_json::Value {
        let record = self.record();
        record["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["entry"]["id"] == id)
            .map(|e| e["status"].clone())
            .unwrap()
    }
}

fn redbook(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redbook"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("REDBOOK_PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn blood_spot_hearing_nipe_and_birth_are_recorded_from_the_command_line() {
    let phone = Phone::with_ada();
    let spot = phone.ok(&[
        "screening",
        "blood-spot",
        "ada",
        "--sample-date",
        "2026-03-06",
        "--result",
        "pku=not-suspected",
        "--result",
        "SCID=suspected",
        "--result",
        "cf=declined",
    ]);
    let body = phone.current_body(&spot);
    assert_eq!(body["test"], "blood_spot");
    assert_eq!(body["sample_date"], "2026-03-06");
    assert_eq!(
        body["results"],
        serde_json::json!([
            { "condition": "PKU", "outcome": "not_suspected" },
            { "condition": "SCID", "outcome": "suspected" },
            { "condition": "CF", "outcome": "declined" },
        ])
    );
    let shown = phone.ok(&["show", "ada"]);
    assert!(shown.contains("SCID SUSPECTED"), "{shown}");
    assert!(shown.contains("CF DECLINED"), "{shown}");
    // The schedule reads it: no rotavirus while SCID is suspected.
    let due = phone.ok(&["due", "ada", "--on", "2026-04-26"]);
    let rota = due.lines().find(|l| l.contains("Rotavirus")).unwrap();
    assert!(rota.contains("SCID suspected"), "{rota}");

    let hearing = phone.ok(&[
        "screening",
        "hearing",
        "ada",
        "--date",
        "2026-03-03",
        "--left",
        "clear-response",
        "--right",
        "no-clear-response",
        "--outcome",
        "targeted-follow-up",
    ]);
    assert_eq!(phone.current_body(&hearing)["right"], "no_clear_response");
    let nipe = phone.ok(&[
        "screening",
        "nipe",
        "ada",
        "--date",
        "2026-03-02",
        "--stage",
        "newborn",
        "--hips",
        "normal",
        "--eyes",
        "normal",
        "--heart",
        "referred",
    ]);
    assert_eq!(phone.current_body(&nipe)["heart"], "referred");
    let birth = phone.ok(&[
        "birth",
        "ada",
        "--gestation",
        "39+4",
        "--weight-kg",
        "3.41",
        "--delivery",
        "spontaneous-vaginal",
        "--apgar-5-min",
        "9",
    ]);
    let body = phone.current_body(&birth);
    assert_eq!(body["type"], "birth_details");
    assert_eq!(body["birth_weight_kg"], 3.41);
    assert_eq!(body["delivery_mode"], "spontaneous_vaginal");
}

#[test]
fn a_wrong_screening_value_is_one_line_naming_every_choice_never_the_value() {
    let phone = Phone::with_ada();
    let base = [
        "screening",
        "blood-spot",
        "ada",
        "--sample-date",
        "2026-03-06",
    ];
    let unknown = phone.fails(&[&base[..], &["--result", "scid=maybe"]].concat());
    for choice in [
        "not-suspected",
        "suspected",
        "carrier-detected",
        "repeat-required",
        "not-screened",
        "declined",
    ] {
        assert!(unknown.contains(choice), "{unknown}");
    }
    assert!(!unknown.contains("maybe"), "{unknown}");
    let condition = phone.fails(&[&base[..], &["--result", "xyz=suspected"]].concat());
    for choice in [
        "pku", "scd", "cf", "cht", "mcadd", "hcu", "msud", "ga1", "iva", "ht1", "scid",
    ] {
        assert!(condition.contains(choice), "{condition}");
    }
    let twice = phone.fails(
        &[
            &base[..],
            &[
                "--result",
                "scid=suspected",
                "--result",
                "scid=not-suspected",
            ],
        ]
        .concat(),
    );
    assert!(twice.contains("scid twice"), "{twice}");
    let none = phone.fails(&base);
    assert!(none.contains("--result"), "{none}");
    let ear = phone.fails(&[
        "screening",
        "hearing",
        "ada",
        "--date",
        "2026-03-03",
        "--left",
        "deaf",
        "--right",
        "clear-response",
        "--outcome",
        "discharged",
    ]);
    assert!(
        ear.contains("clear-response, no-clear-response, not-tested"),
        "{ear}"
    );
    let help = phone.ok(&["screening", "blood-spot", "--help"]);
    assert!(help.contains("declined"), "{help}");
}

#[test]
fn amend_corrects_every_kind_the_cli_writes_and_keeps_the_original() {
    let phone = Phone::with_ada();
    let cases: Vec<(Vec<&str>, Vec<&str>, &str, serde_json::Value)> = vec![
        (
            vec![
                "measure",
                "ada",
                "--date",
                "2026-04-01",
                "--weight-kg",
                "4.4",
            ],
            vec!["measure", "--date", "2026-04-01", "--weight-kg", "4.5"],
            "weight_kg",
            serde_json::json!(4.5),
        ),
        (
            vec![
                "immunise",
                "ada",
                "--date",
                "2026-04-26",
                "--vaccine",
                "6-in-1",
                "--dose",
                "1",
            ],
            vec![
                "immunise",
                "--date",
                "2026-04-26",
                "--vaccine",
                "6-in-1",
                "--dose",
                "1",
                "--batch",
                "AB12",
            ],
            "batch",
            serde_json::json!("AB12"),
        ),
        (
            vec!["note", "ada", "--text", "Smiled", "--date", "2026-04-02"],
            vec!["note", "--text", "Smiled at Dad", "--date", "2026-04-02"],
            "text",
            serde_json::json!("Smiled at Dad"),
        ),
        (
            vec!["risk", "ada", "chickenpox", "--date", "2026-05-01"],
            vec!["risk", "chickenpox", "--ruled-out", "--date", "2026-05-01"],
            "present",
            serde_json::json!(false),
        ),
        (
            vec![
                "parents",
                "ada",
                "--mother-cm",
                "165",
                "--said",
                "--date",
                "2026-04-01",
            ],
            vec![
                "parents",
                "--mother-cm",
                "168",
                "--said",
                "--date",
                "2026-04-01",
            ],
            "mother_cm",
            serde_json::json!(168.0),
        ),
        (
            vec![
                "screening",
                "blood-spot",
                "ada",
                "--sample-date",
                "2026-03-06",
                "--result",
                "scid=suspected",
            ],
            vec![
                "blood-spot",
                "--sample-date",
                "2026-03-06",
                "--result",
                "scid=not-suspected",
            ],
            "results",
            serde_json::json!([{ "condition": "SCID", "outcome": "not_suspected" }]),
        ),
        (
            vec![
                "screening",
                "hearing",
                "ada",
                "--date",
                "2026-03-03",
                "--left",
                "clear-response",
                "--right",
                "not-tested",
                "--outcome",
                "targeted-follow-up",
            ],
            vec![
                "hearing",
                "--date",
                "2026-03-03",
                "--left",
                "clear-response",
                "--right",
                "clear-response",
                "--outcome",
                "discharged",
            ],
            "outcome",
            serde_json::json!("discharged"),
        ),
        (
            vec![
                "screening",
                "nipe",
                "ada",
                "--date",
                "2026-03-02",
                "--stage",
                "newborn",
                "--hips",
                "normal",
                "--eyes",
                "normal",
                "--heart",
                "normal",
            ],
            vec![
                "nipe",
                "--date",
                "2026-03-02",
                "--stage",
                "newborn",
                "--hips",
                "referred",
                "--eyes",
                "normal",
                "--heart",
                "normal",
            ],
            "hips",
            serde_json::json!("referred"),
        ),
        (
            vec!["birth", "ada", "--weight-kg", "3.41"],
            vec!["birth", "--weight-kg", "3.24"],
            "birth_weight_kg",
            serde_json::json!(3.24),
        ),
    ];
    for (add, amend, field, corrected) in cases {
        let original = phone.ok(&add);
        let amend_args = [&["amend", "ada", &original][..], &amend[..]].concat();
        let correction = phone.ok(&amend_args);
        assert_eq!(phone.current_body(&correction)[field], corrected, "{add:?}");
        // The original stays, marked amended by the correction.
        assert_eq!(
            phone.status(&original),
            serde_json::json!({ "state": "amended", "by": correction }),
            "{add:?}"
        );
    }
}

#[test]
fn amending_with_another_kind_names_both_kinds_in_plain_words() {
    let phone = Phone::with_ada();
    let jab = phone.ok(&[
        "immunise",
        "ada",
        "--date",
        "2026-04-26",
        "--vaccine",
        "MenB",
        "--dose",
        "1",
    ]);
    let wrong = phone.fails(&[
        "amend",
        "ada",
        &jab,
        "measure",
        "--date",
        "2026-04-26",
        "--weight-kg",
        "4.5",
    ]);
    assert!(
        wrong.contains("this is a measurement, the entry is a vaccination"),
        "{wrong}"
    );
    // One screening test is not corrected by another.
    let hearing = phone.ok(&[
        "screening",
        "hearing",
        "ada",
        "--date",
        "2026-03-03",
        "--left",
        "clear-response",
        "--right",
        "clear-response",
        "--outcome",
        "discharged",
    ]);
    let wrong = phone.fails(&[
        "amend",
        "ada",
        &hearing,
        "blood-spot",
        "--sample-date",
        "2026-03-06",
        "--result",
        "pku=not-suspected",
    ]);
    assert!(
        wrong.contains("this is a blood spot result, the entry is a hearing screen"),
        "{wrong}"
    );
    // Without a kind: the kinds are listed.
    let help = phone.run(&["amend", "ada", &jab]);
    assert!(!help.status.success());
    let listed = stderr(&help) + &String::from_utf8_lossy(&help.stdout);
    for kind in [
        "measure",
        "immunise",
        "note",
        "risk",
        "blood-spot",
        "hearing",
        "nipe",
        "birth",
    ] {
        assert!(listed.contains(kind), "{kind}: {listed}");
    }
}
