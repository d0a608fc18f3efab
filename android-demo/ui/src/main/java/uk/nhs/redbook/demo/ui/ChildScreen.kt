// One child: the core's title and subtitle, conflicts to resolve, and three tabs (the
// timeline with the forms to add to it, growth, vaccines).
package uk.nhs.redbook.demo.ui

import androidx.compose.foundation.layout.*
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.*
import androidx.compose.runtime.*
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.unit.dp
import uk.nhs.redbook.ConflictView
import uk.nhs.redbook.RedbookException
import uk.nhs.redbook.TimelineRowView
import uk.nhs.redbook.Verification
import uk.nhs.redbook.errorText
import uk.nhs.redbook.demo.presentation.FamilyPresenter
import uk.nhs.redbook.demo.presentation.FormResult

/**
 * Opens the record off the main thread first (a large record read cold takes a phone
 * a noticeable moment), showing progress meanwhile, then draws it from memory; a record
 * that cannot be opened says why in the core's words.
 */
@Composable
fun ChildScreen(presenter: FamilyPresenter, platform: PlatformUi, screen: Screen.Child, revision: Int,
                onTab: (ChildTab) -> Unit, onShare: () -> Unit, onMembers: () -> Unit, onBack: () -> Unit) {
    var opening by remember(screen.id) { mutableStateOf<Opening>(Opening.InProgress) }
    LaunchedEffect(screen.id) {
        opening = try {
            presenter.openChild(screen.id)
            Opening.Open
        } catch (e: RedbookException) {
            Opening.Failed(errorText(e))
        }
    }
    when (val state = opening) {
        Opening.InProgress -> Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp)) {
            TextButton(onClick = onBack) { Text("< Family") }
            CircularProgressIndicator(Modifier.padding(16.dp).testTag(OPENING_TAG))
        }
        is Opening.Failed -> Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp)) {
            TextButton(onClick = onBack) { Text("< Family") }
            Text(state.message, color = MaterialTheme.colorScheme.error)
        }
        Opening.Open -> OpenChildScreen(presenter, platform, screen, revision, onTab, onShare, onMembers, onBack)
    }
}

/** The progress shown while a record opens (UI tests wait for it to go). */
const val OPENING_TAG = "opening-record"

private sealed class Opening {
    object InProgress : Opening()
    object Open : Opening()
    data class Failed(val message: String) : Opening()
}

@Composable
private fun OpenChildScreen(presenter: FamilyPresenter, platform: PlatformUi, screen: Screen.Child, revision: Int,
                            onTab: (ChildTab) -> Unit, onShare: () -> Unit, onMembers: () -> Unit, onBack: () -> Unit) {
    var edits by remember { mutableIntStateOf(0) }
    val timeline = remember(screen.id, revision, edits) { presenter.timeline(screen.id) }
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp)) {
        TextButton(onClick = onBack) { Text("< Family") }
        Text(timeline.title, style = MaterialTheme.typography.headlineSmall, modifier = Modifier.semantics { heading() })
        Text(timeline.subtitle)
        timeline.closed?.let { Text(it, color = MaterialTheme.colorScheme.error) }
        timeline.conflicts.forEach { ConflictCard(presenter, screen.id, it) { edits++ } }
        // A closed record is read-only here: the core would refuse what the forms write.
        val open = timeline.closed == null
        // Scrollable: at a large font size each tab keeps its word whole instead of breaking it.
        ScrollableTabRow(selectedTabIndex = screen.tab.ordinal, Modifier.padding(vertical = 8.dp), edgePadding = 0.dp) {
            ChildTab.entries.forEach { tab ->
                Tab(selected = screen.tab == tab, onClick = { onTab(tab) }, text = { Text(tab.label) })
            }
        }
        when (screen.tab) {
            ChildTab.Timeline -> {
                // The record first, what a parent opens it for; the forms to add to it after.
                timeline.rows.forEach { TimelineRow(it) }
                if (open) {
                    Spacer(Modifier.height(12.dp))
                    AddEntry(presenter, screen.id) { edits++ }
                }
            }
            ChildTab.Growth -> GrowthTab(presenter, platform, screen.id, revision + edits)
            ChildTab.Vaccines -> VaccinesTab(presenter, screen.id, revision + edits, writable = open) { edits++ }
        }
        Spacer(Modifier.height(12.dp))
        FlowRow(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            if (open) Button(onClick = onShare) { Text("Share with a clinic") }
            OutlinedButton(onClick = onMembers) { Text("Members") }
            OutlinedButton(onClick = { platform.printSummary(screen.id) }) { Text("Print summary") }
        }
    }
}

/**
 * A detail two devices set apart: the core's sentence and one button per value it offers
 * (keeping it settles the conflict on every device); an address, whose values a screen
 * never lists, is typed again.
 */
