// The app's presentation logic on the desktop JVM against the real library: what a parent
// and a health visitor see and do, screen by screen. Run by scripts/kotlin-tests.sh here,
// and by `./gradlew test` in the Android project.
package uk.nhs.redbook.demo.presentation

import java.nio.file.Files
import java.time.LocalDate
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import uk.nhs.redbook.Verification
import uk.nhs.redbook.*

private val TODAY = LocalDate.parse("2026-11-23")

private fun openBook(name: String, key: Int): RedBook = runBlocking {
    RedBook.openWithKeyProvider(
        Files.createTempDirectory("redbook-demo-test").resolve(name).toString(),
        RawKeyProvider(ByteArray(32) { key.toByte() }),
    )
}

private fun child(name: String, born: String) =
    ChildDetails(name, born, Sex.FEMALE, Gestation(277u), "943 476 5919", null, null)

private fun given(date: String, vaccine: String, dose: Int) =
    EntryBody.Immunisation(Immunisation(date, vaccine, dose.toUByte(), null, "B$dose", null, null, "Nurse Patel"))

/** Two ends of an in-memory transport, as Nearby Connections would give the app. */
private class LinkPair {
    val toA = ArrayDeque<ByteArray>()
    val toB = ArrayDeque<ByteArray>()
    val a = object : SyncLink {
        override fun send(message: ByteArray) = toB.addLast(message)
        override fun receive() = toA.removeFirstOrNull()
    }
    val b = object : SyncLink {
        override fun send(message: ByteArray) = toA.addLast(message)
        override fun receive() = toB.removeFirstOrNull()
    }
}

class FamilyPresenterTest {
    @Test
    fun theFamilyScreenListsEachChildWithAgeAndEntries() {
        openBook("family.redbook", 1).use { book ->
            val presenter = FamilyPresenter(book, GrowthCharts.whoOnly()) { TODAY }
            val kofi = book.addChild(child("Kofi", "2023-09-25"))
            book.addChild(child("Amara", "2025-10-19"))
            book.addEntry(kofi, EntryBody.Note(Note("2026-01-01", NoteKind.OBSERVATION, "New year")))
            val screen = presenter.children()
            assertEquals(listOf("Kofi", "Amara"), screen.children.map { it.name })
            assertEquals("3 years 1 month", screen.children[0].age)
            assertEquals("1 entry", screen.children[0].entries)
            assertEquals("13 months", screen.children[1].age)
            assertEquals("0 entries", screen.children[1].entries)
            assertEquals(0u, screen.damagedRecords)
        }
    }

    @Test
    fun aChildsRecordOpensOffTheCallersThreadThenItsTimelineDraws() {
        val dir = Files.createTempDirectory("redbook-demo-test")
        val path = dir.resolve("family.redbook").toString()
        val key = RawKeyProvider(ByteArray(32) { 3 })
        val kofi = runBlocking { RedBook.openWithKeyProvider(path, key) }.use { book ->
            val kofi = book.addChild(child("Kofi", "2023-09-25"))
            repeat(40) { book.addEntry(kofi, EntryBody.Note(Note("2026-01-01", NoteKind.OBSERVATION, "Note $it"))) }
            kofi
        }
        runBlocking { RedBook.openWithKeyProvider(path, key) }.use { book ->
            val presenter = FamilyPresenter(book, GrowthCharts.whoOnly()) { TODAY }
            runBlocking { presenter.openChild(kofi) }
            assertEquals(40, presenter.timeline(kofi).rows.size)
            // A record this phone does not hold: the core's error, from the suspended call.
            assertFailsWith<RedbookException.NotFound> { runBlocking { presenter.openChild("00".repeat(16)) } }
        }
    }

