// Vaccines: the next visit, what is due or overdue, what was given, and the form to record
// one given. A vaccination the schedule does not expect shows the core's question first.
package uk.nhs.redbook.demo.ui

import androidx.compose.foundation.layout.*
import androidx.compose.material3.*
import androidx.compose.runtime.*
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.unit.dp
import uk.nhs.redbook.demo.presentation.FamilyPresenter
import uk.nhs.redbook.demo.presentation.FormResult

@Composable
fun VaccinesTab(presenter: FamilyPresenter, childId: String, revision: Int, writable: Boolean, saved: () -> Unit) {
    val state = remember(childId, revision) { presenter.immunisations(childId) }
    state.nextVisit?.let { Text("Next: $it", style = MaterialTheme.typography.titleMedium) }
    state.riskFactors.forEach { Text(it, style = MaterialTheme.typography.bodySmall) }
    if (state.due.isNotEmpty()) {
        Text("Due", style = MaterialTheme.typography.titleMedium, modifier = Modifier.padding(top = 8.dp).semantics { heading() })
        // The status says when ("due now", "overdue since ...", "from ..."): no date beside it.
        state.due.forEach { VaccineRow(it.vaccine, it.status, it.urgent) }
    }
    if (state.given.isNotEmpty()) {
        Text("Given", style = MaterialTheme.typography.titleMedium, modifier = Modifier.padding(top = 8.dp).semantics { heading() })
        state.given.forEach { VaccineRow(it.vaccine, "${it.date} · ${it.status}", it.urgent) }
    }
    Spacer(Modifier.height(8.dp))
    if (writable) AddImmunisation(presenter, childId, saved)
}

@Composable
fun VaccineRow(vaccine: String, status: String, urgent: Boolean) {
    Column(Modifier.fillMaxWidth().padding(vertical = 4.dp)) {
        Text(vaccine)
        Text(status, style = MaterialTheme.typography.bodySmall,
            color = if (urgent) MaterialTheme.colorScheme.error else Color.Unspecified)
    }
    HorizontalDivider()
}

@Composable
fun AddImmunisation(presenter: FamilyPresenter, childId: String, saved: () -> Unit) {
    var date by remember { mutableStateOf(presenter.todayText()) }
    var vaccine by remember { mutableStateOf("") }
    var dose by remember { mutableStateOf("") }
    var batch by remember { mutableStateOf("") }
    var problem by remember { mutableStateOf<FormResult.Invalid?>(null) }
    var question by remember { mutableStateOf<FormResult.NeedsConfirmation?>(null) }
    fun add(confirmed: Boolean) = when (val result = presenter.addImmunisation(childId, date, vaccine, dose, batch, confirmed)) {
        is FormResult.Saved -> { vaccine = ""; dose = ""; batch = ""; problem = null; question = null; saved() }
        is FormResult.Invalid -> { problem = result; question = null }
        is FormResult.NeedsConfirmation -> { problem = null; question = result }
    }
    Text("Record a vaccination", style = MaterialTheme.typography.titleMedium, modifier = Modifier.semantics { heading() })
    FormField("Date given (YYYY-MM-DD)", date, { date = it; question = null }, "date", problem)
    FormField("Vaccine", vaccine, { vaccine = it; question = null }, "vaccine", problem)
    FormField("Dose", dose, { dose = it; question = null }, "dose", problem)
    FormField("Batch (if known)", batch, { batch = it }, "batch", problem)
    question?.let { Confirmation(it.advice, keep = { add(confirmed = true) }, change = { question = null }) }
        ?: Button(onClick = { add(confirmed = false) }) { Text("Add vaccination") }
    problem?.takeIf { it.field !in setOf("date", "vaccine", "dose", "batch") }?.let { Text(it.message, color = MaterialTheme.colorScheme.error) }
}