@Composable
fun ConflictCard(presenter: FamilyPresenter, childId: String, conflict: ConflictView, settled: () -> Unit) {
    Card(Modifier.fillMaxWidth().padding(vertical = 4.dp),
        colors = CardDefaults.cardColors(containerColor = MaterialTheme.colorScheme.errorContainer)) {
        Column(Modifier.padding(12.dp)) {
            Text(conflict.text, color = MaterialTheme.colorScheme.onErrorContainer)
            conflict.choices.forEach { value ->
                OutlinedButton(onClick = { presenter.settle(childId, conflict.field, value); settled() },
                    Modifier.fillMaxWidth().padding(top = 8.dp)) { Text("Keep: $value") }
            }
            if (conflict.choices.isEmpty()) {
                var typed by remember { mutableStateOf("") }
                OutlinedTextField(typed, { typed = it }, Modifier.fillMaxWidth(), label = { Text("Type it again") })
                Button(onClick = { presenter.settle(childId, conflict.field, typed); settled() },
                    enabled = typed.isNotBlank(), modifier = Modifier.padding(top = 8.dp)) { Text("Save") }
            }
        }
    }
}

@Composable
fun TimelineRow(item: TimelineRowView) {
    Column(Modifier.fillMaxWidth().padding(vertical = 6.dp)) {
        Text(if (item.date.isEmpty()) item.text else "${item.date}  ${item.text}")
        Text("${item.author} · ${item.verificationText}", style = MaterialTheme.typography.bodySmall, color = when (item.verification) {
            Verification.VERIFIED -> Color(0xFF1A7F37)
            Verification.INVALID, Verification.NOT_PERMITTED -> MaterialTheme.colorScheme.error
            Verification.UNVERIFIED -> Color.Gray
        })
        item.checks.forEach { Text("Check: $it", color = MaterialTheme.colorScheme.error) }
    }
    HorizontalDivider()
}

/**
 * Adding a measurement or a note. A value the core questions for this child (a slipped
 * decimal point) shows the core's question and the choice to keep it as typed, which
 * writes it marked for a professional to review.
 */
@Composable
fun AddEntry(presenter: FamilyPresenter, childId: String, saved: () -> Unit) {
    var date by remember { mutableStateOf(presenter.todayText()) }
    var weight by remember { mutableStateOf("") }
    var length by remember { mutableStateOf("") }
    var head by remember { mutableStateOf("") }
    var note by remember { mutableStateOf("") }
    var problem by remember { mutableStateOf<FormResult.Invalid?>(null) }
    var question by remember { mutableStateOf<FormResult.NeedsConfirmation?>(null) }
    fun outcome(result: FormResult) = when (result) {
        is FormResult.Saved -> { weight = ""; length = ""; head = ""; note = ""; problem = null; question = null; saved() }
        is FormResult.Invalid -> { problem = result; question = null }
        is FormResult.NeedsConfirmation -> { problem = null; question = result }
    }
    fun measure(confirmed: Boolean) =
        outcome(presenter.addMeasurement(childId, date, weight, length, head, atHome = true, confirmed = confirmed))
    Text("Add a measurement", style = MaterialTheme.typography.titleMedium, modifier = Modifier.semantics { heading() })
    FormField("Date (YYYY-MM-DD)", date, { date = it; question = null }, "date", problem)
    FormField("weight kg", weight, { weight = it; question = null }, "weight_kg", problem)
    FormField(presenter.lengthLabel(childId), length, { length = it; question = null }, "length_cm", problem)
    FormField("head cm", head, { head = it; question = null }, "head_circumference_cm", problem)
    // While the core's question is open, its two answers are the only way on.
    question?.let { Confirmation(it.advice, keep = { measure(confirmed = true) }, change = { question = null }) }
        ?: Button(onClick = { measure(confirmed = false) }) { Text("Add measurement") }
    problem?.takeIf { it.field == "measurement" }?.let { Text(it.message, color = MaterialTheme.colorScheme.error) }
    Spacer(Modifier.height(8.dp))
    FormField("A note for the red book", note, { note = it }, "text", problem)
    Button(onClick = { outcome(presenter.addNote(childId, note)) }) { Text("Add note") }
    Spacer(Modifier.height(8.dp))
}

/** The core's question about a value it finds unlikely, and the two answers. */
@Composable
fun Confirmation(advice: String, keep: () -> Unit, change: () -> Unit) {
    Card(Modifier.fillMaxWidth().padding(vertical = 4.dp),
        colors = CardDefaults.cardColors(containerColor = MaterialTheme.colorScheme.errorContainer)) {
        Column(Modifier.padding(12.dp)) {
            Text(advice, color = MaterialTheme.colorScheme.onErrorContainer)
            Spacer(Modifier.height(8.dp))
            OutlinedButton(onClick = keep, Modifier.fillMaxWidth()) { Text("Keep it as typed (a professional will review it)") }
            TextButton(onClick = change, Modifier.fillMaxWidth()) { Text("Change it") }
        }
    }
}
