// What the UI tests share: a phone (the real library on a new database, the screens'
// presenters, a desktop platform), a relay of the test's own, and finding, typing, tapping
// and screenshots as a person (and TalkBack) meets the screens.
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
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.swing.Swing
import org.jetbrains.skia.EncodedImageFormat
import org.jetbrains.skia.Image
import uk.nhs.redbook.*
import uk.nhs.redbook.demo.presentation.FamilyPresenter
import uk.nhs.redbook.demo.presentation.FormResult
import uk.nhs.redbook.demo.presentation.Recovery
import uk.nhs.redbook.demo.presentation.RelaySyncJob
import uk.nhs.redbook.demo.presentation.Sharing
import uk.nhs.redbook.demo.presentation.SyncPresenter
import uk.nhs.redbook.demo.presentation.UrlConnectionRelayHttp

internal val TODAY = LocalDate.parse("2026-11-23")

/** A phone's screen (411 x 891 dp, a Pixel's) at 2.5 pixels a dp. */
internal const val WIDTH_DP = 411f
internal const val HEIGHT_DP = 891f
internal const val PX_PER_DP = 2.5f

internal fun openBook(): RedBook = runBlocking {
    RedBook.openWithKeyProvider(
        Files.createTempDirectory("redbook-ui-test").resolve("family.redbook").toString(),
        RawKeyProvider(ByteArray(32) { 7 }),
    )
}

/** Nothing listens here: a phone that is never synced in a test never reaches it. */
internal const val NO_RELAY = "http://127.0.0.1:9"

/**
 * A family's phone: the real library on a new database, the screens' presenters, a
 * desktop platform. Its app scope runs on the Swing event thread, as an Android app's
 * runs on its main thread: long calls suspend there and never hold it.
 */
internal class Phone(relayUrl: String = NO_RELAY, http: RelayHttp = UrlConnectionRelayHttp(5_000)) : AutoCloseable {
    val book = openBook()
    val presenter = FamilyPresenter(book, GrowthCharts.whoOnly()) { TODAY }
    val sharing = Sharing(book)
    val platform = DesktopPlatform()
    val job = RelaySyncJob(book, http, relayUrl)
    val appScope = CoroutineScope(SupervisorJob() + Dispatchers.Swing)
    val sync = SyncPresenter(job, appScope)
    val recovery = Recovery(book, http, relayUrl)

    fun named(name: String, role: Role = Role.PARENT, organisation: String? = null) = apply {
        book.setDeviceProfile(DeviceProfile(role, name, organisation))
    }

    /** One background run of the sync job, as WorkManager would start it. */
    fun syncInBackground() = runBlocking { job.run() }

    @androidx.compose.runtime.Composable
    fun App(start: Screen = Screen.Family) = RedBookApp(presenter, sharing, platform, sync, recovery, start)

    fun addChild(name: String, born: LocalDate): String =
        (presenter.addChild(name, born.toString(), Sex.FEMALE, "39+2", "") as FormResult.Saved).entryId

    override fun close() {
        appScope.cancel()
        book.close()
    }
}

@OptIn(ExperimentalTestApi::class)
internal fun onPhone(fontScale: Float = 1f, block: SkikoComposeUiTest.() -> Unit) =
    runSkikoComposeUiTest(Size(WIDTH_DP * PX_PER_DP, HEIGHT_DP * PX_PER_DP), Density(PX_PER_DP, fontScale)) { block() }

/** What the screen shows now, as a PNG in the screenshots folder (-Dredbook.screenshots). */
@OptIn(ExperimentalTestApi::class)
internal fun SkikoComposeUiTest.screenshot(name: String) {
    val dir = System.getProperty("redbook.screenshots") ?: return
    waitForIdle()
    val png = Image.makeFromBitmap(captureToImage().asSkiaBitmap()).encodeToData(EncodedImageFormat.PNG)!!
    File(dir).apply { mkdirs() }.resolve("$name.png").writeBytes(png.bytes)
}

/** A text field, by the label TalkBack reads for it. */
@OptIn(ExperimentalTestApi::class)
internal fun SkikoComposeUiTest.field(label: String) = onNode(hasSetTextAction() and hasText(label))

@OptIn(ExperimentalTestApi::class)
internal fun SkikoComposeUiTest.type(label: String, text: String) {
    field(label).performScrollTo().performTextClearance()
    field(label).performTextInput(text)
}

@OptIn(ExperimentalTestApi::class)
internal fun SkikoComposeUiTest.tap(text: String) {
    onNode(hasText(text) and hasClickAction()).performScrollTo().performClick()
    // A tap that goes to a child's screen: it is drawn once its record has opened.
    opened()
}

/** Shown, and not cut off at the screen's sides: [text] fits at this font scale. */
@OptIn(ExperimentalTestApi::class)
internal fun SkikoComposeUiTest.assertFits(text: String, substring: Boolean = false) {
    val node = onAllNodesWithText(text, substring = substring).onFirst().performScrollTo().assertIsDisplayed()
    val bounds = node.getBoundsInRoot()
    val width = onRoot().getBoundsInRoot().right
    assertTrue(bounds.left >= androidx.compose.ui.unit.Dp(0f) && bounds.right <= width, "'$text' runs off the screen: $bounds in $width")
}

/** [text] is laid out on one line: a short label (a tab's, a button's) never breaks a word. */
@OptIn(ExperimentalTestApi::class)
internal fun SkikoComposeUiTest.assertOneLine(text: String) {
    val node = onAllNodesWithText(text, useUnmergedTree = true).onFirst().fetchSemanticsNode()
    val layouts = mutableListOf<TextLayoutResult>()
    node.config[SemanticsActions.GetTextLayoutResult].action?.invoke(layouts)
    assertEquals(1, layouts.single().lineCount, "'$text' wraps")
}


/** The family's relay (`redbook relay serve`) on a free loopback port, for one test. */
internal class TestRelay : AutoCloseable {
    private val process: Process
    val url: String

    init {
        val cli = System.getProperty("redbook.cli") ?: "target/debug/redbook"
        val data = Files.createTempDirectory("redbook-ui-relay")
        process = ProcessBuilder(cli, "relay", "serve", "--listen", "127.0.0.1:0", "--data", data.toString())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start()
        // Its first line on stderr names the port it bound.
        val first = process.errorStream.bufferedReader().readLine() ?: error("the relay did not start")
        url = first.substringAfter("relay listening on ").trim()
        Thread { process.errorStream.bufferedReader().forEachLine { } }.apply { isDaemon = true }.start()
    }

    override fun close() {
        process.destroy()
        process.waitFor(5, TimeUnit.SECONDS)
    }
}

/** A node with [text] is on screen now (for waitUntil). */
@OptIn(ExperimentalTestApi::class)
internal fun SkikoComposeUiTest.shows(text: String, substring: Boolean = false) =
    onAllNodesWithText(text, substring = substring).fetchSemanticsNodes().isNotEmpty()

/** A child's screen has opened its record: its progress is gone (the record drawn, or why not). */
@OptIn(ExperimentalTestApi::class)
internal fun SkikoComposeUiTest.opened() =
    waitUntil(timeoutMillis = 30_000) { onAllNodesWithTag(OPENING_TAG).fetchSemanticsNodes().isEmpty() }
