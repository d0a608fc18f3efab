//! The relay sync job's decisions: which exchange next, when a record has had enough for
//! one run, what a failure means for the run (retry later, or give up), and the recovery
//! backup after the records. A state machine with no I/O: the app's background job
//! (WorkManager, BGTaskScheduler) and the CLI carry out each step it names and tell it
//! what happened, so every platform follows one policy, tested here.

use crate::model::RecordId;
use crate::view::screens::SyncStatus;
use crate::{Error, RelayReport};
use std::collections::VecDeque;

/// Exchanges per record in one background run, while the relay says more waits: the
/// platforms give a background job minutes at most, and the next run carries on.
pub const JOB_EXCHANGES: u32 = 4;

/// Exchanges per record for a command a person waits on (`redbook sync --relay`): enough
/// for a record that was away for long to catch up in one go.
pub const COMMAND_EXCHANGES: u32 = 9;

/// What the platform's scheduler is told at the end of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobResult {
    Success,
    /// Try again later (no network, a relay down or busy): WorkManager backs off.
    Retry,
    /// The relay refuses for good; retrying would not help.
    Failure,
}

/// What the job does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncStep {
    /// One bounded exchange with the relay for this record (`RedBook::relay_exchange`);
    /// then `exchanged`, or `failed`.
    Exchange { record_id: RecordId },
    /// This device was removed from the record: fetch `removal_notice` for the person.
    RemovalNotice { record_id: RecordId },
    /// The recovery backup to the relay (`backup_to_relay`), after the records so it
    /// holds what the others sent too; then `backed_up`, or `failed`.
    Backup,
    /// The run is over.
    Done { result: JobResult },
}

/// A failed step, as the job's policy tells failures apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setback {
    /// No answer from the relay.
    Unreachable,
    /// The relay answered with this error status.
    Refused { status: u16 },
    /// The thing asked for is not there (a backup without a recovery kit).
    NotFound,
    /// Anything else: not the job's to handle.
    Other,
}

impl From<&Error> for Setback {
    fn from(e: &Error) -> Self {
        match e {
            Error::RelayUnreachable(_) => Setback::Unreachable,
            Error::RelayRefused { status, .. } => Setback::Refused { status: *status },
            Error::NotFound { .. } => Setback::NotFound,
            _ => Setback::Other,
        }
    }
}

/// What the app does with the error of a failed step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureHandling {
    /// Keep it among the run's problems (for developers) and carry on.
    Problem,
    /// Nothing went wrong that matters (no recovery kit: nothing to back up).
    Ignore,
    /// Not a relay matter (a bug, a damaged record): let it end the run.
    Raise,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Doing {
    Nothing,
    Exchange,
    Backup,
}

/// One run of the job over the records the device holds.
#[derive(Debug, Clone)]
pub struct RelaySync {
    waiting: VecDeque<RecordId>,
    current: Option<RecordId>,
    exchanges: u32,
    max_exchanges: u32,
    notice: Option<RecordId>,
    doing: Doing,
    backup: bool,
    result: JobResult,
    changed: Vec<RecordId>,
}

impl RelaySync {
    /// A run over `records`, at most `max_exchanges` each, then the recovery backup when
    /// `backup` is set and nothing failed.
    pub fn new(records: Vec<RecordId>, max_exchanges: u32, backup: bool) -> Self {
        Self {
            waiting: records.into(),
            current: None,
            exchanges: 0,
            max_exchanges: max_exchanges.max(1),
            notice: None,
            doing: Doing::Nothing,
            backup,
            result: JobResult::Success,
            changed: Vec::new(),
        }
    }

    /// The background job's run: `JOB_EXCHANGES` per record, then the backup.
    pub fn background(records: Vec<RecordId>) -> Self {
        Self::new(records, JOB_EXCHANGES, true)
    }

    pub fn next_step(&mut self) -> SyncStep {
        self.doing = Doing::Nothing;
        if let Some(record_id) = self.notice.take() {
            return SyncStep::RemovalNotice { record_id };
        }
        if self.current.is_some() && self.exchanges >= self.max_exchanges {
            self.current = None;
        }
        if self.current.is_none() {
            self.current = self.waiting.pop_front();
            self.exchanges = 0;
        }
        if let Some(record_id) = &self.current {
            self.exchanges += 1;
            self.doing = Doing::Exchange;
            return SyncStep::Exchange {
                record_id: record_id.clone(),
            };
        }
        if self.backup && self.result == JobResult::Success {
            self.backup = false;
            self.doing = Doing::Backup;
            return SyncStep::Backup;
        }
        SyncStep::Done {
            result: self.result,
        }
    }

    /// The exchange `next_step` named went through: again while more waits, a notice if
    /// this device was removed.
    pub fn exchanged(&mut self, report: &RelayReport) {
        let Some(id) = self.current.clone() else {
            return;
        };
        if report.changed && !self.changed.contains(&id) {
            self.changed.push(id.clone());
        }
        if report.removed {
            self.notice = Some(id);
            self.current = None;
        } else if !report.more_waiting {
            self.current = None;
        }
    }

    /// The backup went through.
    pub fn backed_up(&mut self) {
        self.doing = Doing::Nothing;
    }

