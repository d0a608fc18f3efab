// Who holds a child's record: each member by name with the core's sentence for its
// standing (role as granted, by whom, confirmed by an organisation or not, removed).
package uk.nhs.redbook.demo.ui

import androidx.compose.foundation.layout.*
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.*
import androidx.compose.runtime.*
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.unit.dp
import uk.nhs.redbook.demo.presentation.Sharing

@Composable
fun MembersScreen(sharing: Sharing, childId: String, revision: Int, back: () -> Unit) {
    val members = remember(childId, revision) { sharing.members(childId) }
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp)) {
        TextButton(onClick = back) { Text("< Back") }
        Text("Members", style = MaterialTheme.typography.headlineSmall, modifier = Modifier.semantics { heading() })
        members.forEach { member ->
            // The core's sentence starts with the member's name: it is the whole row.
            Text(member.standing, Modifier.fillMaxWidth().padding(vertical = 12.dp),
                style = MaterialTheme.typography.bodyLarge, color = if (member.removed) Color.Gray else Color.Unspecified)
            HorizontalDivider()
        }
    }
}
