// Sharing a record with a clinic by QR code, and syncing by sealed update files that the
// platform carries (the share sheet out, a file picker in).
package uk.nhs.redbook.demo.ui

import androidx.compose.foundation.layout.*
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.*
import androidx.compose.runtime.*
import androidx.compose.ui.Modifier
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.unit.dp
import kotlinx.coroutines.launch
import uk.nhs.redbook.Access
import uk.nhs.redbook.RedbookException
import uk.nhs.redbook.errorText
import uk.nhs.redbook.demo.presentation.Sharing

@Composable
fun ShareScreen(sharing: Sharing, platform: PlatformUi, childId: String, done: () -> Unit) {
    var qr by remember { mutableStateOf<String?>(null) }
    var problem by remember { mutableStateOf<String?>(null) }
    var status by remember { mutableStateOf<String?>(null) }
    val scope = rememberCoroutineScope()
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp)) {
        TextButton(onClick = done) { Text("< Back") }
        listOf("1. On the clinic's device, show its card.", "2. Scan it here.", "3. Let the clinic scan this code.").forEach { Text(it) }
        Button(onClick = {
            platform.scanQr("Scan the clinic's card") { card ->
                try { qr = sharing.invite(childId, card, Access.WRITER).text; problem = null } catch (e: RedbookException) { problem = errorText(e) }
            }
        }) { Text("Scan the clinic's card") }
        qr?.let { platform.QrCode(it, Modifier.size(280.dp).semantics { contentDescription = "Invitation QR code" }) }
        problem?.let { Text(it, color = MaterialTheme.colorScheme.error) }
        Spacer(Modifier.height(12.dp))
        Text("Sync", style = MaterialTheme.typography.titleMedium)
        sharing.others(childId).forEach { member ->
            OutlinedButton(onClick = { platform.sendUpdate(member.name, sharing.updateFor(childId, member.deviceId)) }) {
                Text("Send an update to ${member.name}")
            }
            Text(member.standing, style = MaterialTheme.typography.bodySmall)
        }
        Button(onClick = {
            platform.openUpdate { bytes ->
                scope.launch { status = try { sharing.receiveUpdate(bytes) } catch (e: RedbookException) { errorText(e) } }
            }
        }) { Text("Open an update") }
        status?.let { Text(it) }
    }
}
