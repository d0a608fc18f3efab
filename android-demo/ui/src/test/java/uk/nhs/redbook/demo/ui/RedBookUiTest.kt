// The shared Compose screens on the desktop JVM against the real library and real
// (temporary) databases, found by text and content description as TalkBack reads them.
// Each test leaves a screenshot at a phone's size, and each screen is drawn again at 200%
// font scale with its key texts checked to fit. Run by scripts/ui-tests.sh.
package uk.nhs.redbook.demo.ui

import androidx.compose.ui.test.*
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import org.junit.jupiter.api.Test
import uk.nhs.redbook.RedbookException
import uk.nhs.redbook.demo.presentation.FormResult
import uk.nhs.redbook.errorText

@OptIn(ExperimentalTestApi::class)
class RedBookUiTest {
    @Test
    fun aParentAddsAChildAndSeesItInTheList() = Phone().use { phone ->
        onPhone {
            setContent { phone.App() }
            tap("Add a child")
            type("Name", "Amara Okafor")
            type("Date of birth (YYYY-MM-DD)", "2026-09-21")
            onNodeWithText("Female").performClick()
            type("Gestation at birth (weeks+days, if known)", "39+2")
            screenshot("add-child")
            tap("Add the child")
            onNodeWithText("Amara Okafor").assertIsDisplayed()
            onNodeWithText("born 21 Sep 2026", substring = true).assertIsDisplayed()
            tap("< Family")
            onNodeWithText("Amara Okafor").assertIsDisplayed()
            onNodeWithText("2 months · 0 entries").assertIsDisplayed()
            screenshot("children")
        }
        assertEquals(listOf("Amara Okafor"), phone.presenter.children().children.map { it.name })
    }

    @Test
    fun aFormsProblemIsShownBesideItsField() = Phone().use { phone ->
        onPhone {
            setContent { phone.App(Screen.AddChild) }
            type("Name", "Kofi")
            type("Date of birth (YYYY-MM-DD)", "2027-01-01")
            onNodeWithText("Male").performClick()
            tap("Add the child")
            onNodeWithText("Date of birth is in the future").performScrollTo().assertIsDisplayed()
            screenshot("add-child-problem")
        }
        assertTrue(phone.presenter.children().children.isEmpty())
    }

    @Test
    fun aChildsScreenOpensItsRecordFirstAndSaysWhyWhenItCannot() = Phone().use { phone ->
        // Room for one record in memory: adding Kofi's closes Amara's, read from the file again.
        phone.book.setCacheLimits(1u, 64uL * 1024uL * 1024uL)
        val amara = phone.addChild("Amara", TODAY.minusMonths(2))
        phone.presenter.addNote(amara, "home from hospital")
        phone.addChild("Kofi", TODAY.minusMonths(1))
        onPhone {
            setContent { phone.App(Screen.Child(amara)) }
            opened()
            onNodeWithText("home from hospital", substring = true).performScrollTo().assertIsDisplayed()
        }
        // A record this phone does not hold (gone since the list was drawn): the core's words.
        onPhone {
            setContent { phone.App(Screen.Child("00".repeat(16))) }
            opened()
            onNodeWithText(errorText(RedbookException.NotFound("child record"))).assertIsDisplayed()
            screenshot("child-not-found")
            tap("< Family")
            onNodeWithText("Kofi").assertIsDisplayed()
        }
    }

    @Test
    fun aMeasurementAddedShowsOnTheTimeline() = Phone().use { phone ->
        val id = phone.addChild("Amara", TODAY.minusMonths(2))
        onPhone {
            setContent { phone.App(Screen.Child(id)) }
            opened()
            type("weight kg", "5,6")
            type("length cm (lying down)", "58")
            tap("Add measurement")
            onNodeWithText("weight 5.60 kg", substring = true).performScrollTo().assertIsDisplayed()
            onNodeWithText("length 58.0 cm", substring = true).assertIsDisplayed()
            onNodeWithText(" · verified", substring = true).assertExists()
            screenshot("timeline")
        }
    }

    @Test
    fun aMistypedWeightIsQuestionedAndKeptAsTypedForReview() = Phone().use { phone ->
        val id = phone.addChild("Amara", TODAY.minusMonths(2))
        onPhone {
            setContent { phone.App(Screen.Child(id)) }
            opened()
            type("weight kg", "35")
            tap("Add measurement")
            // The core's question, in its words; nothing is written yet.
            onNodeWithText("is not possible at 2 months", substring = true).assertIsDisplayed()
            assertTrue(phone.book.child(id).entries.isEmpty())
            screenshot("timeline-question")
            tap("Keep it as typed (a professional will review it)")
            onNodeWithText("weight 35.00 kg", substring = true).performScrollTo().assertIsDisplayed()
            onNodeWithText("For a professional to review", substring = true).performScrollTo().assertIsDisplayed()
            onNodeWithText("Keep it as typed (a professional will review it)").assertDoesNotExist()
            screenshot("timeline-kept-for-review")
        }
        val entry = phone.book.child(id).entries.single()
        assertTrue(entry.entry.confirmed)
        assertTrue(entry.flags.any { it.forReview })
    }

