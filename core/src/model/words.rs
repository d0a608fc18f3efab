//! Words shared by the screens and by the checks at the door (which sit below the
//! screens): a count, a child's age.

use chrono::{Datelike, NaiveDate};

/// "1 entry", "3 entries": a count with its noun in the right number.
pub fn count(n: impl Into<i64>, one: &str, many: &str) -> String {
    match n.into() {
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}

/// A child's age as a health visitor says it: "4 days", "3 weeks", "7 months",
/// "2 years", "3 years 4 months" (whole calendar months; weeks before the first month).
pub fn child_age_text(birth: NaiveDate, on: NaiveDate) -> String {
    if on < birth {
        return "not born yet".into();
    }
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    let mut months =
        i64::from(on.year() - birth.year()) * 12 + i64::from(on.month()) - i64::from(birth.month());
    if on.day() < birth.day() {
        months -= 1;
    }
    let days = (on - birth).num_days();
    match months {
        0 if days < 14 => plural(days, "day"),
        0 => plural(days / 7, "week"),
        m if m < 24 => plural(m, "month"),
        m if m % 12 == 0 => plural(m / 12, "year"),
        m => format!("{} {}", plural(m / 12, "year"), plural(m % 12, "month")),
    }
}
