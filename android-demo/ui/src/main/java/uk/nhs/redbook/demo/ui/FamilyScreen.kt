// The family's children: one card per child (name, age, entries), the core's counts of
// damaged and withdrawn records, and the ways to add a child.
package uk.nhs.redbook.demo.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.*
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.*
import androidx.compose.runtime.*
import androidx.compose.ui.Modifier
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.unit.dp
import kotlinx.coroutines.launch
import uk.nhs.redbook.RedbookException
import uk.nhs.redbook.errorText
import uk.nhs.redbook.demo.presentation.FamilyPresenter
import uk.nhs.redbook.demo.presentation.Sharing

@Composable
fun FamilyScreen(presenter: FamilyPresenter, sharing: Sharing, platform: PlatformUi, revision: Int,
                 open: (String) -> Unit, go: (Screen) -> Unit) {
    var message by remember { mutableStateOf<String?>(null) }
    var accepted by remember { mutableIntStateOf(0) }
    val scope = rememberCoroutineScope()
    val state = remember(revision, accepted) { presenter.children() }
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp)) {
        Text("Red book", style = MaterialTheme.typography.headlineMedium, modifier = Modifier.semantics { heading() })
        state.children.forEach { child ->
            Card(Modifier.fillMaxWidth().padding(vertical = 4.dp).clickable { open(child.id) }) {
                Column(Modifier.padding(12.dp)) {
                    Text(child.name, style = MaterialTheme.typography.titleMedium)
                    Text("${child.age} · ${child.entries}")
                    if (child.nhsNumber.isNotEmpty()) Text(child.nhsNumber, style = MaterialTheme.typography.bodySmall)
                    if (child.needsAttention) Text("A detail was changed on two phones: choose one", color = MaterialTheme.colorScheme.error)
                }
            }
        }
        if (state.damagedRecords > 0u) Text("${state.damagedRecords} record(s) could not be read", color = MaterialTheme.colorScheme.error)
        if (state.withdrawn.isNotEmpty()) Text(state.withdrawn, style = MaterialTheme.typography.bodySmall)
        Spacer(Modifier.height(12.dp))
        Button(onClick = { go(Screen.AddChild) }, Modifier.fillMaxWidth()) { Text("Add a child") }
        OutlinedButton(onClick = {
            platform.scanQr("Scan an invitation") { text ->
                scope.launch {
                    message = try { sharing.accept(text).message.also { accepted++ } } catch (e: RedbookException) { errorText(e) }
                }
            }
        }, Modifier.fillMaxWidth().padding(top = 8.dp)) { Text("Add a shared record") }
        message?.let { Text(it) }
        OutlinedButton(onClick = { go(Screen.Sync) }, Modifier.fillMaxWidth().padding(top = 8.dp)) { Text("Sync") }
        OutlinedButton(onClick = { go(Screen.RecoveryKit) }, Modifier.fillMaxWidth().padding(top = 8.dp)) { Text("Recovery kit") }
        TextButton(onClick = { go(Screen.Restore) }, Modifier.fillMaxWidth().padding(top = 8.dp)) { Text("Restore from the recovery kit") }
    }
}