    @Test
    fun aHealthVisitorFindsAChildByNhsNumberOrTheStartOfAName() {
        openBook("caseload.redbook", 1).use { book ->
            // A caseload tablet bounds the documents it keeps open; lists come from summaries.
            book.setCacheLimits(2u, 16uL * 1024uL * 1024uL)
            val presenter = FamilyPresenter(book, GrowthCharts.whoOnly()) { TODAY }
            book.addChild(child("Kofi Mensah", "2023-09-25").copy(nhsNumber = "943 476 5919"))
            book.addChild(child("Amara Mensah", "2025-10-19").copy(nhsNumber = null))
            val byNumber = presenter.search("943 476 5919") as SearchResult.Found
            assertEquals(listOf("Kofi Mensah"), byNumber.view.children.map { it.name })
            assertEquals("NHS 943 476 5919", byNumber.view.children[0].nhsNumber)
            val byName = presenter.search("mens") as SearchResult.Found
            assertEquals(listOf("Kofi Mensah", "Amara Mensah"), byName.view.children.map { it.name })
            val mistyped = presenter.search("943 476 5918")
            assertTrue(mistyped is SearchResult.Invalid && mistyped.message.startsWith("NHS number"), "$mistyped")
            assertTrue(!(mistyped as SearchResult.Invalid).message.contains("5918"))
        }
    }

    @Test
    fun aMeasurementTypedWithACommaIsSavedAndChartedWithItsCentile() {
        openBook("family.redbook", 1).use { book ->
            val presenter = FamilyPresenter(book, GrowthCharts.whoOnly()) { TODAY }
            val id = book.addChild(child("Amara", "2025-10-19"))
            val saved = presenter.addMeasurement(id, "2026-02-19", "6,1", "61.0", "", atHome = false)
            assertTrue(saved is FormResult.Saved, "$saved")
            val growth = presenter.growth(id, Measure.WEIGHT_KG)
            assertEquals(listOf("19 Feb 2026"), growth.view.rows.map { it.date })
            assertEquals("6.10 kg", growth.view.rows.single().value)
            assertContains(growth.view.rows.single().centile, "centile")
            assertContains(assertNotNull(growth.chartSvg), "<svg")
            // From two years old, the same box records standing height.
            val kofi = book.addChild(child("Kofi", "2023-09-25"))
            presenter.addMeasurement(kofi, "2026-11-18", "14.4", "96.1", "", atHome = true)
            val body = (book.child(kofi).entries.single().entry.body as EntryBody.Measurement).v1
            assertEquals(96.1, body.heightCm)
            assertEquals(null, body.lengthCm)
            assertEquals(MeasuredBy.PARENT, body.measuredBy)
        }
    }

    @Test
    fun formsSayWhichFieldToFixAndSaveNothing() {
        openBook("family.redbook", 1).use { book ->
            val presenter = FamilyPresenter(book, GrowthCharts.whoOnly()) { TODAY }
            val id = book.addChild(child("Amara", "2025-10-19"))
            assertEquals(FormResult.Invalid("measurement", "Enter at least one measurement"), presenter.addMeasurement(id, "2026-02-19", " ", "", "", false))
            assertEquals("weight_kg", (presenter.addMeasurement(id, "2026-02-19", "six", "", "", false) as FormResult.Invalid).field)
            val impossible = presenter.addMeasurement(id, "2026-02-19", "900", "", "", false) as FormResult.Invalid
            assertEquals("weight_kg", impossible.field)
            assertTrue(impossible.message.startsWith("Weight "), impossible.message)
            assertTrue(!impossible.message.contains("900"), "the value is never echoed")
            val future = presenter.addMeasurement(id, "2027-01-01", "6.2", "", "", false) as FormResult.Invalid
            assertEquals("date", future.field)
            assertEquals(FormResult.Invalid("text", "Write something first"), presenter.addNote(id, "   "))
            assertTrue(book.child(id).entries.isEmpty())
        }
    }

