// The shared Compose screens on the desktop JVM against the real library and real
// (temporary) databases, found by text and content description as TalkBack reads them.
// Each test leaves a screenshot at a phone's size, and each screen is drawn again at 200%
// font scale with its key texts checked to fit. Run by scripts/ui-tests.sh.
package uk.nhs.redbook.demo.ui

import androidx.compose.ui.geometry.Size
import androidx.compose.ui.graphics.asSkiaBitmap
import androidx.compose.ui.semantics.SemanticsActions
import androidx.compose.ui.text.TextLayoutResult
import androidx.compose.ui.test.*
import androidx.compose.ui.unit.Density
import java.io.File
import java.nio.file.Files
import java.time.LocalDate
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import org.jetbrains.skia.EncodedImageFormat
import org.jetbrains.skia.Image
import org.junit.jupiter.api.Test
import uk.nhs.redbook.*
import uk.nhs.redbook.demo.presentation.FamilyPresenter
import uk.nhs.redbook.demo.presentation.FormResult
import uk.nhs.redbook.demo.presentation.Sharing

private val TODAY = LocalDate.parse("2026-11-23")

/** A phone's screen (411 x 891 dp, a Pixel's) at 2.5 pixels a dp. */
private const val WIDTH_DP = 411f
private const val HEIGHT_DP = 891f
private const val PX_PER_DP = 2.5f

private fun openBook(): RedBook = RedBook.openWithKeyProvider(
    Files.createTempDirectory("redbook-ui-test").resolve("family.redbook").toString(),
    RawKeyProvider(ByteArray(32) { 7 }),
)

/** A family's phone: the real library on a new database, the screens' presenter, a desktop platform. */
private class Phone : AutoCloseable {
    val book = openBook()
    val presenter = FamilyPresenter(book, GrowthCharts.whoOnly()) { TODAY }
    val sharing = Sharing(book)
    val platform = DesktopPlatform()

    fun addChild(name: String, born: LocalDate): String =
        (presenter.addChild(name, born.toString(), Sex.FEMALE, "39+2", "") as FormResult.Saved).entryId

    override fun close() = book.close()
}

@OptIn(ExperimentalTestApi::class)
private fun onPhone(fontScale: Float = 1f, block: SkikoComposeUiTest.() -> Unit) =
    runSkikoComposeUiTest(Size(WIDTH_DP * PX_PER_DP, HEIGHT_DP * PX_PER_DP), Density(PX_PER_DP, fontScale)) { block() }

/** What the screen shows now, as a PNG in the screenshots folder (-Dredbook.screenshots). */
@OptIn(ExperimentalTestApi::class)
private fun SkikoComposeUiTest.screenshot(name: String) {
    val dir = System.getProperty("redbook.screenshots") ?: return
    waitForIdle()
    val png = Image.makeFromBitmap(captureToImage().asSkiaBitmap()).encodeToData(EncodedImageFormat.PNG)!!
    File(dir).apply { mkdirs() }.resolve("$name.png").writeBytes(png.bytes)
}

/** A text field, by the label TalkBack reads for it. */
@OptIn(ExperimentalTestApi::class)
private fun SkikoComposeUiTest.field(label: String) = onNode(hasSetTextAction() and hasText(label))

@OptIn(ExperimentalTestApi::class)
private fun SkikoComposeUiTest.type(label: String, text: String) {
    field(label).performScrollTo().performTextClearance()
    field(label).performTextInput(text)
}

@OptIn(ExperimentalTestApi::class)
private fun SkikoComposeUiTest.tap(text: String) = onNode(hasText(text) and hasClickAction()).performScrollTo().performClick()

/** Shown, and not cut off at the screen's sides: [text] fits at this font scale. */
@OptIn(ExperimentalTestApi::class)
private fun SkikoComposeUiTest.assertFits(text: String, substring: Boolean = false) {
    val node = onAllNodesWithText(text, substring = substring).onFirst().performScrollTo().assertIsDisplayed()
    val bounds = node.getBoundsInRoot()
    val width = onRoot().getBoundsInRoot().right
    assertTrue(bounds.left >= androidx.compose.ui.unit.Dp(0f) && bounds.right <= width, "'$text' runs off the screen: $bounds in $width")
}

/** [text] is laid out on one line: a short label (a tab's, a button's) never breaks a word. */
@OptIn(ExperimentalTestApi::class)
private fun SkikoComposeUiTest.assertOneLine(text: String) {
    val node = onAllNodesWithText(text, useUnmergedTree = true).onFirst().fetchSemanticsNode()
    val layouts = mutableListOf<TextLayoutResult>()
    node.config[SemanticsActions.GetTextLayoutResult].action?.invoke(layouts)
    assertEquals(1, layouts.single().lineCount, "'$text' wraps")
}

@OptIn(ExperimentalTestApi::class)
class RedBookUiTest {
    @Test
    fun aParentAddsAChildAndSeesItInTheList() = Phone().use { phone ->
        onPhone {
            setContent { RedBookApp(phone.presenter, phone.sharing, phone.platform) }
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
            setContent { RedBookApp(phone.presenter, phone.sharing, phone.platform, Screen.AddChild) }
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
    fun aMeasurementAddedShowsOnTheTimeline() = Phone().use { phone ->
        val id = phone.addChild("Amara", TODAY.minusMonths(2))
        onPhone {
            setContent { RedBookApp(phone.presenter, phone.sharing, phone.platform, Screen.Child(id)) }
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
            setContent { RedBookApp(phone.presenter, phone.sharing, phone.platform, Screen.Child(id)) }
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
            setContent { RedBookApp(phone.presenter, phone.sharing, phone.platform, Screen.Child(id, ChildTab.Vaccines)) }
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
            setContent { RedBookApp(phone.presenter, phone.sharing, phone.platform, Screen.Child(id, ChildTab.Growth)) }
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
        )
        for (case in screens) {
            onPhone(fontScale = 2f) {
                setContent { RedBookApp(phone.presenter, phone.sharing, phone.platform, case.screen) }
                screenshot("${case.name}-200pc")
                case.fits.forEach { assertFits(it, substring = it.endsWith("kg")) }
                case.oneLine.forEach { assertOneLine(it) }
            }
        }
        // The question about a mistyped weight, the longest text a parent meets on a form.
        onPhone(fontScale = 2f) {
            setContent { RedBookApp(phone.presenter, phone.sharing, phone.platform, Screen.Child(id)) }
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
                setContent { RedBookApp(phone.presenter, phone.sharing, phone.platform, Screen.Share(id)) }
                tap("Scan the clinic's card")
                onNodeWithContentDescription("Invitation QR code").performScrollTo().assertIsDisplayed()
                screenshot("share")
            }
        }
    }
}
