//! What is due, centiles, growth series and charts.

use redbook_core::growth::Measure;
use redbook_core::schedule::Eligibility;
use redbook_ffi::CentileQuery;
use std::path::Path;

#[derive(serde::Serialize)]
struct GrowthJson<'a> {
    #[serde(flatten)]
    series: &'a redbook_core::GrowthSeries,
    mid_parental_height: Option<redbook_core::growth::MidParentalHeight>,
    /// The sentence the text output prints, or why it cannot be worked out.
    mid_parental_height_text: Option<String>,
}

use crate::args::*;
use crate::open::*;
use crate::print::*;
use crate::{CliError, CliResult};

pub(crate) fn run(command: Command, path: &Path, out: &Output) -> CliResult {
    match command {
        Command::Due(args) => {
            let flags_given =
                args.hep_b_at_risk || args.bcg || args.flu_risk || args.had_chickenpox;
            if args.child.is_some() && flags_given {
                return Err(CliError(
                    "a child's risk factors come from their record, the same on every device: record them with `redbook risk CHILD FACTOR`; the flags are for --birth-date".into(),
                ));
            }
            let eligibility = Eligibility {
                hep_b_at_risk: args.hep_b_at_risk,
                bcg: args.bcg,
                flu_clinical_risk: args.flu_risk,
                had_chickenpox: args.had_chickenpox,
            };
            let report = match (&args.child, args.birth_date) {
                (Some(child), _) => {
                    let book = open_existing(path)?;
                    book.due(find_child(&book, child)?, args.on)?
                }
                (None, Some(birth_date)) => {
                    redbook_ffi::due_for_birth_date(birth_date, args.on, eligibility)?
                }
                (None, None) => unreachable!("clap requires one"),
            };
            out.print(&report, || print_due(&report));
        }
        Command::Centile(args) => {
            let (measure, value) = [
                (Measure::WeightKg, args.weight_kg),
                (Measure::HeightCm, args.length_cm),
                (Measure::HeightCm, args.height_cm),
                (Measure::HeadCircumferenceCm, args.head_cm),
                (Measure::Bmi, args.bmi),
            ]
            .into_iter()
            .find_map(|(m, v)| v.map(|v| (m, v)))
            .expect("clap requires one measurement");
            let query = CentileQuery {
                sex: args.sex,
                birth_date: args.birth_date,
                gestation: args.gestation.parse()?,
                date: args.date,
                measure,
                value,
            };
            let assessment = args
                .charts
                .charts()?
                .assess(query, args.charts.correction())?;
            out.print(&assessment, || print_assessment(&assessment));
        }
        Command::Growth {
            child,
            measure,
            charts,
        } => {
            let book = open_existing(path)?;
            let id = find_child(&book, &child)?;
            let refs = charts.charts()?;
            let series = book.growth(id.clone(), measure, refs.clone(), charts.correction())?;
            let mid_parental = (measure == Measure::HeightCm)
                .then(|| book.mid_parental_height(id, refs))
                .transpose();
            // The JSON carries what the text prints: the series and, for height, the
            // mid-parental height (or why there is none).
            let json = GrowthJson {
                series: &series,
                mid_parental_height: mid_parental.as_ref().ok().and_then(|m| m.clone().flatten()),
                mid_parental_height_text: match &mid_parental {
                    Ok(Some(Some(m))) => Some(redbook_core::view::mid_parental_text(m)),
                    Ok(_) => None,
                    Err(e) => Some(format!("mid-parental height: {e}")),
                },
            };
            out.print(&json, || {
                for point in &series.points {
                    match (&point.assessment, &point.problem) {
                        (Some(a), _) => println!(
                            "{}  {:>7.2}  {:<35} centile {:5.1}  z {:+.2}  ({}{})",
                            point.date,
                            point.value,
                            a.description,
                            a.centile,
                            a.z,
                            a.reference.title(),
                            if a.flags.is_empty() {
                                ""
                            } else {
                                "; implausible: please re-measure"
                            }
                        ),
                        (None, problem) => println!(
                            "{}  {:>7.2}  not charted: {}",
                            point.date,
                            point.value,
                            problem.as_deref().unwrap_or("")
                        ),
                    }
                }
                for note in redbook_core::view::growth_notes(&series) {
                    println!("{note}");
                }
                match &mid_parental {
                    Ok(Some(Some(m))) => println!("{}", redbook_core::view::mid_parental_text(m)),
                    Ok(_) => {}
                    Err(e) => println!("mid-parental height: {e}"),
                }
            });
        }
        Command::Chart {
            child,
            measure,
            out: file,
            charts,
        } => {
            let book = open_existing(path)?;
            let id = find_child(&book, &child)?;
            let svg = book.growth_chart(id, measure, charts.charts()?, charts.correction())?;
            write_file(&file, svg.as_bytes())?;
            println!("wrote {}", file.display());
        }
        _ => unreachable!("main sends each module only its own commands"),
    }
    Ok(())
}
