// A new child's record: the form as typed goes to the core, which reads and checks it and
// says which field to fix.
package uk.nhs.redbook.demo.ui

import androidx.compose.foundation.layout.*
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.*
import androidx.compose.runtime.*
import androidx.compose.ui.Modifier
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.unit.dp
import uk.nhs.redbook.Sex
import uk.nhs.redbook.demo.presentation.FamilyPresenter
import uk.nhs.redbook.demo.presentation.FormResult

@Composable
fun AddChildScreen(presenter: FamilyPresenter, added: (String) -> Unit, back: () -> Unit) {
    var name by remember { mutableStateOf("") }
    var born by remember { mutableStateOf("") }
    var sex by remember { mutableStateOf<Sex?>(null) }
    var gestation by remember { mutableStateOf("") }
    var nhs by remember { mutableStateOf("") }
    var problem by remember { mutableStateOf<FormResult.Invalid?>(null) }
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp)) {
        TextButton(onClick = back) { Text("< Family") }
        Text("Add a child", style = MaterialTheme.typography.headlineSmall, modifier = Modifier.semantics { heading() })
        FormField("Name", name, { name = it }, "name", problem)
        FormField("Date of birth (YYYY-MM-DD)", born, { born = it }, "birth_date", problem)
        Row(verticalAlignment = androidx.compose.ui.Alignment.CenterVertically) {
            Text("Sex", Modifier.padding(end = 8.dp))
            listOf(Sex.FEMALE to "Female", Sex.MALE to "Male").forEach { (value, label) ->
                FilterChip(selected = sex == value, onClick = { sex = value }, label = { Text(label) }, modifier = Modifier.padding(end = 8.dp))
            }
        }
        problem?.takeIf { it.field == "sex" }?.let { Text(it.message, color = MaterialTheme.colorScheme.error) }
        FormField("Gestation at birth (weeks+days, if known)", gestation, { gestation = it }, "gestation", problem)
        FormField("NHS number (if known)", nhs, { nhs = it }, "nhs_number", problem)
        Button(onClick = {
            when (val result = presenter.addChild(name, born, sex, gestation, nhs)) {
                is FormResult.Saved -> added(result.entryId)
                is FormResult.Invalid -> problem = result
                // A child's details are never questioned, only refused.
                is FormResult.NeedsConfirmation -> problem = FormResult.Invalid(result.field, result.advice)
            }
        }, Modifier.fillMaxWidth().padding(top = 8.dp)) { Text("Add the child") }
        // A problem with no field of its own on this form (the core names every field it refuses).
        problem?.takeIf { it.field !in setOf("name", "birth_date", "sex", "gestation", "nhs_number") }?.let {
            Text(it.message, color = MaterialTheme.colorScheme.error)
        }
    }
}

/** A text field that shows its own problem beneath it, as TalkBack reads it with the field. */
@Composable
fun FormField(label: String, value: String, onChange: (String) -> Unit, field: String, problem: FormResult.Invalid?,
              modifier: Modifier = Modifier.fillMaxWidth()) {
    val mine = problem?.takeIf { it.field == field }
    // Focus in ink, not the theme's red, so that only a field with a problem looks like one.
    val ink = MaterialTheme.colorScheme.onSurface
    OutlinedTextField(value, onChange, modifier, label = { Text(label) }, isError = mine != null,
        supportingText = mine?.let { { Text(it.message) } },
        colors = OutlinedTextFieldDefaults.colors(focusedBorderColor = ink, focusedLabelColor = ink, cursorColor = ink))
}
