// Growth: the measure chosen, the core's notes (faltering growth and the like), its chart
// as drawn by the platform, and each measurement with its centile in words.
package uk.nhs.redbook.demo.ui

import androidx.compose.foundation.layout.*
import androidx.compose.material3.*
import androidx.compose.runtime.*
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import uk.nhs.redbook.Measure
import uk.nhs.redbook.demo.presentation.FamilyPresenter

@Composable
fun GrowthTab(presenter: FamilyPresenter, platform: PlatformUi, childId: String, revision: Int) {
    var measure by remember { mutableStateOf(Measure.WEIGHT_KG) }
    val state = remember(childId, measure, revision) { presenter.growth(childId, measure) }
    // The core's measures and words: "Length" until the second birthday, then "Height".
    val choices = remember(childId) { presenter.measureChoices(childId) }
    FlowRow(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
        choices.forEach { choice ->
            FilterChip(selected = measure == choice.measure, onClick = { measure = choice.measure }, label = { Text(choice.label) })
        }
    }
    state.view.notes.forEach { Text(it, color = MaterialTheme.colorScheme.error) }
    // The core draws its charts 820 x 580.
    state.chartSvg?.let { platform.Chart(it, Modifier.fillMaxWidth().aspectRatio(820f / 580f)) }
    Text(state.view.chartName, style = MaterialTheme.typography.bodySmall)
    state.view.rows.forEach {
        Column(Modifier.fillMaxWidth().padding(vertical = 4.dp)) {
            Text("${it.date}  ${it.value}")
            Text(it.centile, style = MaterialTheme.typography.bodySmall)
        }
        HorizontalDivider()
    }
}