    @Test
    fun aChildIsAddedFromTheFormAsTypedOrTheFieldToFixIsNamed() {
        openBook("family.redbook", 1).use { book ->
            val presenter = FamilyPresenter(book, GrowthCharts.whoOnly()) { TODAY }
            val added = presenter.addChild(" Amara ", "2026-09-21", Sex.FEMALE, "34+2", "") as FormResult.Saved
            val details = book.child(added.entryId).details
            assertEquals("Amara", details.name)
            assertEquals(Gestation(240u), details.gestation)
            assertEquals(null, details.nhsNumber)
            assertEquals("sex", (presenter.addChild("Kofi", "2026-09-21", null, "", "") as FormResult.Invalid).field)
            assertEquals(FormResult.Invalid("birth_date", "Date of birth is in the future"), presenter.addChild("Kofi", "2027-01-01", Sex.MALE, "", ""))
            val mistyped = presenter.addChild("Kofi", "2026-09-21", Sex.MALE, "", "943 476 5918") as FormResult.Invalid
            assertEquals("nhs_number", mistyped.field)
            assertEquals(listOf("Amara"), presenter.children().children.map { it.name })
        }
    }

    @Test
    fun aVaccinationIsRecordedAsGivenAndOneNotExpectedIsQuestionedFirst() {
        openBook("family.redbook", 1).use { book ->
            val presenter = FamilyPresenter(book, GrowthCharts.whoOnly()) { TODAY }
            val id = book.addChild(child("Amara", "2026-09-21"))
            assertTrue(presenter.addImmunisation(id, "2026-11-16", "6-in-1", "1", "AB123") is FormResult.Saved)
            assertEquals(listOf("6-in-1 dose 1"), presenter.immunisations(id).given.map { it.vaccine })
            assertEquals("dose", (presenter.addImmunisation(id, "2026-11-16", "MenB", "one", "") as FormResult.Invalid).field)
            // The same dose again: the core asks before writing it.
            val asked = presenter.addImmunisation(id, "2026-11-20", "6-in-1", "1", "")
            assertTrue(asked is FormResult.NeedsConfirmation, "$asked")
            assertEquals(1, book.child(id).entries.size)
        }
    }

    @Test
    fun aValueImpossibleForTheChildsAgeIsQuestionedThenKeptForReviewOnlyWhenConfirmed() {
        openBook("family.redbook", 1).use { book ->
            val presenter = FamilyPresenter(book, GrowthCharts.whoOnly()) { TODAY }
            val id = book.addChild(child("Amara", "2025-10-19"))
            // 35 kg at 4 months: a slipped decimal point.
            val asked = presenter.addMeasurement(id, "2026-02-19", "35", "", "", false) as FormResult.NeedsConfirmation
            assertEquals("weight_kg", asked.field)
            assertTrue(asked.advice.contains("is not possible at 4 months"), asked.advice)
            assertTrue(book.child(id).entries.isEmpty(), "nothing is written until it is confirmed")
            val kept = presenter.addMeasurement(id, "2026-02-19", "35", "", "", false, confirmed = true)
            assertTrue(kept is FormResult.Saved, kept.toString())
            val view = book.child(id).entries.single()
            assertTrue(view.entry.confirmed)
            assertTrue(view.flags.any { it.forReview && it.note.contains("For a professional to review") }, view.flags.toString())
            // The length field is a lying length at 4 months; a standing height from 2.
            assertEquals("length cm (lying down)", presenter.lengthLabel(id))
            val older = book.addChild(child("Kofi", "2023-10-19"))
            assertEquals("height cm (standing)", presenter.lengthLabel(older))
            // The growth screen's chips say the same in a word.
            assertEquals(listOf("Weight", "Length", "Head"), presenter.measureChoices(id).map { it.label })
            assertEquals(listOf("Weight", "Height", "Head"), presenter.measureChoices(older).map { it.label })
        }
    }

