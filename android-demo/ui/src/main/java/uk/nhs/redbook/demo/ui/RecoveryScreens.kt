// The recovery kit (made once, its words shown once for the paper book) and the restore
// on a new phone from those words. Both wait on the core's long work without holding the
// screen: the person sees that it is working and can go back.
package uk.nhs.redbook.demo.ui

import androidx.compose.foundation.layout.*
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.*
import androidx.compose.runtime.*
import androidx.compose.ui.Modifier
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.unit.dp
import kotlinx.coroutines.launch
import uk.nhs.redbook.RedbookException
import uk.nhs.redbook.errorText
import uk.nhs.redbook.demo.presentation.Recovery
import uk.nhs.redbook.demo.presentation.RecoveryKitWords
import uk.nhs.redbook.demo.presentation.RestoreResult

@Composable
fun RecoveryKitScreen(recovery: Recovery, platform: PlatformUi, back: () -> Unit) {
    val scope = rememberCoroutineScope()
    var kit by remember { mutableStateOf<RecoveryKitWords?>(null) }
    var working by remember { mutableStateOf(false) }
    var problem by remember { mutableStateOf<String?>(null) }
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp)) {
        TextButton(onClick = back) { Text("< Family") }
        Text("Recovery kit", style = MaterialTheme.typography.headlineSmall, modifier = Modifier.semantics { heading() })
        val shown = kit
        if (shown == null) {
            Button(enabled = !working, onClick = {
                working = true
                scope.launch {
                    try { kit = recovery.makeKit(); problem = null } catch (e: RedbookException) { problem = errorText(e) }
                    working = false
                }
            }, modifier = Modifier.fillMaxWidth().padding(vertical = 8.dp)) { Text("Make the recovery kit") }
            if (working) LinearProgressIndicator(Modifier.fillMaxWidth())
        } else {
            RecoveryWords(shown, platform)
        }
        problem?.let { Text(it, color = MaterialTheme.colorScheme.error) }
    }
}

/** The words a line of four, numbered as they are written into the book, the QR code and the core's caption. */
@Composable
fun RecoveryWords(kit: RecoveryKitWords, platform: PlatformUi) {
    val words = kit.words.split(" ")
    Card(Modifier.fillMaxWidth().padding(vertical = 8.dp)) {
        // Each numbered word whole on its line: the row wraps between words, never inside one.
        FlowRow(Modifier.padding(12.dp).semantics(mergeDescendants = true) { contentDescription = "Recovery words: ${kit.words}" },
            horizontalArrangement = Arrangement.spacedBy(16.dp), verticalArrangement = Arrangement.spacedBy(4.dp)) {
            words.forEachIndexed { i, word -> Text("${i + 1}. $word", style = MaterialTheme.typography.titleMedium, softWrap = false) }
        }
    }
    platform.QrCode(kit.words, Modifier.size(200.dp).semantics { contentDescription = "Recovery kit QR code" })
    kit.caption.forEach { Text(it, style = MaterialTheme.typography.bodySmall) }
}

@Composable
fun RestoreScreen(recovery: Recovery, platform: PlatformUi, back: () -> Unit) {
    val scope = rememberCoroutineScope()
    var words by remember { mutableStateOf("") }
    var working by remember { mutableStateOf(false) }
    var result by remember { mutableStateOf<RestoreResult?>(null) }
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp)) {
        TextButton(onClick = back) { Text("< Family") }
        Text("Restore from the recovery kit", style = MaterialTheme.typography.headlineSmall, modifier = Modifier.semantics { heading() })
        when (val done = result) {
            is RestoreResult.Restored -> {
                done.lines.forEach { Text(it, Modifier.padding(vertical = 4.dp)) }
                done.newWords?.let { RecoveryWords(it, platform) }
            }
            else -> {
                OutlinedTextField(words, { words = it }, Modifier.fillMaxWidth(), label = { Text("The 12 recovery words") },
                    isError = done is RestoreResult.Refused,
                    supportingText = (done as? RestoreResult.Refused)?.let { { Text(it.reason) } })
                Button(enabled = !working, onClick = {
                    working = true
                    scope.launch { result = recovery.restore(words); working = false }
                }, modifier = Modifier.fillMaxWidth().padding(vertical = 8.dp)) { Text("Restore") }
                if (working) LinearProgressIndicator(Modifier.fillMaxWidth())
            }
        }
    }
}
