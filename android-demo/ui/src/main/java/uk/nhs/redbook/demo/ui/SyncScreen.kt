// Sync with the family's relay: how it stands in the core's words, "Sync now", and what a
// run found (a problem, this phone removed from a record). The run goes on in the app's
// scope while the person does anything else.
package uk.nhs.redbook.demo.ui

import androidx.compose.foundation.layout.*
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.*
import androidx.compose.runtime.*
import androidx.compose.ui.Modifier
import androidx.compose.ui.semantics.LiveRegionMode
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.liveRegion
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.unit.dp
import uk.nhs.redbook.demo.presentation.SyncPresenter

@Composable
fun SyncScreen(sync: SyncPresenter, back: () -> Unit) {
    val state by sync.state.collectAsState()
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp)) {
        TextButton(onClick = back) { Text("< Family") }
        Text("Sync", style = MaterialTheme.typography.headlineSmall, modifier = Modifier.semantics { heading() })
        // Read out when it changes, as TalkBack announces a live region.
        Text(state.text, Modifier.padding(vertical = 8.dp).semantics { liveRegion = LiveRegionMode.Polite })
        if (state.running) {
            LinearProgressIndicator(Modifier.fillMaxWidth().padding(bottom = 8.dp))
            OutlinedButton(onClick = sync::stop, Modifier.fillMaxWidth()) { Text("Stop syncing") }
        } else {
            Button(onClick = sync::syncNow, Modifier.fillMaxWidth()) { Text("Sync now") }
        }
        state.removedNotices.forEach { Text(it, Modifier.padding(top = 8.dp), color = MaterialTheme.colorScheme.error) }
        state.problems.forEach { Text(it, Modifier.padding(top = 8.dp), style = MaterialTheme.typography.bodySmall) }
    }
}
