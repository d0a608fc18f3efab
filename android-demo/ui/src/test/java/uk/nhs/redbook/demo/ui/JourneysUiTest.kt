// Journeys through the screens as a parent makes them, against the real library, real
// databases and, where devices meet at a distance, a real relay the test starts. Nodes are
// found by what they say (text, content descriptions), as TalkBack reads them. Each screen
// met is saved as a screenshot at a phone's size and again at 200% font size.
package uk.nhs.redbook.demo.ui

import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.ui.Modifier
import androidx.compose.ui.test.*
import androidx.compose.ui.unit.dp
import java.util.concurrent.atomic.AtomicInteger
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import uk.nhs.redbook.*
import uk.nhs.redbook.demo.presentation.UrlConnectionRelayHttp

/** The platform's HTTP client on a slow network: every request takes [delayMillis] longer. */
private class SlowNetwork(private val delayMillis: Long) : RelayHttp {
    private val http = UrlConnectionRelayHttp(5_000)
    val requests = AtomicInteger()
    override fun send(request: RelayHttpRequest): RelayHttpResponse {
        Thread.sleep(delayMillis)
        requests.incrementAndGet()
        return http.send(request)
    }
}

/** [admin] invites [other] by its card, with [access]; [other] accepts. */
private fun invite(admin: Phone, other: Phone, childId: String, access: Access) {
    runBlocking { other.sharing.accept(admin.sharing.invite(childId, other.sharing.myCard().text, access).text) }
}

/** Everything [from] has that [to] lacks, carried as an update file. */
private fun carry(from: Phone, to: Phone, childId: String) {
    runBlocking { to.sharing.receiveUpdate(from.sharing.updateFor(childId, to.book.deviceId())) }
}

@OptIn(ExperimentalTestApi::class)
class JourneysUiTest {
    @Test
    fun aParentAcceptsAClinicsInvitationAndSeesTheClinicsEntryVerifiedAfterSync() = TestRelay().use { relay ->
        Phone(relay.url).named("Mum's phone").use { mum ->
            Phone(relay.url).named("Northside clinic", Role.HEALTH_VISITOR, "RQX").use { clinic ->
                val id = clinic.addChild("Amara Okafor", TODAY.minusWeeks(3))
                clinic.presenter.addMeasurement(id, TODAY.minusWeeks(1).toString(), "3.9", "", "", atHome = false)
                mum.platform.nextScan = clinic.sharing.invite(id, mum.sharing.myCard().text, Access.ADMIN).text
                onPhone {
                    setContent { mum.App() }
                    tap("Add a shared record")
                    waitUntil(timeoutMillis = 30_000) { shows(recordAddedText("Amara Okafor")) }
                    onNodeWithText("Amara Okafor").assertIsDisplayed()
                    tap("Sync")
                    onNodeWithText("Not synced yet since the app opened").assertIsDisplayed()
                    // The clinic's background job and this phone take turns until the record
                    // has come (the sync protocol may need a round or two).
                    var rounds = 0
                    while (mum.book.child(id).entries.isEmpty() && rounds < 4) {
                        clinic.syncInBackground()
                        tap("Sync now")
                        waitUntil(timeoutMillis = 30_000) { shows("Sync now") }
                        rounds++
                    }
                    onNodeWithText("Up to date: news arrived for 1 child's record").assertIsDisplayed()
                    screenshot("sync-up-to-date")
                    tap("< Family")
                    onNodeWithText("Amara Okafor").performClick()
                    opened()
                    onNodeWithText("weight 3.90 kg", substring = true).performScrollTo().assertIsDisplayed()
                    onNodeWithText("Northside clinic (health visitor, RQX) · verified").performScrollTo().assertIsDisplayed()
                    screenshot("timeline-clinic-entry")
                }
                onPhone(fontScale = 2f) {
                    setContent { mum.App(Screen.Sync) }
                    assertFits("Sync now")
                    screenshot("sync-200pc")
                }
            }
        }
    }

