//! Each screen's model from the façade's data: the composition the apps would otherwise
//! repeat (and the FFI once did), kept here so it is tested with the rest of the core.
//! The words themselves are `view::screens`'; this only fetches what they are made from.

use super::RedBook;
use crate::child::ChildList;
use crate::growth::{Correction, GrowthReferences, Measure};
use crate::model::RecordId;
use crate::view::screens::{
    self, ChildrenView, GrowthView, ImmunisationsView, PlannedNotification, TimelineView,
};
use crate::Error;
use chrono::NaiveDate;

impl RedBook {
    /// The children screen: each child's name, age on `on`, entries.
    pub fn children_screen(&self, on: NaiveDate) -> Result<ChildrenView, Error> {
        Ok(screens::children(&self.children()?, on))
    }

    /// The children a search box finds (`find_children`), as rows of the children screen.
    pub fn search_screen(&self, query: &str, on: NaiveDate) -> Result<ChildrenView, Error> {
        let found = ChildList {
            children: self.find_children(query)?,
            damaged: Vec::new(),
            withdrawn: Vec::new(),
        };
        Ok(screens::children(&found, on))
    }

    /// A child's timeline: current entries newest first, worded, with who wrote each and
    /// whether it is verified; conflicts and a closure in words.
    pub fn timeline_screen(&self, id: &RecordId, on: NaiveDate) -> Result<TimelineView, Error> {
        Ok(screens::timeline(&self.child(id)?, on))
    }

    /// A growth screen's rows and notes (the chart itself: `growth_chart`).
    pub fn growth_screen(
        &self,
        id: &RecordId,
        measure: Measure,
        refs: &GrowthReferences,
        correction: Correction,
    ) -> Result<GrowthView, Error> {
        Ok(screens::growth(
            &self.growth(id, measure, refs, correction)?,
        ))
    }

    /// The immunisations screen: given, due now and at the next visit, risk factors.
    pub fn immunisations_screen(
        &self,
        id: &RecordId,
        on: NaiveDate,
    ) -> Result<ImmunisationsView, Error> {
        Ok(screens::immunisations(&self.due(id, on)?))
    }

