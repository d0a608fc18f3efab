// The app's screens, shared by Android and the desktop test host: each draws a state from
// ../presentation and calls its actions; no formatting, rules or storage here, and no
// Android API (those are behind PlatformUi). Only androidx.compose.* and the presentation
// layer, so the same code compiles with Jetpack Compose and Compose for the desktop JVM.
package uk.nhs.redbook.demo.ui

import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Surface
import androidx.compose.material3.lightColorScheme
import androidx.compose.runtime.*
import androidx.compose.ui.Modifier
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.ui.graphics.Color
import uk.nhs.redbook.demo.presentation.FamilyPresenter
import uk.nhs.redbook.demo.presentation.Recovery
import uk.nhs.redbook.demo.presentation.Sharing
import uk.nhs.redbook.demo.presentation.SyncPresenter

/** Where the person is; the back button of each screen says where it goes. */
sealed class Screen {
    object Family : Screen()
    object AddChild : Screen()
    data class Child(val id: String, val tab: ChildTab = ChildTab.Timeline) : Screen()
    data class Share(val childId: String) : Screen()
    data class Members(val childId: String) : Screen()
    object Sync : Screen()
    object RecoveryKit : Screen()
    object Restore : Screen()
}

enum class ChildTab(val label: String) { Timeline("Timeline"), Growth("Growth"), Vaccines("Vaccines") }

val RedBookColors = lightColorScheme(primary = Color(0xFFB5121B))

@Composable
fun RedBookApp(presenter: FamilyPresenter, sharing: Sharing, platform: PlatformUi, sync: SyncPresenter, recovery: Recovery,
               start: Screen = Screen.Family) {
    var screen by remember { mutableStateOf(start) }
    // Bumped when another device's message changed a record: screens read the core again.
    var revision by remember { mutableIntStateOf(0) }
    DisposableEffect(presenter) {
        presenter.observe { revision++ }
        onDispose {}
    }
    MaterialTheme(colorScheme = RedBookColors) {
        Surface(Modifier.fillMaxSize()) {
            when (val s = screen) {
                Screen.Family -> FamilyScreen(presenter, sharing, platform, revision,
                    open = { screen = Screen.Child(it) }, go = { screen = it })
                Screen.AddChild -> AddChildScreen(presenter, added = { screen = Screen.Child(it) }, back = { screen = Screen.Family })
                is Screen.Child -> ChildScreen(presenter, platform, s, revision, onTab = { screen = s.copy(tab = it) },
                    onShare = { screen = Screen.Share(s.id) }, onMembers = { screen = Screen.Members(s.id) },
                    onBack = { screen = Screen.Family })
                is Screen.Share -> ShareScreen(sharing, platform, s.childId) { screen = Screen.Child(s.childId) }
                is Screen.Members -> MembersScreen(sharing, s.childId, revision) { screen = Screen.Child(s.childId) }
                Screen.Sync -> SyncScreen(sync) { screen = Screen.Family }
                Screen.RecoveryKit -> RecoveryKitScreen(recovery, platform) { screen = Screen.Family }
                Screen.Restore -> RestoreScreen(recovery, platform) { screen = Screen.Family }
            }
        }
    }
}