    @Test
    fun theScreenAnswersWhileALongSyncRunsAndAStoppedSyncKeepsEveryRecordWhole() = TestRelay().use { relay ->
        val network = SlowNetwork(delayMillis = 600)
        Phone(relay.url, network).named("Mum's phone").use { mum ->
            Phone(relay.url).named("Dad's phone").use { dad ->
                val ids = listOf("Amara", "Kofi", "Esi").map { name ->
                    mum.addChild(name, TODAY.minusMonths(2)).also { id ->
                        mum.presenter.addNote(id, "$name: feeding well")
                        invite(mum, dad, id, Access.ADMIN)
                    }
                }
                onPhone {
                    setContent { mum.App(Screen.Sync) }
                    tap("Sync now")
                    onNodeWithText("Syncing with the family's other devices...").assertIsDisplayed()
                    // While it runs (three records, two slow requests each), the screens answer.
                    tap("< Family")
                    onNodeWithText("Kofi").performClick()
                    opened()
                    onNodeWithText("Kofi: feeding well", substring = true).performScrollTo().assertIsDisplayed()
                    assertTrue(mum.sync.state.value.running, "the sync was still running while the screens answered")
                    screenshot("timeline-while-syncing")
                    tap("< Family")
                    tap("Sync")
                    onNodeWithText("Syncing with the family's other devices...").assertIsDisplayed()
                    screenshot("sync-running")
                    waitUntil(timeoutMillis = 30_000) { shows("Sync now") }
                    onNodeWithText("Up to date: nothing new from the family's other devices").assertIsDisplayed()

                    // Stopped part-way: the run ends between records and says so.
                    val before = network.requests.get()
                    tap("Sync now")
                    waitUntil(timeoutMillis = 10_000) { network.requests.get() > before }
                    tap("Stop syncing")
                    waitUntil(timeoutMillis = 10_000) { shows("Sync stopped before it finished", substring = true) }
                    screenshot("sync-stopped")
                }
                // The exchange under way when stopped finishes on the core's thread (two slow requests at most).
                Thread.sleep(2_000)
                val sent = network.requests.get()
                Thread.sleep(1_000)
                assertEquals(sent, network.requests.get(), "nothing more was sent after the stop")
                ids.forEach { id -> assertTrue(mum.book.child(id).entries.isNotEmpty(), "every record whole") }
                assertEquals(0u, mum.presenter.children().damagedRecords)
            }
        }
    }

    @Test
    fun anUpdateFileOpenedOnTheShareScreenSaysWhetherItBroughtAnything() = Phone().named("Mum's phone").use { mum ->
        Phone().named("Dad's phone").use { dad ->
            val id = mum.addChild("Amara", TODAY.minusMonths(2))
            invite(mum, dad, id, Access.ADMIN)
            carry(mum, dad, id)
            mum.presenter.addNote(id, "first smile")
            dad.platform.nextOpened = mum.sharing.updateFor(id, dad.book.deviceId())
            onPhone {
                setContent { dad.App(Screen.Share(id)) }
                tap("Open an update")
                waitUntil(timeoutMillis = 30_000) { shows(updateReceivedText(true)) }
                assertTrue(dad.book.child(id).entries.any { it.entry.body is EntryBody.Note })
                // The same file again: nothing new, and said so.
                tap("Open an update")
                waitUntil(timeoutMillis = 30_000) { shows(updateReceivedText(false)) }
                screenshot("update-opened-again")
                // A file that is not an update is refused in the core's words.
                dad.platform.nextOpened = "not an update".toByteArray()
                tap("Open an update")
                waitUntil(timeoutMillis = 30_000) { !shows(updateReceivedText(false)) }
                assertTrue(onAllNodesWithText(updateReceivedText(true)).fetchSemanticsNodes().isEmpty())
            }
        }
    }

