//! The `redbook` CLI as a person runs it: real binary, real files, exit codes, stderr.

use std::path::Path;
use std::process::{Command, Output};

fn redbook(db: &Path, passphrase: &str, args: &[&str]) -> Output {
    redbook_with(db, passphrase, args, &[])
}

/// `redbook` with more of the environment set (the recovery words).
fn redbook_with(db: &Path, passphrase: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redbook"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("REDBOOK_PASSPHRASE", passphrase)
        .env_remove("REDBOOK_NEW_PASSPHRASE")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// The recovery kit's words where the CLI shows them: a line of 12.
fn twelve_words(shown: &str) -> &str {
    shown
        .lines()
        .map(str::trim)
        .find(|line| line.split(' ').count() == 12)
        .unwrap_or_else(|| panic!("no words in {shown}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_parent_records_and_reads_back_a_childs_entries() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("family.db");
    assert!(redbook(&db, "test passphrase", &["init"]).status.success());
    let add = redbook(
        &db,
        "test passphrase",
        &[
            "child",
            "add",
            "--name",
            "Ada Lovelace",
            "--birth-date",
            "2026-03-01",
            "--sex",
            "female",
            "--gestation",
            "38+2",
            "--nhs-number",
            "943 476 5919",
        ],
    );
    assert!(add.status.success(), "{}", stderr(&add));
    let id = stdout(&add).trim().to_string();
    assert_eq!(id.len(), 32);
    for args in [
        vec![
            "measure",
            "ada",
            "--date",
            "2026-04-01",
            "--weight-kg",
            "4.4",
            "--length-cm",
            "55",
        ],
        vec![
            "immunise",
            &id,
            "--date",
            "2026-05-01",
            "--vaccine",
            "6-in-1",
            "--dose",
            "1",
            "--batch",
            "AB12",
        ],
        vec![
            "note",
            "Ada",
            "--text",
            "Loves bath time",
            "--date",
            "2026-05-02",
        ],
    ] {
        let out = redbook(&db, "test passphrase", &args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    let show = redbook(&db, "test passphrase", &["show", "ada", "--json"]);
    assert!(show.status.success());
    let record: serde_json::Value = serde_json::from_str(&stdout(&show)).unwrap();
    assert_eq!(record["details"]["name"], "Ada Lovelace");
    assert_eq!(record["details"]["nhs_number"], "9434765919");
    assert_eq!(record["entries"].as_array().unwrap().len(), 3);
    let human = stdout(&redbook(&db, "test passphrase", &["show", "ada"]));
    assert!(human.contains("6-in-1 dose 1 (batch AB12)"), "{human}");
    let history = stdout(&redbook(&db, "test passphrase", &["history", "ada"]));
    assert_eq!(history.lines().count(), 3);
    let list: serde_json::Value = serde_json::from_str(&stdout(&redbook(
        &db,
        "test passphrase",
        &["child", "list", "--json"],
    )))
    .unwrap();
    assert_eq!(list["children"][0]["entry_count"], 3);
    // Found by NHS number (typed as on the card) and by the start of a name.
    let found: serde_json::Value = serde_json::from_str(&stdout(&redbook(
        &db,
        "test passphrase",
        &["child", "find", "943", "476", "5919", "--json"],
    )))
    .unwrap();
    assert_eq!(found[0]["id"], id.as_str());
    let by_name = stdout(&redbook(&db, "test passphrase", &["child", "find", "love"]));
    assert!(by_name.contains("Ada Lovelace"), "{by_name}");
    assert!(by_name.contains("NHS 943 476 5919"), "{by_name}");
    let nobody = redbook(&db, "test passphrase", &["child", "find", "4505577104"]);
    assert!(nobody.status.success());
    assert_eq!(stdout(&nobody).trim(), "No child found.");
    let mistyped = redbook(&db, "test passphrase", &["child", "find", "9434765918"]);
    assert!(!mistyped.status.success());
    assert!(
        stderr(&mistyped).contains("invalid NHS number"),
        "{}",
        stderr(&mistyped)
    );
    assert!(
        !stderr(&mistyped).contains("9434765918"),
        "never echoes the value"
    );
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("family.db");
    assert!(redbook(&db, "test passphrase", &["init"]).status.success());
    for name in ["Ada Lovelace", "Mary Somerville"] {
        let add = redbook(
            &db,
            "test passphrase",
            &[
                "child",
                "add",
                "--name",
                name,
                "--birth-date",
                "2026-03-01",
                "--sex",
                "female",
                "--gestation",
                "39+0",
            ],
        );
        assert!(add.status.success(), "{}", stderr(&add));
    }
    // `true` has gone before the database is even unlocked: every line meets a closed pipe.
    let piped = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" --db "$1" child list | true"#)
        .arg(env!("CARGO_BIN_EXE_redbook"))
        .arg(&db)
        .env("REDBOOK_PASSPHRASE", "test passphrase")
        .output()
        .unwrap();
    assert!(piped.status.success());
    assert_eq!(stderr(&piped), "", "no panic, no backtrace");
}

#[test]
fn bad_input_gets_one_clear_line_and_a_failing_exit_code() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("family.db");
    redbook(&db, "test passphrase", &["init"]);
    redbook(
        &db,
        "test passphrase",
        &[
            "child",
            "add",
            "--name",
            "Ada",
            "--birth-date",
            "2026-03-01",
            "--sex",
            "female",
            "--gestation",
            "40+0",
        ],
    );
    let cases: [(&[&str], &str, &str); 5] = [
        (
            &[
                "measure",
                "ada",
                "--date",
                "2026-04-01",
                "--weight-kg",
                "900",
            ],
            "test passphrase",
            "invalid weight: must be between",
        ),
        (
            &["measure", "ada", "--date", "2099-04-01", "--weight-kg", "4"],
            "test passphrase",
            "invalid date: is in the future",
        ),
        (
            &[
                "measure",
                "nobody",
                "--date",
                "2026-04-01",
                "--weight-kg",
                "4",
            ],
            "test passphrase",
            "no such child",
        ),
        (&["show", "ada"], "wrong", "wrong passphrase or key"),
        (
            &[
                "child",
                "add",
                "--name",
                "B",
                "--birth-date",
                "2026-01-01",
                "--sex",
                "male",
                "--gestation",
                "39+4",
                "--nhs-number",
                "1234567890",
            ],
            "test passphrase",
            "invalid NHS number",
        ),
    ];
    for (args, passphrase, expected) in cases {
        let out = redbook(&db, passphrase, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            !err.contains("1234567890"),
            "personal data in an error: {err}"
        );
    }
    let not_ours = dir.path().join("notes.txt");
    std::fs::write(&not_ours, "shopping").unwrap();
    let out = redbook(&not_ours, "test passphrase", &["child", "list"]);
    assert!(stderr(&out).contains("not a redbook database"));
    assert_eq!(std::fs::read_to_string(&not_ours).unwrap(), "shopping");
}

#[test]
fn argument_errors_name_the_argument_its_choices_and_the_commands_help() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("family.db");
    let cases: [(&[&str], &[&str]); 6] = [
        (
            &["sync", "ada", "--relay", "127.0.0.1:8787"],
            &["invalid relay: is an address starting http:// or https://"],
        ),
        (
            &["child", "add", "--name", "Ada Lovelace"],
            &[
                "missing --birth-date <YYYY-MM-DD>",
                "--sex <SEX>",
                "see `redbook child add --help`",
            ],
        ),
        (
            &["growth", "ada", "--measure", "wieght"],
            &[
                "invalid value for --measure <MEASURE>: weight, length, height, head or bmi",
                "see `redbook growth --help`",
            ],
        ),
        (
            &["child", "add", "--nmae", "Ada Lovelace"],
            &["unexpected argument (did you mean --name?)"],
        ),
        (
            &[
                "measure",
                "ada",
                "--date",
                "2026-04-01",
                "--weight-kg",
                "-3",
            ],
            &["invalid weight: must be between"],
        ),
        (
            &["child", "add", "--sex", "other", "--name", "B"],
            &[
                "invalid value for --sex <SEX>",
                "see `redbook child add --help`",
            ],
        ),
    ];
    assert!(redbook(&db, "test passphrase", &["init"]).status.success());
    let add = redbook(
        &db,
        "test passphrase",
        &[
            "child",
            "add",
            "--name",
            "Ada Lovelace",
            "--birth-date",
            "2026-03-01",
            "--sex",
            "female",
            "--gestation",
            "39+0",
        ],
    );
    assert!(add.status.success(), "{}", stderr(&add));
    for (args, expected) in cases {
        let out = redbook(&db, "test passphrase", args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        for words in expected {
            assert!(err.contains(words), "{args:?}: {err}");
        }
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            !err.contains("wieght") && !err.contains("nmae"),
            "echoes what was typed: {err}"
        );
    }
}

#[test]
fn changing_the_passphrase_locks_out_the_old_one() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("family.db");
    redbook(&db, "old passphrase", &["init"]);
    let change = Command::new(env!("CARGO_BIN_EXE_redbook"))
        .args(["--db", db.to_str().unwrap(), "passphrase", "change"])
        .env("REDBOOK_PASSPHRASE", "old passphrase")
        .env("REDBOOK_NEW_PASSPHRASE", "new passphrase")
        .output()
        .unwrap();
    assert!(change.status.success(), "{}", stderr(&change));
    assert!(!redbook(&db, "old passphrase", &["child", "list"])
        .status
        .success());
    assert!(redbook(&db, "new passphrase", &["child", "list"])
        .status
        .success());
}

#[test]
fn the_demo_runs_and_checks_nothing_is_readable_on_disk() {
    let dir = tempfile::TempDir::new().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_redbook"))
        .args(["demo", "--dir"])
        .arg(dir.path().join("demo"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("passphrase:"),
        "the demo announces its passphrase"
    );
    assert!(text.contains("Amara Okafor") && text.contains("Kofi Okafor"));
    assert!(text.contains("Checked: none of"), "{text}");
    assert!(
        text.contains("Genuine: printed by Mum (Ngozi) (parent), a member of this record"),
        "{text}"
    );
    // A change of members: the removed surgery is told in words, a rename shows everywhere.
    assert!(
        text.contains("removed this phone from Amara Okafor's record on"),
        "{text}"
    );
    assert!(
        text.contains("on clinic's device: Tunde's phone, added by"),
        "{text}"
    );
    // It can run again over its own folder.
    let again = Command::new(env!("CARGO_BIN_EXE_redbook"))
        .args(["demo", "--dir"])
        .arg(dir.path().join("demo"))
        .output()
        .unwrap();
    assert!(again.status.success());
}

#[test]
fn due_vaccines_by_date_of_birth_and_for_a_recorded_child() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("family.db");
    let out = Command::new(env!("CARGO_BIN_EXE_redbook"))
        .args([
            "due",
            "--birth-date",
            "2025-01-01",
            "--on",
            "2026-01-10",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let items = report["immunisations"].as_array().unwrap();
    let find = |vaccine: &str, dose: u64| {
        items
            .iter()
            .find(|i| i["vaccine"] == vaccine && i["dose"] == dose)
            .unwrap_or_else(|| panic!("{vaccine} #{dose}"))
    };
    assert_eq!(find("MMRV", 1)["due_date"], "2026-01-01");
    assert_eq!(find("MMRV", 1)["status"], "due");
    assert_eq!(find("6-in-1", 4)["status"], "upcoming");

    redbook(&db, "test passphrase", &["init"]);
    redbook(
        &db,
        "test passphrase",
        &[
            "child",
            "add",
            "--name",
            "Ada",
            "--birth-date",
            "2026-09-01",
            "--sex",
            "female",
            "--gestation",
            "40+0",
        ],
    );
    let immunise = redbook(
        &db,
        "test passphrase",
        &[
            "immunise",
            "ada",
            "--date",
            "2026-10-27",
            "--vaccine",
            "Infanrix hexa",
            "--dose",
            "1",
        ],
    );
    assert!(immunise.status.success(), "{}", stderr(&immunise));
    let out = redbook(
        &db,
        "test passphrase",
        &["due", "ada", "--on", "2026-11-20", "--json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let items = report["immunisations"].as_array().unwrap();
    let six_in_one = items
        .iter()
        .find(|i| i["vaccine"] == "6-in-1" && i["dose"] == 1)
        .unwrap();
    assert_eq!(six_in_one["status"], "given");
    let menb = items
        .iter()
        .find(|i| i["vaccine"] == "MenB" && i["dose"] == 1)
        .unwrap();
    assert_eq!(menb["status"], "due");
    let human = stdout(&redbook(
        &db,
        "test passphrase",
        &["due", "ada", "--on", "2026-11-20"],
    ));
    assert!(human.contains("Next reminders"), "{human}");

    let before_birth = redbook(
        &db,
        "test passphrase",
        &["due", "ada", "--on", "2026-08-01"],
    );
    assert!(
        stderr(&before_birth).contains("invalid on"),
        "{}",
        stderr(&before_birth)
    );
}

#[test]
fn centile_of_the_worked_example_and_clear_errors_without_the_uk90_pack() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_redbook"))
            .args(args)
            .env_remove("REDBOOK_UK90_PACK")
            .output()
            .unwrap()
    };
    let out = run(&[
        "centile",
        "--sex",
        "male",
        "--birth-date",
        "2026-01-01",
        "--gestation",
        "40+0",
        "--date",
        "2026-05-01",
        "--weight-kg",
        "7.2",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let a: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(a["reference"], "who_2006_infant");
    assert!((a["z"].as_f64().unwrap() - 0.2873).abs() < 1e-4);
    assert!((a["centile"].as_f64().unwrap() - 61.31).abs() < 0.01);
    assert_eq!(
        (
            a["chronological_age_days"].as_i64(),
            a["corrected_age_days"].as_i64()
        ),
        (Some(120), Some(120))
    );
    assert_eq!(a["flags"], serde_json::json!([]));
    assert_eq!(a["description"], "between the 50th and 75th centile");

    let preterm = run(&[
        "centile",
        "--sex",
        "female",
        "--birth-date",
        "2026-01-01",
        "--gestation",
        "30+0",
        "--date",
        "2026-01-20",
        "--weight-kg",
        "1.5",
    ]);
    assert_eq!(preterm.status.code(), Some(1));
    assert!(
        stderr(&preterm).contains("UK90 preterm and newborn charts are not installed"),
        "{}",
        stderr(&preterm)
    );
    let impossible = run(&[
        "centile",
        "--sex",
        "male",
        "--birth-date",
        "2026-01-01",
        "--gestation",
        "40+0",
        "--date",
        "2026-05-01",
        "--weight-kg",
        "70",
    ]);
    assert!(
        stderr(&impossible).contains("impossible for the child's age"),
        "{}",
        stderr(&impossible)
    );
    let future = run(&[
        "centile",
        "--sex",
        "male",
        "--birth-date",
        "2026-01-01",
        "--gestation",
        "40+0",
        "--date",
        "2025-05-01",
        "--weight-kg",
        "7",
    ]);
    assert!(
        stderr(&future).contains("before the date of birth"),
        "{}",
        stderr(&future)
    );
}

#[test]
fn a_childs_growth_chart_is_written_as_svg() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("family.db");
    redbook(&db, "test passphrase", &["init"]);
    redbook(
        &db,
        "test passphrase",
        &[
            "child",
            "add",
            "--name",
            "Ada",
            "--birth-date",
            "2026-01-01",
            "--sex",
            "female",
            "--gestation",
            "40+0",
        ],
    );
    for (date, kg) in [
        ("2026-02-01", "4.2"),
        ("2026-04-01", "5.9"),
        ("2026-07-01", "7.3"),
    ] {
        assert!(redbook(
            &db,
            "test passphrase",
            &["measure", "ada", "--date", date, "--weight-kg", kg]
        )
        .status
        .success());
    }
    let svg_path = dir.path().join("weight.svg");
    let out = redbook(
        &db,
        "test passphrase",
        &[
            "chart",
            "ada",
            "--measure",
            "weight",
            "--out",
            svg_path.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.contains("<title id=\"chart-title\">Weight (kg) for a girl"));
    // A printed chart must not be mistaken for another child's.
    assert!(svg.contains(">Ada \u{b7} born 1 Jan 2026 \u{b7} no NHS number on record<"));
    let growth: serde_json::Value = serde_json::from_str(&stdout(&redbook(
        &db,
        "test passphrase",
        &["growth", "ada", "--measure", "weight", "--json"],
    )))
    .unwrap();
    assert_eq!(growth["points"].as_array().unwrap().len(), 3);
    assert_eq!(
        growth["points"][0]["assessment"]["reference"],
        "who_2006_infant"
    );
}

#[test]
fn a_parent_shares_with_a_health_visitor_and_they_sync() {
    let dir = tempfile::TempDir::new().unwrap();
    let (mum, hv) = (dir.path().join("mum.db"), dir.path().join("hv.db"));
    redbook(&mum, "mum test passphrase", &["init"]);
    redbook(&hv, "hv test passphrase", &["init"]);
    assert!(redbook(
        &hv,
        "hv test passphrase",
        &[
            "device",
            "set",
            "--role",
            "health-visitor",
            "--name",
            "HV Jo",
            "--organisation",
            "RQX"
        ]
    )
    .status
    .success());
    let card: serde_json::Value = serde_json::from_str(&stdout(&redbook(
        &hv,
        "hv test passphrase",
        &["device", "show", "--json"],
    )))
    .unwrap();
    redbook(
        &mum,
        "mum test passphrase",
        &[
            "child",
            "add",
            "--name",
            "Ada",
            "--birth-date",
            "2026-03-01",
            "--sex",
            "female",
            "--gestation",
            "39+0",
        ],
    );
    redbook(
        &mum,
        "mum test passphrase",
        &[
            "measure",
            "ada",
            "--date",
            "2026-04-01",
            "--weight-kg",
            "4.3",
        ],
    );
    let invitation = dir.path().join("invitation.bin");
    let share = redbook(
        &mum,
        "mum test passphrase",
        &[
            "share",
            "ada",
            "--to",
            card["card"].as_str().unwrap(),
            "--out",
            invitation.to_str().unwrap(),
        ],
    );
    assert!(share.status.success(), "{}", stderr(&share));
    assert!(std::fs::metadata(&invitation).unwrap().len() < 1024);
    assert!(redbook(
        &hv,
        "hv test passphrase",
        &["accept", invitation.to_str().unwrap()]
    )
    .status
    .success());
    assert!(stderr(&redbook(
        &mum,
        "mum test passphrase",
        &["accept", invitation.to_str().unwrap()]
    ))
    .contains(
        "invalid invitation: it was made for another device: show the inviter this device's card"
    ));

    let sync = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_redbook"))
            .args(["--db", mum.to_str().unwrap()])
            .args(args)
            .env("REDBOOK_PASSPHRASE", "mum test passphrase")
            .env("REDBOOK_PEER_PASSPHRASE", "hv test passphrase")
            .output()
            .unwrap()
    };
    let out = sync(&["sync", "ada", "--with", hv.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    redbook(
        &hv,
        "hv test passphrase",
        &[
            "immunise",
            "ada",
            "--date",
            "2026-05-01",
            "--vaccine",
            "6-in-1",
            "--dose",
            "1",
        ],
    );
    assert!(sync(&["sync", "ada", "--with", hv.to_str().unwrap()])
        .status
        .success());
    let shown = stdout(&redbook(&mum, "mum test passphrase", &["show", "ada"]));
    assert!(
        shown.contains("6-in-1 dose 1")
            && shown.contains("HV Jo (health visitor, RQX, role not confirmed), verified"),
        "{shown}"
    );
    let members = stdout(&redbook(&mum, "mum test passphrase", &["members", "ada"]));
    assert_eq!(members.lines().count(), 2, "{members}");

    // Store and forward: a bundle file, imported twice.
    redbook(
        &hv,
        "hv test passphrase",
        &[
            "note",
            "ada",
            "--text",
            "seen at clinic",
            "--date",
            "2026-05-01",
        ],
    );
    let bundle = dir.path().join("bundle.bin");
    assert!(redbook(
        &hv,
        "hv test passphrase",
        &["bundle", "export", "ada", "--out", bundle.to_str().unwrap()]
    )
    .status
    .success());
    assert!(stdout(&redbook(
        &mum,
        "mum test passphrase",
        &["bundle", "import", bundle.to_str().unwrap()]
    ))
    .contains("new entries"));
    assert!(stdout(&redbook(
        &mum,
        "mum test passphrase",
        &["bundle", "import", bundle.to_str().unwrap()]
    ))
    .contains("nothing new"));
    std::fs::write(&bundle, b"RBS1 not really").unwrap();
    let bad = redbook(
        &mum,
        "mum test passphrase",
        &["bundle", "import", bundle.to_str().unwrap()],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("malformed"), "{}", stderr(&bad));
}

#[test]
fn a_parent_hands_the_record_over_as_fhir_and_as_a_printable_summary() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("family.db");
    assert!(redbook(&db, "test passphrase", &["init"]).status.success());
    let add = redbook(
        &db,
        "test passphrase",
        &[
            "child",
            "add",
            "--name",
            "Ada Lovelace",
            "--birth-date",
            "2026-03-01",
            "--sex",
            "female",
            "--gestation",
            "38+2",
        ],
    );
    assert!(add.status.success(), "{}", stderr(&add));
    let measure = redbook(
        &db,
        "test passphrase",
        &[
            "measure",
            "ada",
            "--date",
            "2026-04-01",
            "--weight-kg",
            "4.4",
        ],
    );
    assert!(measure.status.success(), "{}", stderr(&measure));

    let fhir = dir.path().join("ada.json");
    let export = redbook(
        &db,
        "test passphrase",
        &["export", "ada", "--fhir", "--out", fhir.to_str().unwrap()],
    );
    assert!(export.status.success(), "{}", stderr(&export));
    // Kept for the HL7 validator (scripts/test.sh), as every export the tests make.
    if let Some(kept) = std::env::var_os("REDBOOK_FHIR_EXPORTS") {
        std::fs::create_dir_all(&kept).unwrap();
        std::fs::copy(&fhir, std::path::Path::new(&kept).join("cli-ada.json")).unwrap();
    }
    let summary = dir.path().join("ada.html");
    let printed = redbook(
        &db,
        "test passphrase",
        &[
            "export",
            "ada",
            "--summary",
            "--out",
            summary.to_str().unwrap(),
        ],
    );
    assert!(printed.status.success(), "{}", stderr(&printed));
    assert!(std::fs::read_to_string(&summary)
        .unwrap()
        .contains("Ada Lovelace"));

    // Read into a GP's database.
    let gp = dir.path().join("gp.db");
    assert!(redbook(&gp, "gp test passphrase", &["init"])
        .status
        .success());
    let import = redbook(
        &gp,
        "gp test passphrase",
        &["import", "--fhir", fhir.to_str().unwrap()],
    );
    assert!(import.status.success(), "{}", stderr(&import));
    let show = redbook(&gp, "gp test passphrase", &["show", "ada"]);
    assert!(
        stdout(&show).contains("weight 4.40 kg"),
        "{}",
        stdout(&show)
    );

    // A file that is not a Bundle: one line on stderr, non-zero exit, nothing added.
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{\"resourceType\": \"Patient\"}").unwrap();
    let refused = redbook(
        &gp,
        "gp test passphrase",
        &["import", "--fhir", junk.to_str().unwrap()],
    );
    assert!(!refused.status.success());
    assert_eq!(
        stderr(&refused).trim().lines().count(),
        1,
        "{}",
        stderr(&refused)
    );
    assert_eq!(
        stdout(&redbook(&gp, "gp test passphrase", &["child", "list"]))
            .lines()
            .count(),
        1
    );
    // A GP system's weight for Ada, in UK Core: added, not verified; its BMI sibling is
    // reported, not kept.
    let gp_file = dir.path().join("gp-weight.json");
    std::fs::write(
        &gp_file,
        r#"{"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {"resourceType": "Observation", "id": "w1", "status": "final",
              "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
              "subject": {"reference": "Patient/ada"}, "effectiveDateTime": "2026-05-01",
              "valueQuantity": {"value": 5100, "unit": "g", "system": "http://unitsofmeasure.org", "code": "g"}}},
            {"resource": {"resourceType": "Observation", "id": "b1", "status": "final",
              "code": {"coding": [{"system": "http://loinc.org", "code": "39156-5"}]},
              "subject": {"reference": "Patient/ada"}, "effectiveDateTime": "2026-05-01",
              "valueQuantity": {"value": 15, "code": "kg/m2"}}}]}"#,
    )
    .unwrap();
    let into = redbook(
        &db,
        "test passphrase",
        &[
            "import",
            "--fhir",
            "--into",
            "ada",
            gp_file.to_str().unwrap(),
        ],
    );
    assert!(into.status.success(), "{}", stderr(&into));
    assert!(stdout(&into).contains("1 entry added"), "{}", stdout(&into));
    assert!(
        stdout(&into).contains("Observation/b1: a body mass index is computed"),
        "{}",
        stdout(&into)
    );
    let show = redbook(&db, "test passphrase", &["show", "ada"]);
    assert!(
        stdout(&show).contains("weight 5.10 kg"),
        "{}",
        stdout(&show)
    );

    // Neither format nor both: clap says so.
    assert!(
        !redbook(&db, "test passphrase", &["export", "ada", "--out", "x"])
            .status
            .success()
    );
}

#[test]
fn argument_errors_are_one_line_without_the_value_and_files_are_private() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("family.db");
    // A passphrase too short for a new database.
    let short = redbook(&db, "short", &["init"]);
    assert_eq!(short.status.code(), Some(1));
    assert!(stderr(&short).contains("at least 8 characters"));
    assert!(redbook(&db, "test passphrase", &["init"]).status.success());
    // A date of birth that is not a date: named, never echoed.
    for args in [
        &[
            "child",
            "add",
            "--name",
            "Ada Lovelace",
            "--birth-date",
            "1815-13-10",
            "--sex",
            "female",
        ][..],
        &[
            "centile",
            "--sex",
            "male",
            "--birth-date",
            "2026-01-01",
            "--gestation",
            "40+0",
            "--date",
            "2026-02-01",
            "--weight-kg",
            "four point two",
        ][..],
        &["child", "add", "--nmae", "Ada Lovelace"][..],
    ] {
        let out = redbook(&db, "test passphrase", args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        for value in ["1815-13-10", "four point two", "Ada Lovelace", "nmae"] {
            assert!(!err.contains(value), "echoed {value}: {err}");
        }
    }
    // What the CLI writes is readable by this user only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let add = redbook(
            &db,
            "test passphrase",
            &[
                "child",
                "add",
                "--name",
                "Ada",
                "--birth-date",
                "2026-03-01",
                "--sex",
                "female",
                "--gestation",
                "40+0",
            ],
        );
        assert!(add.status.success(), "{}", stderr(&add));
        let summary = dir.path().join("ada.html");
        let export = redbook(
            &db,
            "test passphrase",
            &[
                "export",
                "Ada",
                "--summary",
                "--out",
                summary.to_str().unwrap(),
            ],
        );
        assert!(export.status.success(), "{}", stderr(&export));
        for file in [&db, &summary] {
            let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", file.display());
        }
    }
}