    @Test
    fun theTimelineShowsCurrentEntriesNewestFirstWithWhoWroteThem() {
        openBook("family.redbook", 1).use { book ->
            val presenter = FamilyPresenter(book, GrowthCharts.whoOnly()) { TODAY }
            book.setDeviceProfile(DeviceProfile(Role.HEALTH_VISITOR, "Jo Bloggs", "RQX"))
            val id = book.addChild(child("Amara", "2025-10-19"))
            book.addEntry(id, given("2025-12-14", "6-in-1", 1))
            val slip = presenter.addMeasurement(id, "2026-01-11", "6.2", "", "", false) as FormResult.Saved
            book.amendEntry(id, slip.entryId, EntryBody.Measurement(Measurement("2026-01-11", 5.2, null, null, null, MeasuredBy.PROFESSIONAL)))
            val wrong = book.addEntry(id, EntryBody.Note(Note("2026-02-01", NoteKind.OBSERVATION, "meant for Kofi")))
            book.markEnteredInError(id, wrong.entry.id, "wrong child")
            val timeline = presenter.timeline(id)
            assertEquals("Amara", timeline.title)
            assertEquals("born 19 Oct 2025 · 13 months · NHS 943 476 5919", timeline.subtitle)
            assertEquals(listOf("11 Jan 2026", "14 Dec 2025"), timeline.rows.map { it.date })
            val corrected = timeline.rows.first()
            assertEquals("weight 5.20 kg", corrected.text)
            assertTrue(corrected.corrected)
            assertEquals("Jo Bloggs (health visitor, RQX)", corrected.author)
            assertEquals(Verification.VERIFIED, corrected.verification)
            assertEquals("verified", corrected.verificationText)
            assertTrue(timeline.conflicts.isEmpty())
        }
    }

    @Test
    fun immunisationsShowWhatWasGivenAndWhatIsDueNext() {
        openBook("family.redbook", 1).use { book ->
            val presenter = FamilyPresenter(book, GrowthCharts.whoOnly()) { TODAY }
            val id = book.addChild(child("Amara", "2025-10-19"))
            for ((date, dose) in listOf("2025-12-14" to 1, "2026-01-11" to 2, "2026-02-08" to 3)) {
                book.addEntry(id, given(date, "6-in-1", dose))
            }
            val screen = presenter.immunisations(id)
            assertEquals(listOf("6-in-1 dose 1", "6-in-1 dose 2", "6-in-1 dose 3"), screen.given.filter { it.vaccine.startsWith("6-in-1") }.map { it.vaccine })
            // MenB, rotavirus and PCV were never recorded: overdue, shown first.
            assertTrue(screen.due.any { it.vaccine.startsWith("MenB dose 1") && it.status.startsWith("overdue") && it.urgent })
            assertNotNull(screen.nextVisit)
        }
    }

    @Test
    fun aHealthVisitorIsInvitedByQrCodeAndTheTwoDevicesSyncOverALink() {
        val mum = openBook("mum.redbook", 1)
        val clinic = openBook("clinic.redbook", 2)
        mum.use {
            clinic.use {
                clinic.setDeviceProfile(DeviceProfile(Role.HEALTH_VISITOR, "Jo Bloggs", "RQX"))
                val id = mum.addChild(child("Amara", "2025-10-19"))
                mum.addEntry(id, EntryBody.Note(Note("2026-01-01", NoteKind.DEVELOPMENTAL_FIRST, "First smile")))

                val card = Sharing(clinic).myCard()
                val invitation = Sharing(mum).invite(id, card.text, Access.WRITER)
                assertTrue(invitation.bytes < 1024, "fits a QR code: ${invitation.bytes} bytes")
                val accepted = runBlocking { Sharing(clinic).accept(invitation.text) }
                assertEquals(id, accepted.childId)
                // Its details came with the invitation: the child is named.
                assertEquals(recordAddedText("Amara"), accepted.message)
                val jo = Sharing(mum).members(id).single { it.name == "Jo Bloggs" }
                assertEquals(Access.WRITER, jo.access)
                assertContains(jo.standing, "as health visitor (RQX)")
                assertContains(jo.standing, "not confirmed by an organisation")

                // At the clinic, offline: the health visitor weighs her.
                FamilyPresenter(clinic, GrowthCharts.whoOnly()) { TODAY }.addMeasurement(id, "2026-02-19", "6.1", "", "", false)
                val link = LinkPair()
                val mumSide = SyncSession(mum, id, clinic.deviceId())
                val clinicSide = SyncSession(clinic, id, mum.deviceId())
                var steps = 0
                while ((mumSide.step(link.a) or clinicSide.step(link.b)) && steps < 50) steps++
                assertTrue(steps < 50, "sync settles")
                assertTrue(mumSide.changed)
                val onMumsPhone = FamilyPresenter(mum, GrowthCharts.whoOnly()) { TODAY }.timeline(id)
                val weight = onMumsPhone.rows.first { it.text.startsWith("weight") }
                assertEquals("Jo Bloggs (health visitor, RQX)", weight.author)
                assertEquals(Verification.VERIFIED, weight.verification)
                assertEquals(mum.child(id).entries.map { it.entry }, clinic.child(id).entries.map { it.entry })
            }
        }
    }