    @Test
    fun anImmunisationEnteredShowsAsGiven() = Phone().use { phone ->
        val id = phone.addChild("Amara", TODAY.minusWeeks(9))
        onPhone {
            setContent { phone.App(Screen.Child(id, ChildTab.Vaccines)) }
            opened()
            onNodeWithText("6-in-1 dose 1", substring = true).assertExists()
            type("Date given (YYYY-MM-DD)", TODAY.minusWeeks(1).toString())
            type("Vaccine", "6-in-1")
            type("Dose", "1")
            type("Batch (if known)", "AB123")
            tap("Add vaccination")
            onNodeWithText("Given").performScrollTo().assertIsDisplayed()
            onNodeWithText("6-in-1 dose 1").performScrollTo().assertIsDisplayed()
            onNodeWithText("${TODAY.minusWeeks(1).let { "${it.dayOfMonth} Nov 2026" }} · given", substring = true).assertIsDisplayed()
            screenshot("vaccines")
        }
    }

    @Test
    fun theGrowthTabListsEachMeasurementWithItsCentile() = Phone().use { phone ->
        val id = phone.addChild("Amara", TODAY.minusMonths(4))
        phone.presenter.addMeasurement(id, TODAY.minusMonths(2).toString(), "5.0", "57", "", atHome = false)
        phone.presenter.addMeasurement(id, TODAY.toString(), "6.4", "62", "", atHome = false)
        onPhone {
            setContent { phone.App(Screen.Child(id, ChildTab.Growth)) }
            opened()
            onNodeWithContentDescription("Growth chart").assertExists()
            onNodeWithText("6.40 kg", substring = true).performScrollTo().assertIsDisplayed()
            onAllNodesWithText("centile", substring = true).onFirst().assertIsDisplayed()
            screenshot("growth")
            tap("Length")
            onNodeWithText("62.0 cm", substring = true).performScrollTo().assertIsDisplayed()
        }
    }

    @Test
    fun eachScreenFitsAtTwiceTheFontSize() = Phone().use { phone ->
        val id = phone.addChild("Amara Okafor-Mensah", TODAY.minusMonths(2))
        phone.presenter.addMeasurement(id, TODAY.minusWeeks(2).toString(), "5.1", "57", "38.5", atHome = true)
        phone.presenter.addImmunisation(id, TODAY.minusDays(3).toString(), "6-in-1", "1", "")
        val tabs = listOf("Timeline", "Growth", "Vaccines")
        class Case(val name: String, val screen: Screen, val fits: List<String>, val oneLine: List<String> = emptyList())
        val screens = listOf(
            Case("children", Screen.Family, listOf("Amara Okafor-Mensah", "Add a child", "Add a shared record"), listOf("Add a child")),
            Case("add-child", Screen.AddChild, listOf("Add the child", "NHS number (if known)"), listOf("Female", "Male", "Add the child")),
            Case("timeline", Screen.Child(id), listOf("Amara Okafor-Mensah", "Add measurement", "Print summary"), tabs + "Add measurement"),
            Case("growth", Screen.Child(id, ChildTab.Growth), listOf("Weight", "Head", "5.10 kg"), tabs + listOf("Weight", "Length", "Head")),
            Case("vaccines", Screen.Child(id, ChildTab.Vaccines), listOf("Given", "6-in-1 dose 1", "Add vaccination"), tabs + "Add vaccination"),
            Case("share", Screen.Share(id), listOf("Scan the clinic's card", "Open an update"), listOf("Open an update")),
            Case("members", Screen.Members(id), listOf("Members"), listOf("Members")),
            Case("sync", Screen.Sync, listOf("Sync now", "Not synced yet since the app opened"), listOf("Sync now")),
            Case("recovery-kit", Screen.RecoveryKit, listOf("Make the recovery kit"), listOf("Make the recovery kit")),
            Case("restore", Screen.Restore, listOf("Restore from the recovery kit", "Restore"), listOf("Restore")),
        )
        for (case in screens) {
            onPhone(fontScale = 2f) {
                setContent { phone.App(case.screen) }
                opened()
                screenshot("${case.name}-200pc")
                case.fits.forEach { assertFits(it, substring = it.endsWith("kg")) }
                case.oneLine.forEach { assertOneLine(it) }
            }
        }
        // The question about a mistyped weight, the longest text a parent meets on a form.
        onPhone(fontScale = 2f) {
            setContent { phone.App(Screen.Child(id)) }
            opened()
            type("weight kg", "35")
            tap("Add measurement")
            assertFits("is not possible at 2 months", substring = true)
            assertFits("Keep it as typed (a professional will review it)")
            screenshot("timeline-question-200pc")
        }
    }

    @Test
    fun sharingScansTheClinicsCardAndShowsTheInvitation() = Phone().use { phone ->
        val id = phone.addChild("Amara", TODAY.minusMonths(2))
        Phone().use { clinic ->
            phone.platform.nextScan = clinic.sharing.myCard().text
            onPhone {
                setContent { phone.App(Screen.Share(id)) }
                tap("Scan the clinic's card")
                onNodeWithContentDescription("Invitation QR code").performScrollTo().assertIsDisplayed()
                screenshot("share")
            }
        }
    }
}