#[test]
fn show_on_a_damaged_record_says_it_is_damaged() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("family.db");
    assert!(redbook(&db, "test passphrase", &["init"]).status.success());
    let add = redbook(
        &db,
        "test passphrase",
        &[
            "child",
            "add",
            "--name",
            "Ada",
            "--birth-date",
            "2026-03-01",
            "--sex",
            "female",
            "--gestation",
            "40+0",
        ],
    );
    let id = stdout(&add).trim().to_string();
    assert_eq!(id.len(), 32, "{}", stdout(&add));
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE chunks SET sealed = zeroblob(40)", [])
        .unwrap();
    drop(conn);
    for query in [id.as_str(), &id[..8]] {
        let show = redbook(&db, "test passphrase", &["show", query]);
        assert_eq!(show.status.code(), Some(1));
        let err = stderr(&show);
        assert!(err.contains("is damaged"), "{err}");
        assert!(!err.contains("Ada"), "{err}");
    }
}

/// A new database holding Ada's record with one note, as a parent's phone would.
fn phone_with_ada(db: &Path, passphrase: &str) {
    assert!(redbook(db, passphrase, &["init"]).status.success());
    let add = redbook(
        db,
        passphrase,
        &[
            "child",
            "add",
            "--name",
            "Ada",
            "--birth-date",
            "2026-03-01",
            "--sex",
            "female",
            "--gestation",
            "39+0",
        ],
    );
    assert!(add.status.success(), "{}", stderr(&add));
    let note = redbook(
        db,
        passphrase,
        &[
            "note",
            "ada",
            "--text",
            "first week went well",
            "--date",
            "2026-03-08",
        ],
    );
    assert!(note.status.success(), "{}", stderr(&note));
}