    @Test
    fun aScannedCodeThatIsNotAnInvitationIsRefusedWithAReason() {
        openBook("family.redbook", 1).use { book ->
            val sharing = Sharing(book)
            val notOurs = assertFailsWith<RedbookException.InvalidInput> { runBlocking { sharing.accept("https://example.com") } }
            assertContains(notOurs.reason, "not a red book invitation")
            val torn = assertFailsWith<RedbookException.InvalidInput> { runBlocking { sharing.accept("rbinv1:%%%") } }
            assertContains(torn.reason, "scan it again")
            assertFailsWith<RedbookException> { runBlocking { sharing.accept("rbinv1:AAAA") } }
            assertTrue(book.children().children.isEmpty())
        }
    }

    /** The platform's side, in memory: what a WorkManager-backed scheduler would hold. */
    class ScheduledInMemory : NotificationScheduler {
        val byId = linkedMapOf<String, PlannedNotification>()
        override fun scheduled(): Set<String> = byId.keys.toSet()
        override fun schedule(notification: PlannedNotification) { byId[notification.id] = notification }
        override fun cancel(id: String) { byId.remove(id) }
    }

    @Test
    fun remindersFollowThePlanWithoutTheChildsNameUnlessChosen() {
        openBook("family.redbook", 1).use { book ->
            val id = book.addChild(child("Amara", "2026-11-01"))
            val scheduler = ScheduledInMemory()
            val reminders = Reminders(book, scheduler) { TODAY }
            val count = reminders.refresh(showNames = false)
            assertTrue(count > 0)
            assertEquals(count, scheduler.byId.size)
            assertTrue(scheduler.byId.values.none { it.title.contains("Amara") }, "no name on the lock screen")
            val before = scheduler.scheduled()
            // The same plan again changes nothing; ids are stable.
            reminders.refresh(showNames = false)
            assertEquals(before, scheduler.scheduled())
            // Chosen by the parent: the name, under the same ids.
            reminders.refresh(showNames = true)
            assertEquals(before, scheduler.scheduled())
            assertTrue(scheduler.byId.values.all { it.title.startsWith("Amara: ") })
            // A vaccine given: that visit's reminder is replaced by one without it.
            val eightWeeks = scheduler.byId.values.single { it.title.contains("8 weeks vaccines") }
            assertContains(eightWeeks.title, "6-in-1")
            book.addEntry(id, EntryBody.Immunisation(Immunisation("2026-11-20", "6-in-1", 1u, null, null, null, null, null)))
            reminders.refresh(showNames = false)
            assertTrue(eightWeeks.id !in scheduler.scheduled(), "the old reminder is cancelled")
            val replaced = scheduler.byId.values.single { it.title.contains("8 weeks vaccines") }
            assertEquals("8 weeks vaccines: MenB, Rotavirus", replaced.title)
        }
    }
}
