//! Writes the instruction budgets' fixture files natively (`scripts/budgets.sh` runs it
//! before `cargo bench --bench budgets`, which would otherwise write them under valgrind).

#[path = "../benches/support/budget_fixtures.rs"]
mod budget_fixtures;

fn main() {
    budget_fixtures::family();
    budget_fixtures::caseload();
    println!("{}", budget_fixtures::fixtures().display());
}