    @Test
    fun aConflictIsSettledByKeepingOneOfTheTwoNames() = Phone().named("Mum's phone").use { mum ->
        Phone().named("Dad's phone").use { dad ->
            val id = mum.addChild("Amara", TODAY.minusMonths(2))
            invite(mum, dad, id, Access.ADMIN)
            carry(mum, dad, id)
            // Apart, each parent types her full name differently.
            mum.presenter.settle(id, DetailField.NAME, "Amara Okafor")
            dad.presenter.settle(id, DetailField.NAME, "Amara Okafor-Mensah")
            carry(dad, mum, id)
            onPhone {
                setContent { mum.App(Screen.Child(id)) }
                opened()
                onNodeWithText("set to different values on two devices", substring = true).assertIsDisplayed()
                screenshot("conflict")
                tap("Keep: Amara Okafor-Mensah")
                onNodeWithText("set to different values on two devices", substring = true).assertDoesNotExist()
                onNodeWithText("Amara Okafor-Mensah").assertIsDisplayed()
                screenshot("conflict-settled")
            }
            carry(mum, dad, id)
            assertTrue(dad.book.child(id).conflicts.isEmpty(), "settled on Dad's phone too")
            assertEquals("Amara Okafor-Mensah", dad.book.child(id).details.name)
            // The same conflict again, for the screen at 200%.
            mum.presenter.settle(id, DetailField.NAME, "Amara O.")
            dad.presenter.settle(id, DetailField.NAME, "Amara M.")
            carry(dad, mum, id)
            onPhone(fontScale = 2f) {
                setContent { mum.App(Screen.Child(id)) }
                opened()
                assertFits("Keep: Amara M.")
                screenshot("conflict-200pc")
            }
        }
    }

    @Test
    fun aNewPhoneRestoresTheRecordsFromTheRecoveryWords() = TestRelay().use { relay ->
        Phone(relay.url).named("Mum's phone").use { lost ->
            val id = lost.addChild("Amara", TODAY.minusMonths(2))
            lost.presenter.addNote(id, "home from hospital")
            val words = runBlocking { lost.recovery.makeKit() }.words
            Phone(relay.url).named("Mum's new phone").use { phone ->
                onPhone {
                    setContent { phone.App() }
                    tap("Restore from the recovery kit")
                    type("The 12 recovery words", "not the words")
                    tap("Restore")
                    // Refused in the core's words, beside the field; nothing restored.
                    waitUntil(timeoutMillis = 30_000) { onAllNodes(hasText("Restore") and hasClickAction() and isEnabled()).fetchSemanticsNodes().isNotEmpty() }
                    assertTrue(phone.book.children().children.isEmpty())
                    screenshot("restore-refused")
                    type("The 12 recovery words", words)
                    tap("Restore")
                    waitUntil(timeoutMillis = 30_000) { shows("Restored 1 child's record on this phone") }
                    onNodeWithText("The lost phone was removed from them", substring = true).assertIsDisplayed()
                    onNodeWithText("new recovery words", substring = true).assertIsDisplayed()
                    val newWords = onNode(hasContentDescription("Recovery words:", substring = true))
                        .performScrollTo().fetchSemanticsNode().config[androidx.compose.ui.semantics.SemanticsProperties.ContentDescription].single()
                    assertEquals(12, newWords.removePrefix("Recovery words: ").split(" ").size)
                    assertTrue(!newWords.contains(words), "new words, not the old ones")
                    screenshot("restored")
                    tap("< Family")
                    onNodeWithText("Amara").performClick()
                    opened()
                    onNodeWithText("home from hospital", substring = true).performScrollTo().assertIsDisplayed()
                }
            }
        }
    }

    @Test
    fun theRecoveryKitShowsItsWordsOnceWithTheCoresCaption() = TestRelay().use { relay ->
        Phone(relay.url).named("Mum's phone").use { mum ->
            mum.addChild("Amara", TODAY.minusMonths(2))
            onPhone {
                setContent { mum.App() }
                tap("Recovery kit")
                tap("Make the recovery kit")
                waitUntil(timeoutMillis = 30_000) { shows("1. ", substring = true) }
                recoveryKitCaption().forEach { onNodeWithText(it).performScrollTo().assertIsDisplayed() }
                onNodeWithContentDescription("Recovery kit QR code").performScrollTo().assertIsDisplayed()
                screenshot("recovery-kit")
            }
            // The words again at 200%: a new kit is never made twice, so the same words are drawn.
            val kit = uk.nhs.redbook.demo.presentation.RecoveryKitWords("acid bleak cabin dance eager fabric gadget habit ideal jacket kangaroo label", recoveryKitCaption())
            onPhone(fontScale = 2f) {
                setContent {
                    Column(Modifier.verticalScroll(rememberScrollState()).padding(16.dp)) { RecoveryWords(kit, mum.platform) }
                }
                assertFits("9. ideal", substring = true)
                screenshot("recovery-kit-200pc")
            }
        }
    }