/// `redbook relay serve` in its own process, killed when dropped.
struct ServedRelay(std::process::Child);

impl ServedRelay {
    /// Serves on a free loopback port with `args` (where it keeps its messages, the
    /// limits a deployer sets) once it listens; with its URL.
    fn start(args: &[&str]) -> (Self, String) {
        let listen = format!(
            "127.0.0.1:{}",
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        );
        let relay = ServedRelay(
            Command::new(env!("CARGO_BIN_EXE_redbook"))
                .args(["relay", "serve", "--listen", &listen])
                .args(args)
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        for _ in 0..100 {
            if std::net::TcpStream::connect(&listen).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        (relay, format!("http://{listen}"))
    }

    /// On a SQLite file in `data`.
    fn on_sqlite(data: &Path) -> (Self, String) {
        Self::start(&["--data", data.to_str().unwrap()])
    }
}

impl Drop for ServedRelay {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What a scenario's relay keeps its data in: a SQLite file, or a private PostgreSQL
/// server of its own.
#[derive(Clone, Copy)]
enum Backing {
    Sqlite,
    Postgres,
}

/// `redbook relay serve` on `backing`, its data under `dir/name`; the PostgreSQL server
/// (if any) stops after the relay.
struct Relay {
    _served: ServedRelay,
    url: String,
    _server: Option<redbook_relay::postgres_server::PrivateServer>,
}

impl Relay {
    fn start(backing: Backing, dir: &Path, name: &str) -> Self {
        match backing {
            Backing::Sqlite => {
                let (served, url) = ServedRelay::on_sqlite(&dir.join(name));
                Self {
                    _served: served,
                    url,
                    _server: None,
                }
            }
            Backing::Postgres => {
                let server = redbook_relay::postgres_server::PrivateServer::start().unwrap();
                let (served, url) = ServedRelay::start(&["--postgres", &server.url()]);
                Self {
                    _served: served,
                    url,
                    _server: Some(server),
                }
            }
        }
    }
}

#[test]
fn two_devices_sync_through_the_relay_the_cli_serves() {
    let dir = tempfile::TempDir::new().unwrap();
    let data = dir.path().join("relay");
    let (_relay, url) = ServedRelay::start(&[
        // Limits a deployer sets; the proxy named is not in front of this test.
        "--storage-budget-mb",
        "64",
        "--source-quota-mb",
        "16",
        "--source-requests-per-minute",
        "600",
        "--backup-quota-mb",
        "4",
        "--backup-slots-per-source",
        "4",
        "--backup-retention-days",
        "30",
        "--trust-forwarded-for",
        "10.0.0.2,10.0.0.3",
        "--data",
        data.to_str().unwrap(),
    ]);

    let (mum, hv) = (dir.path().join("mum.db"), dir.path().join("hv.db"));
    let (mum_pass, hv_pass) = ("mum test passphrase", "hv test passphrase");
    phone_with_ada(&mum, mum_pass);
    redbook(&hv, hv_pass, &["init"]);
    let set = redbook(
        &hv,
        hv_pass,
        &[
            "device",
            "set",
            "--role",
            "health-visitor",
            "--name",
            "HV Jo",
            "--organisation",
            "RQX",
        ],
    );
    assert!(set.status.success(), "{}", stderr(&set));
    let card: serde_json::Value = serde_json::from_str(&stdout(&redbook(
        &hv,
        hv_pass,
        &["device", "show", "--json"],
    )))
    .unwrap();
    let invitation = dir.path().join("invitation.bin");
    let invitation = invitation.to_str().unwrap();
    redbook(
        &mum,
        mum_pass,
        &[
            "share",
            "ada",
            "--to",
            card["card"].as_str().unwrap(),
            "--out",
            invitation,
        ],
    );
    let id = stdout(&redbook(&hv, hv_pass, &["accept", invitation]))
        .trim()
        .to_string();

    // Each turn one device runs one exchange; they are never open together.
    let mut arrived = false;
    for _ in 0..6 {
        for (db, pass, child) in [(&mum, mum_pass, "ada"), (&hv, hv_pass, id.as_str())] {
            let out = redbook(db, pass, &["sync", child, "--relay", &url, "--json"]);
            assert!(out.status.success(), "{}", stderr(&out));
            let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
            assert_eq!(report["refused"], 0, "{report}");
        }
        if stdout(&redbook(&hv, hv_pass, &["show", &id])).contains("first week went well") {
            arrived = true;
            break;
        }
    }
    assert!(
        arrived,
        "the note reached the health visitor through the relay"
    );

    let unreachable = redbook(
        &mum,
        mum_pass,
        &["sync", "ada", "--relay", "http://127.0.0.1:9"],
    );
    assert_eq!(unreachable.status.code(), Some(1));
    assert!(
        stderr(&unreachable).contains("the relay could not be reached"),
        "{}",
        stderr(&unreachable)
    );
}

#[test]
fn a_parent_makes_a_recovery_kit_and_restores_the_record_on_a_new_phone() {
    let dir = tempfile::TempDir::new().unwrap();
    let (old, new) = (dir.path().join("old.db"), dir.path().join("new.db"));
    let (old_pass, new_pass) = ("old phone passphrase", "new phone passphrase");
    phone_with_ada(&old, old_pass);
    let ben = redbook(
        &old,
        old_pass,
        &[
            "child",
            "add",
            "--name",
            "Ben",
            "--birth-date",
            "2024-05-01",
            "--sex",
            "male",
            "--gestation",
            "40+0",
        ],
    );
    assert!(ben.status.success(), "{}", stderr(&ben));
    let qr = dir.path().join("kit.svg");
    let create = redbook(
        &old,
        old_pass,
        &["recovery", "create", "--qr", qr.to_str().unwrap()],
    );
    assert!(create.status.success(), "{}", stderr(&create));
    let shown = stdout(&create);
    // Two children on this phone: the words speak of every record they cover.
    assert!(shown.contains("every child's record this phone"), "{shown}");
    assert!(!shown.contains("this child's record"), "{shown}");
    let words = twelve_words(&shown).to_string();
    let svg = std::fs::read_to_string(&qr).unwrap();
    assert!(svg.starts_with("<?xml"));
    // Captioned in the core's words, so whoever finds the paper knows what it is.
    for line in redbook_core::view::RECOVERY_KIT_CAPTION {
        assert!(svg.contains(line), "{line}");
    }
    assert!(
        !svg.contains(&words),
        "the words are in the code, never as text"
    );
    let again = redbook(&old, old_pass, &["recovery", "create"]);
    assert!(
        stderr(&again).contains("already has one"),
        "{}",
        stderr(&again)
    );
    let backup = dir.path().join("backup.bin");
    let made = redbook(
        &old,
        old_pass,
        &["recovery", "backup", "--out", backup.to_str().unwrap()],
    );
    assert!(made.status.success(), "{}", stderr(&made));

    // The new phone has no database: restoring creates it, in one command.
    let restore = |words: &str| {
        redbook_with(
            &new,
            new_pass,
            &["recovery", "restore", "--from", backup.to_str().unwrap()],
            &[("REDBOOK_RECOVERY_WORDS", words)],
        )
    };
    let done = restore(&words);
    assert!(done.status.success(), "{}", stderr(&done));
    assert!(
        stdout(&done).contains("restored 2 records; 1 lost device(s) removed"),
        "{}",
        stdout(&done)
    );
    // The words typed in are used up; the new phone's own kit is shown, once.
    let new_words = twelve_words(&stdout(&done)).to_string();
    assert_ne!(new_words, words);
    assert!(
        stdout(&done).contains("not shown again"),
        "{}",
        stdout(&done)
    );
    let wrong = restore("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about");
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        stderr(&wrong).contains("cannot be opened with these words"),
        "{}",
        stderr(&wrong)
    );
    let again = restore(&words);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(!stdout(&again).contains(&new_words), "{}", stdout(&again));
    let shown = stdout(&redbook(&new, new_pass, &["show", "ada"]));
    assert!(shown.contains("first week went well"), "{shown}");
    // The old phone never shows its words again.
    let again = redbook(&old, old_pass, &["recovery", "create"]);
    assert!(!stdout(&again).contains(&words));
}

#[test]
fn devices_are_named_at_init_renamed_for_every_member_and_an_accepted_child_is_listed_at_once() {
    let dir = tempfile::TempDir::new().unwrap();
    let (mum, hv) = (dir.path().join("mum.db"), dir.path().join("hv.db"));
    let (mum_pass, hv_pass) = ("mum test passphrase", "hv test passphrase");
    // Mum's phone was set up before it was given a name.
    let init = redbook(&mum, mum_pass, &["init"]);
    assert!(
        stdout(&init).contains("this device is \"This device\""),
        "{}",
        stdout(&init)
    );
    let init = redbook(
        &hv,
        hv_pass,
        &["init", "--device-name", "Northside clinic tablet"],
    );
    assert!(init.status.success(), "{}", stderr(&init));
    assert!(
        stdout(&init).contains("\"Northside clinic tablet\""),
        "{}",
        stdout(&init)
    );
    let set = redbook(
        &hv,
        hv_pass,
        &[
            "device",
            "set",
            "--role",
            "health-visitor",
            "--organisation",
            "RQX",
        ],
    );
    assert!(set.status.success(), "{}", stderr(&set));
    let card: serde_json::Value = serde_json::from_str(&stdout(&redbook(
        &hv,
        hv_pass,
        &["device", "show", "--json"],
    )))
    .unwrap();
    assert_eq!(
        card["display_name"], "Northside clinic tablet",
        "the name is kept"
    );
    redbook(
        &mum,
        mum_pass,
        &[
            "child",
            "add",
            "--name",
            "Ada Lovelace",
            "--birth-date",
            "2026-03-01",
            "--sex",
            "female",
            "--gestation",
            "39+0",
        ],
    );
    let measured = redbook(
        &mum,
        mum_pass,
        &[
            "measure",
            "ada",
            "--date",
            "2026-04-01",
            "--weight-kg",
            "4.3",
        ],
    );
    assert!(measured.status.success(), "{}", stderr(&measured));
    let invitation = dir.path().join("invitation.bin");
    let share = redbook(
        &mum,
        mum_pass,
        &[
            "share",
            "ada",
            "--to",
            card["card"].as_str().unwrap(),
            "--out",
            invitation.to_str().unwrap(),
        ],
    );
    assert!(share.status.success(), "{}", stderr(&share));
    let accepted = redbook(&hv, hv_pass, &["accept", invitation.to_str().unwrap()]);
    assert!(accepted.status.success(), "{}", stderr(&accepted));

    // Before any sync, the tablet lists the child by name and syncs it by name.
    let list = stdout(&redbook(&hv, hv_pass, &["child", "list"]));
    assert!(
        list.contains("Ada Lovelace") && list.contains("2026-03-01"),
        "{list}"
    );
    let shown = stdout(&redbook(&hv, hv_pass, &["show", "ada"]));
    assert!(
        shown.starts_with("Ada Lovelace  (born 2026-03-01)"),
        "{shown}"
    );
    let sync = |db: &Path, pass: &str, peer: &Path, peer_pass: &str| {
        Command::new(env!("CARGO_BIN_EXE_redbook"))
            .args(["--db", db.to_str().unwrap(), "sync", "ada", "--with"])
            .arg(peer)
            .env("REDBOOK_PASSPHRASE", pass)
            .env("REDBOOK_PEER_PASSPHRASE", peer_pass)
            .output()
            .unwrap()
    };
    let out = sync(&hv, hv_pass, &mum, mum_pass);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&redbook(&hv, hv_pass, &["show", "ada"]));
    assert!(shown.contains("This device (parent), verified"), "{shown}");

    // Mum names her phone: a signed rename every member sees after a sync. Her entry
    // shows her name now and the one she wrote it under.
    let renamed = redbook(&mum, mum_pass, &["device", "set", "--name", "Mum's phone"]);
    assert!(renamed.status.success(), "{}", stderr(&renamed));
    let out = sync(&hv, hv_pass, &mum, mum_pass);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&redbook(&hv, hv_pass, &["show", "ada"]));
    assert!(
        shown.contains("Mum's phone (was: This device) (parent), verified"),
        "{shown}"
    );
    let members = stdout(&redbook(&hv, hv_pass, &["members", "ada"]));
    assert!(
        members.contains("Mum's phone, parent, created this record")
            && members.contains("Northside clinic tablet, added by Mum's phone as health visitor"),
        "{members}"
    );
    // What she writes from now on carries her new name alone.
    redbook(
        &mum,
        mum_pass,
        &[
            "note",
            "ada",
            "--text",
            "first smile",
            "--date",
            "2026-04-20",
        ],
    );
    sync(&hv, hv_pass, &mum, mum_pass);
    let shown = stdout(&redbook(&hv, hv_pass, &["show", "ada"]));
    assert!(shown.contains("Mum's phone (parent), verified"), "{shown}");
    // A name the door refuses is one line of error, and nothing changes.
    let bad = redbook(
        &mum,
        mum_pass,
        &["device", "set", "--name", "Mum\u{1b}[31m"],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(stderr(&bad).lines().count(), 1, "{}", stderr(&bad));
}

/// One person's device in the membership scenarios: its database and passphrase.
struct Phone {
    db: std::path::PathBuf,
    passphrase: &'static str,
}

impl Phone {
    /// Runs `args`, which must succeed; what it printed.
    fn run(&self, args: &[&str]) -> String {
        self.run_with(args, &[])
    }

    fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = redbook_with(&self.db, self.passphrase, args, env);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut args = args.to_vec();
        args.push("--json");
        serde_json::from_str(&self.run(&args)).unwrap()
    }

    fn device_id(&self) -> String {
        self.json(&["device", "show"])["device_id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// One sync of Ada's record through the relay, as the app's background job runs it.
    fn sync(&self, url: &str) -> serde_json::Value {
        self.json(&["sync", "ada", "--relay", url])
    }

    fn shows(&self, text: &str) -> bool {
        self.run(&["show", "ada"]).contains(text)
    }

    fn note(&self, text: &str) {
        self.run(&["note", "ada", "--text", text, "--date", "2026-04-02"]);
    }
}

/// What a run of syncs cost until the phones settled.
#[derive(Debug, Default)]
struct Traffic {
    rounds: usize,
    posted: u64,
    bytes: u64,
}

/// Each phone syncs in turn (never two open together) until a whole round posts
/// nothing, so nothing is in flight; panics after `max_rounds`.
fn converge(phones: &[&Phone], url: &str, max_rounds: usize) -> Traffic {
    let mut traffic = Traffic::default();
    for round in 1..=max_rounds {
        let mut posted = 0;
        for phone in phones {
            let report = phone.sync(url);
            assert_eq!(report["refused"], 0, "{report}");
            posted += report["posted"].as_u64().unwrap();
            traffic.bytes +=
                report["bytes_sent"].as_u64().unwrap() + report["bytes_received"].as_u64().unwrap();
        }
        traffic.posted += posted;
        if posted == 0 {
            traffic.rounds = round;
            return traffic;
        }
    }
    panic!("the phones did not settle in {max_rounds} rounds: {traffic:?}");
}

/// One more round posts and fetches nothing: no phone sends again what its peers hold.
fn assert_quiet(phones: &[&Phone], url: &str) {
    for phone in phones {
        let report = phone.sync(url);
        assert_eq!(report["posted"], 0, "posted again once settled: {report}");
        assert_eq!(report["received"], 0, "{report}");
    }
}

/// Mum's, Dad's and Gran's phones, named as they would name them: Mum's records Ada
/// and shares her with Dad (admin) and Gran (writer), the invitations carried by hand;
/// then each syncs through the relay at `url` until they hold the same record.
fn family_sharing_ada(dir: &Path, url: &str) -> [Phone; 3] {
    let phone = |name: &str, passphrase| Phone {
        db: dir.join(format!("{name}.db")),
        passphrase,
    };
    let (mum, dad, gran) = (
        phone("mum", "mum test passphrase"),
        phone("dad", "dad test passphrase"),
        phone("gran", "gran test passphrase"),
    );
    phone_with_ada(&mum.db, mum.passphrase);
    mum.run(&["device", "set", "--name", "Mum's phone"]);
    for (member, name, access) in [
        (&dad, "Dad's phone", "admin"),
        (&gran, "Gran's phone", "writer"),
    ] {
        member.run(&["init", "--device-name", name]);
        let card = member.json(&["device", "show"])["card"]
            .as_str()
            .unwrap()
            .to_string();
        let invitation = dir.join(format!("{name}.invitation"));
        let invitation = invitation.to_str().unwrap();
        mum.run(&[
            "share", "ada", "--to", &card, "--access", access, "--out", invitation,
        ]);
        member.run(&["accept", invitation]);
    }
    converge(&[&mum, &dad, &gran], url, 12);
    assert!(gran.shows("first week went well"));
    [mum, dad, gran]
}

/// Mum removes Gran; Dad writes a note: it reaches Mum, nothing is posted twice, and
/// Gran's next sync tells her, in words, that she was removed, and posts nothing.
fn removal_then_a_note_reaches_mum(url: &str) {
    let dir = tempfile::TempDir::new().unwrap();
    let [mum, dad, gran] = family_sharing_ada(dir.path(), url);
    mum.run(&["remove-member", "ada", "--device", &gran.device_id()]);
    // Gran, not yet told, writes on.
    gran.note("Gran: knitted her a hat");
    let rekeyed = converge(&[&mum, &dad], url, 6);
    dad.note("Dad: after Gran left");
    let traffic = converge(&[&mum, &dad], url, 4);
    assert!(mum.shows("Dad: after Gran left"), "the note reached Mum");
    assert_quiet(&[&mum, &dad], url);
    eprintln!("the key replaced in {rekeyed:?}; then Dad's note in {traffic:?}");
    // Dad's note: his post and Mum's answer that she holds it, and no more.
    assert!(traffic.posted <= 2, "{traffic:?}");

    let told = gran.run(&["sync", "ada", "--relay", url]);
    assert!(
        told.starts_with("Mum's phone removed this phone from Ada's record on "),
        "{told}"
    );
    assert!(
        told.contains("what was written here after that was not shared"),
        "{told}"
    );
    let report = gran.sync(url);
    assert_eq!(
        (&report["removed"], &report["posted"]),
        (&serde_json::json!(true), &serde_json::json!(0)),
        "{report}"
    );
    assert!(!gran.shows("Dad: after Gran left"));
    assert!(gran
        .run(&["show", "ada"])
        .starts_with("Mum's phone removed this phone"));
    assert!(!mum.shows("Gran: knitted her a hat"));
    // What Gran wrote after her removal stays on her phone, and she can print it: apart,
    // said to be unshared. A professional's system is never handed it as the record's.
    let summary = dir.path().join("gran-summary.html");
    let fhir = dir.path().join("gran.fhir.json");
    gran.run(&[
        "export",
        "ada",
        "--summary",
        "--out",
        summary.to_str().unwrap(),
    ]);
    gran.run(&["export", "ada", "--fhir", "--out", fhir.to_str().unwrap()]);
    let printed = std::fs::read_to_string(&summary).unwrap();
    let apart = printed
        .split("Written on this phone after it was removed: not shared with the family")
        .nth(1)
        .unwrap_or_else(|| panic!("{printed}"));
    assert!(apart.contains("Gran: knitted her a hat"), "{apart}");
    assert!(!std::fs::read_to_string(&fhir)
        .unwrap()
        .contains("knitted her a hat"));
    let members = dad.run(&["members", "ada"]);
    assert!(
        members.contains("Gran's phone, added by Mum's phone as parent")
            && members.contains("; can write; removed by Mum's phone on "),
        "{members}"
    );
}

#[test]
fn after_mum_removes_gran_dads_note_reaches_her_through_a_relay_on_sqlite() {
    let dir = tempfile::TempDir::new().unwrap();
    let relay = Relay::start(Backing::Sqlite, dir.path(), "relay");
    removal_then_a_note_reaches_mum(&relay.url);
}

#[test]
fn after_mum_removes_gran_dads_note_reaches_her_through_a_relay_on_postgres() {
    let dir = tempfile::TempDir::new().unwrap();
    let relay = Relay::start(Backing::Postgres, dir.path(), "relay");
    removal_then_a_note_reaches_mum(&relay.url);
}

#[test]
fn mums_lost_phone_is_restored_from_the_words_and_the_relay_and_dads_note_reaches_it() {
    restore_then_a_note_reaches_the_new_phone(Backing::Sqlite);
}

#[test]
fn mums_lost_phone_is_restored_through_a_relay_on_postgres_and_dads_note_reaches_it() {
    restore_then_a_note_reaches_the_new_phone(Backing::Postgres);
}

/// Mum's phone is lost: the new phone restores from the words and the relay's backup in
/// one command; Dad's later note reaches it; the lost phone is told it was replaced.
fn restore_then_a_note_reaches_the_new_phone(backing: Backing) {
    let dir = tempfile::TempDir::new().unwrap();
    let relay = Relay::start(backing, dir.path(), "relay");
    let url = relay.url.clone();
    let [mum, dad, gran] = family_sharing_ada(dir.path(), &url);
    let kit = mum.run(&["recovery", "create"]);
    let words = twelve_words(&kit);
    // The kit's grant reaches the others, then Mum's app backs up to the relay.
    converge(&[&mum, &dad, &gran], &url, 8);
    mum.run(&["recovery", "backup", "--relay", &url]);

    // The new phone has no database: one command makes it and restores Ada's record.
    let new_phone = Phone {
        db: dir.path().join("new.db"),
        passphrase: "new phone passphrase",
    };
    let restored = new_phone.run_with(
        &[
            "recovery",
            "restore",
            "--relay",
            &url,
            "--device-name",
            "Mum's new phone",
        ],
        &[("REDBOOK_RECOVERY_WORDS", words)],
    );
    assert!(
        restored.contains("restored 1 records; 1 lost device(s) removed"),
        "{restored}"
    );
    let rekeyed = converge(&[&new_phone, &dad, &gran], &url, 8);
    dad.note("Dad: after the restore");
    let traffic = converge(&[&new_phone, &dad, &gran], &url, 4);
    assert!(new_phone.shows("Dad: after the restore"));
    assert!(gran.shows("Dad: after the restore"));
    assert_quiet(&[&new_phone, &dad, &gran], &url);
    eprintln!("after the restore, settled in {rekeyed:?}; then Dad's note in {traffic:?}");
    let members = dad.run(&["members", "ada"]);
    assert!(
        members.contains("Mum's new phone, added by the recovery kit as parent")
            && members.contains("in place of Mum's phone"),
        "{members}"
    );

    // The lost phone (or whoever has it) is told, learns nothing written after, posts
    // nothing.
    let told = mum.run(&["sync", "ada", "--relay", &url]);
    assert!(
        told.starts_with(
            "Mum's new phone, restored from the recovery kit, replaced this phone in Ada's record on "
        ),
        "{told}"
    );
    let report = mum.sync(&url);
    assert_eq!(report["posted"], 0, "{report}");
    assert!(!mum.shows("Dad: after the restore"));
}

#[test]
fn dads_new_name_shows_for_every_member_after_a_sync_through_the_relay() {
    rename_shows_for_every_member(Backing::Sqlite);
}

#[test]
fn dads_new_name_shows_for_every_member_after_a_sync_through_a_relay_on_postgres() {
    rename_shows_for_every_member(Backing::Postgres);
}

fn rename_shows_for_every_member(backing: Backing) {
    let dir = tempfile::TempDir::new().unwrap();
    let relay = Relay::start(backing, dir.path(), "relay");
    let url = relay.url.clone();
    let [mum, dad, gran] = family_sharing_ada(dir.path(), &url);
    dad.note("Dad: bath time");
    dad.run(&["device", "set", "--name", "Kwame's phone"]);
    converge(&[&mum, &dad, &gran], &url, 6);
    for member in [&mum, &dad, &gran] {
        let members = member.run(&["members", "ada"]);
        assert!(
            members.contains("Kwame's phone, added by Mum's phone as parent")
                && !members.contains("Dad's phone"),
            "{members}"
        );
        assert!(
            member.shows("Kwame's phone (was: Dad's phone) (parent), verified"),
            "{}",
            member.run(&["show", "ada"])
        );
    }
}

#[test]
fn moving_to_a_new_relay_loses_nothing_even_what_waited_on_the_old_one() {
    moving_relays_loses_nothing(Backing::Sqlite);
}

#[test]
fn moving_to_a_new_relay_on_postgres_loses_nothing_even_what_waited_on_the_old_one() {
    moving_relays_loses_nothing(Backing::Postgres);
}

/// Gran's note waits on the old relay when it closes, nobody having fetched it; on the
/// new relay (a new database) it still reaches everyone.
fn moving_relays_loses_nothing(backing: Backing) {
    let dir = tempfile::TempDir::new().unwrap();
    let old_relay = Relay::start(backing, dir.path(), "old-relay");
    let old_url = old_relay.url.clone();
    let [mum, dad, gran] = family_sharing_ada(dir.path(), &old_url);
    gran.note("Gran: knitted a hat");
    assert!(gran.sync(&old_url)["posted"].as_u64().unwrap() > 0);
    drop(old_relay);

    let relay = Relay::start(backing, dir.path(), "new-relay");
    let url = relay.url.clone();
    dad.note("Dad: on the new relay");
    let traffic = converge(&[&mum, &dad, &gran], &url, 8);
    eprintln!("on the new relay, settled in {traffic:?}");
    for member in [&mum, &dad, &gran] {
        assert!(member.shows("Gran: knitted a hat") && member.shows("Dad: on the new relay"));
    }
    assert_quiet(&[&mum, &dad, &gran], &url);
}

#[test]
fn a_value_unexpected_for_the_child_is_asked_about_then_kept_for_review_with_confirm() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("family.db");
    let run = |args: &[&str]| redbook(&db, "test passphrase", args);
    assert!(run(&["init"]).status.success());
    let born = "2026-10-01";
    let add = run(&[
        "child",
        "add",
        "--name",
        "Ada",
        "--birth-date",
        born,
        "--sex",
        "female",
        "--gestation",
        "34+2",
    ]);
    assert!(add.status.success(), "{}", stderr(&add));
    let weigh = [
        "measure",
        "ada",
        "--date",
        "2026-12-03",
        "--weight-kg",
        "35",
        "--by-parent",
    ];
    let asked = run(&weigh);
    assert_eq!(asked.status.code(), Some(1));
    assert_eq!(
        stderr(&asked).trim(),
        "redbook: A weight of 35 kg is not possible at 2 months (3 weeks corrected): more than 8 SD above the average for the age; did you mean 3.5 kg? If it is right, run the command again with --confirm: it is kept, marked for a professional to review"
    );
    assert!(
        !stdout(&run(&["show", "ada"])).contains("weight"),
        "nothing written"
    );
    let confirmed: Vec<&str> = weigh.iter().copied().chain(["--confirm"]).collect();
    assert!(run(&confirmed).status.success());
    let shown = stdout(&run(&["show", "ada"]));
    assert!(
        shown.contains("note: The weight is not possible at 2 months (3 weeks corrected): more than 8 SD above the average for the age. For a professional to review."),
        "{shown}"
    );
    let banana = run(&[
        "immunise",
        "ada",
        "--date",
        "2026-12-01",
        "--vaccine",
        "banana",
        "--dose",
        "1",
    ]);
    assert_eq!(banana.status.code(), Some(1));
    let said = stderr(&banana);
    assert!(
        said.contains("The vaccine is not one the schedule knows (6-in-1, MenB"),
        "{said}"
    );
    assert!(!said.contains("banana"), "{said}");
    let menb = run(&[
        "immunise",
        "ada",
        "--date",
        "2026-12-01",
        "--vaccine",
        "MenB",
        "--dose",
        "7",
    ]);
    assert!(stderr(&menb).contains("The dose is beyond the course: MenB has 3 doses."));
}