    /// The local notifications for a child's reminders (none once a record is closed).
    /// The child's name is in them only with `show_name`: they appear on the lock screen,
    /// so the record is read for it only then.
    pub fn notification_plan(
        &self,
        id: &RecordId,
        on: NaiveDate,
        show_name: bool,
    ) -> Result<Vec<PlannedNotification>, Error> {
        let report = self.due(id, on)?;
        let name = show_name
            .then(|| self.child(id).map(|r| r.details.name))
            .transpose()?;
        Ok(screens::notification_plan(
            &id.to_string(),
            &report,
            name.as_deref(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{ChildDetails, Sex};
    use crate::{RedBook, Unlock};
    use chrono::NaiveDate;

    fn book() -> (tempfile::TempDir, RedBook) {
        let dir = tempfile::tempdir().unwrap();
        let book = RedBook::open(
            &dir.path().join("screens.redbook"),
            Unlock::Passphrase("screens passphrase".into()),
        )
        .unwrap();
        (dir, book)
    }

    fn child(book: &RedBook, name: &str) -> crate::model::RecordId {
        book.add_child(ChildDetails {
            name: name.into(),
            birth_date: NaiveDate::from_ymd_opt(2025, 1, 10),
            sex: Some(Sex::Female),
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn screens_are_the_views_of_what_the_book_holds() {
        let (_dir, book) = book();
        let amara = child(&book, "Amara Okafor");
        child(&book, "Kofi Okafor");
        let on = NaiveDate::from_ymd_opt(2025, 6, 10).unwrap();
        assert_eq!(book.children_screen(on).unwrap().children.len(), 2);
        let found = book.search_screen("amara", on).unwrap();
        assert_eq!(found.children.len(), 1);
        assert_eq!(found.children[0].name, "Amara Okafor");
        assert_eq!(
            book.timeline_screen(&amara, on).unwrap(),
            crate::view::screens::timeline(&book.child(&amara).unwrap(), on)
        );
    }

    #[test]
    fn an_entry_from_another_systems_file_shows_as_not_verified_with_where_it_came_from() {
        use crate::model::Verification;
        let (_dir, book) = book();
        let amara = child(&book, "Amara Okafor");
        let immunization = br#"{"resourceType": "Immunization", "id": "gp-1", "status": "completed",
            "vaccineCode": {"coding": [{"system": "https://dmd.nhs.uk", "code": "23584211000001109"}]},
            "patient": {"reference": "Patient/amara"}, "occurrenceDateTime": "2025-03-10",
            "protocolApplied": [{"doseNumberPositiveInt": 1}]}"#;
        book.import_foreign(&amara, immunization).unwrap();
        let on = NaiveDate::from_ymd_opt(2025, 6, 10).unwrap();
        let row = &book.timeline_screen(&amara, on).unwrap().rows[0];
        assert_eq!(row.verification, Verification::Unverified);
        assert_eq!(
            row.verification_text,
            "not verified: imported from another system"
        );
        // The entry itself still carries the importer's good signature.
        let entries = book.child(&amara).unwrap().entries;
        assert_eq!(entries[0].verification, Verification::Verified);
        // The printout and the CLI's author line say the same.
        let refs = crate::growth::GrowthReferences::embedded();
        let html = book
            .summary_html(
                &amara,
                refs,
                crate::growth::Correction::RcpchDigital,
                on,
                false,
            )
            .unwrap();
        assert!(html.contains("not verified: imported from another system"));
        assert!(crate::view::author_line(&entries[0]).contains("not verified; imported from"));
    }

    #[test]
    fn a_conflict_offers_its_values_to_keep_but_never_an_addresss() {
        use crate::model::DetailField;
        use crate::record::DetailConflict;
        use crate::view::screens::conflict;
        let name = conflict(&DetailConflict {
            field: DetailField::Name,
            values: vec!["Amara Okafor".into(), "Amara Okafor-Mensah".into()],
        });
        assert_eq!(name.choices, ["Amara Okafor", "Amara Okafor-Mensah"]);
        assert!(
            name.text.starts_with("Name was set to different values"),
            "{}",
            name.text
        );
        let address = conflict(&DetailConflict {
            field: DetailField::Address,
            values: vec!["1 High St".into(), "2 Low Rd".into()],
        });
        assert!(address.choices.is_empty());
        assert!(!address.text.contains("High St"));
    }

    #[test]
    fn sync_and_restore_outcomes_are_worded_here() {
        use crate::view::screens::{restore_lines, sync_status_text, SyncStatus};
        assert_eq!(
            sync_status_text(SyncStatus::UpToDate { records_changed: 2 }),
            "Up to date: news arrived for 2 children's records"
        );
        assert!(sync_status_text(SyncStatus::Stopped).contains("what arrived is kept"));
        assert_eq!(
            restore_lines(1, 1, 0, true),
            [
                "Restored 1 child's record on this phone",
                "The lost phone was removed from them: it gets no more updates",
                "Write this phone's new recovery words in the red book now: the words you typed no longer restore anything",
            ]
        );
        assert_eq!(restore_lines(0, 0, 2, false).len(), 2);
    }

    #[test]
    fn a_notification_names_the_child_only_when_asked() {
        let (_dir, book) = book();
        let amara = child(&book, "Amara Okafor");
        let on = NaiveDate::from_ymd_opt(2025, 2, 1).unwrap();
        let named = book.notification_plan(&amara, on, true).unwrap();
        let unnamed = book.notification_plan(&amara, on, false).unwrap();
        assert!(!named.is_empty());
        assert!(named.iter().all(|n| n.title.starts_with("Amara Okafor: ")));
        assert!(named.iter().all(|n| n.hour == 9));
        assert!(unnamed.iter().all(|n| !n.title.contains("Amara")));
        assert_eq!(
            named.iter().map(|n| &n.id).collect::<Vec<_>>(),
            unnamed.iter().map(|n| &n.id).collect::<Vec<_>>()
        );
    }
}