    @Test
    fun theMembersScreenSaysWhoHoldsTheRecordAndWhatEachMayDo() = Phone().named("Mum's phone").use { mum ->
        Phone().named("Dad's phone").use { dad ->
            Phone().named("Northside clinic", Role.HEALTH_VISITOR, "RQX").use { clinic ->
                val id = mum.addChild("Amara", TODAY.minusMonths(2))
                invite(mum, dad, id, Access.ADMIN)
                invite(mum, clinic, id, Access.WRITER)
                val members = mum.sharing.members(id)
                onPhone {
                    setContent { mum.App(Screen.Child(id)) }
                    opened()
                    tap("Members")
                    members.forEach { onNodeWithText(it.standing).performScrollTo().assertIsDisplayed() }
                    onNodeWithText("Northside clinic, added by Mum's phone as health visitor (RQX)", substring = true).assertIsDisplayed()
                    onNodeWithText("not confirmed by an organisation; can write", substring = true).assertIsDisplayed()
                    screenshot("members")
                }
                onPhone(fontScale = 2f) {
                    setContent { mum.App(Screen.Members(id)) }
                    members.forEach { assertFits(it.standing) }
                    screenshot("members-200pc")
                }
            }
        }
    }

    @Test
    fun aRecordClosedByAConfirmedHealthVisitorIsReadOnlyOnTheParentsPhone() = Phone().named("Mum's phone").use { mum ->
        Phone().named("HV Jo", Role.HEALTH_VISITOR, "X99TEST").use { hv ->
            hv.book.setAttestation(testOrganisationAttest(hv.book.deviceCard()))
            listOf(mum, hv).forEach { it.book.setTrustedOrganisations(listOf(testOrganisation())) }
            val id = mum.addChild("Amara", TODAY.minusMonths(2))
            invite(mum, hv, id, Access.WRITER)
            carry(mum, hv, id)
            hv.book.addEntry(id, EntryBody.RecordClosed(RecordClosure(TODAY.toString(), ClosureReason.PARENTAL_RESPONSIBILITY_CHANGED)))
            carry(hv, mum, id)
            onPhone {
                setContent { mum.App(Screen.Child(id)) }
                opened()
                onNodeWithText("read-only on parents' and carers' devices", substring = true).assertIsDisplayed()
                onNodeWithText("Add measurement").assertDoesNotExist()
                onNodeWithText("Share with a clinic").assertDoesNotExist()
                onNodeWithText("Members").assertExists()
                screenshot("closed")
                tap("Vaccines")
                onNodeWithText("Add vaccination").assertDoesNotExist()
            }
            onPhone(fontScale = 2f) {
                setContent { mum.App(Screen.Child(id)) }
                opened()
                assertFits("read-only on parents' and carers' devices", substring = true)
                screenshot("closed-200pc")
            }
        }
    }

    @Test
    fun anEntryImportedFromAGpSystemIsShownAsNotVerified() = Phone().named("Mum's phone").use { mum ->
        val id = mum.addChild("Amara", TODAY.minusMonths(3))
        val immunization = """
            {"resourceType": "Immunization", "id": "gp-1", "status": "completed",
             "vaccineCode": {"coding": [{"system": "https://dmd.nhs.uk", "code": "23584211000001109"}]},
             "patient": {"reference": "Patient/amara"},
             "occurrenceDateTime": "${TODAY.minusWeeks(4)}",
             "protocolApplied": [{"doseNumberPositiveInt": 1}]}
        """
        val report = runBlocking { mum.book.importForeignFhir(id, immunization) }
        assertEquals(1u, report.entriesAdded)
        onPhone {
            setContent { mum.App(Screen.Child(id)) }
            opened()
            onNodeWithText("MenB", substring = true).performScrollTo().assertIsDisplayed()
            onNodeWithText("not verified: imported from another system", substring = true).performScrollTo().assertIsDisplayed()
            onNodeWithText(" · verified", substring = true).assertDoesNotExist()
            screenshot("timeline-imported")
        }
        onPhone(fontScale = 2f) {
            setContent { mum.App(Screen.Child(id)) }
            opened()
            assertFits("not verified: imported from another system", substring = true)
            screenshot("timeline-imported-200pc")
        }
    }
}