    /// The step `next_step` named failed. An unreachable relay, or one down or busy (429,
    /// 5xx), is worth another run; any other refusal of an exchange is not. A backup
    /// that fails is tried at the next run; without a kit there is none to make.
    pub fn failed(&mut self, setback: Setback) -> FailureHandling {
        let doing = std::mem::replace(&mut self.doing, Doing::Nothing);
        match doing {
            Doing::Exchange => {
                self.current = None;
                match setback {
                    Setback::Unreachable => self.retry(),
                    Setback::Refused { status } if status == 429 || status >= 500 => self.retry(),
                    Setback::Refused { .. } => self.result = JobResult::Failure,
                    Setback::NotFound | Setback::Other => return FailureHandling::Raise,
                }
                FailureHandling::Problem
            }
            Doing::Backup => match setback {
                Setback::NotFound => FailureHandling::Ignore,
                Setback::Unreachable | Setback::Refused { .. } => {
                    self.retry();
                    FailureHandling::Problem
                }
                Setback::Other => FailureHandling::Raise,
            },
            Doing::Nothing => FailureHandling::Raise,
        }
    }

    fn retry(&mut self) {
        if self.result == JobResult::Success {
            self.result = JobResult::Retry;
        }
    }

    pub fn result(&self) -> JobResult {
        self.result
    }

    /// The records that changed in this run, in the order they first did.
    pub fn changed(&self) -> &[RecordId] {
        &self.changed
    }

    /// How the run stands for the sync screen, once it is done.
    pub fn status(&self) -> SyncStatus {
        match self.result {
            JobResult::Success => SyncStatus::UpToDate {
                records_changed: u32::try_from(self.changed.len()).unwrap_or(u32::MAX),
            },
            JobResult::Retry => SyncStatus::WillRetry,
            JobResult::Failure => SyncStatus::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> RecordId {
        format!("{n:032x}").parse().unwrap()
    }

    fn report(changed: bool, more_waiting: bool, removed: bool) -> RelayReport {
        RelayReport {
            changed,
            more_waiting,
            removed,
            ..Default::default()
        }
    }

    fn exchange(n: u8) -> SyncStep {
        SyncStep::Exchange { record_id: id(n) }
    }

    #[test]
    fn each_record_while_more_waits_then_the_backup() {
        let mut job = RelaySync::background(vec![id(1), id(2)]);
        assert_eq!(job.next_step(), exchange(1));
        job.exchanged(&report(true, true, false));
        assert_eq!(job.next_step(), exchange(1));
        job.exchanged(&report(true, false, false));
        assert_eq!(job.next_step(), exchange(2));
        job.exchanged(&report(false, false, false));
        assert_eq!(job.next_step(), SyncStep::Backup);
        job.backed_up();
        assert_eq!(
            job.next_step(),
            SyncStep::Done {
                result: JobResult::Success
            }
        );
        assert_eq!(job.changed(), &[id(1)]);
    }

    #[test]
    fn a_record_has_at_most_its_share_of_a_run() {
        let mut job = RelaySync::new(vec![id(1), id(2)], 2, false);
        for _ in 0..2 {
            assert_eq!(job.next_step(), exchange(1));
            job.exchanged(&report(false, true, false));
        }
        assert_eq!(job.next_step(), exchange(2));
    }

    #[test]
    fn a_removal_is_told_and_ends_that_records_exchanges() {
        let mut job = RelaySync::new(vec![id(1), id(2)], 4, false);
        job.next_step();
        job.exchanged(&report(false, true, true));
        assert_eq!(
            job.next_step(),
            SyncStep::RemovalNotice { record_id: id(1) }
        );
        assert_eq!(job.next_step(), exchange(2));
    }

    #[test]
    fn a_relay_down_or_busy_is_retried_and_a_refusal_for_good_fails_the_run() {
        let mut job = RelaySync::background(vec![id(1), id(2), id(3)]);
        job.next_step();
        assert_eq!(
            job.failed(Setback::Refused { status: 429 }),
            FailureHandling::Problem
        );
        assert_eq!(job.result(), JobResult::Retry);
        assert_eq!(job.next_step(), exchange(2), "the next record still goes");
        assert_eq!(
            job.failed(Setback::Refused { status: 403 }),
            FailureHandling::Problem
        );
        assert_eq!(job.next_step(), exchange(3));
        assert_eq!(job.failed(Setback::Unreachable), FailureHandling::Problem);
        assert_eq!(
            job.next_step(),
            SyncStep::Done {
                result: JobResult::Failure
            },
            "no backup after a failure, and a failure is not softened to a retry"
        );
    }

    #[test]
    fn a_backup_without_a_kit_is_no_problem_and_other_errors_are_raised() {
        let mut job = RelaySync::background(vec![id(1)]);
        job.next_step();
        assert_eq!(job.failed(Setback::Other), FailureHandling::Raise);
        let mut job = RelaySync::background(Vec::new());
        assert_eq!(job.next_step(), SyncStep::Backup);
        assert_eq!(job.failed(Setback::NotFound), FailureHandling::Ignore);
        assert_eq!(job.result(), JobResult::Success);
        let mut job = RelaySync::background(Vec::new());
        job.next_step();
        assert_eq!(job.failed(Setback::Unreachable), FailureHandling::Problem);
        assert_eq!(
            job.next_step(),
            SyncStep::Done {
                result: JobResult::Retry
            }
        );
    }

    #[test]
    fn errors_are_told_apart_by_kind() {
        assert_eq!(
            Setback::from(&Error::RelayRefused {
                status: 503,
                reason: "down".into()
            }),
            Setback::Refused { status: 503 }
        );
        assert_eq!(
            Setback::from(&Error::NotFound {
                what: "recovery kit"
            }),
            Setback::NotFound
        );
        assert_eq!(Setback::from(&Error::Busy), Setback::Other);
    }
}
