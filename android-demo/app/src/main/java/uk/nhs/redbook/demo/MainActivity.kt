// The app's entry point: opens the family's database with the Android Keystore and hands
// the presentation classes and the platform's parts to the shared Compose screens (android-demo/ui). Everything shown comes from the core.
package uk.nhs.redbook.demo

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.lifecycle.lifecycleScope
import kotlinx.coroutines.launch
import uk.nhs.redbook.GrowthCharts
import uk.nhs.redbook.RedBook
import uk.nhs.redbook.demo.platform.AndroidKeystoreKeyProvider
import uk.nhs.redbook.demo.platform.rememberAndroidPlatform
import uk.nhs.redbook.demo.presentation.FamilyPresenter
import uk.nhs.redbook.demo.presentation.Recovery
import uk.nhs.redbook.demo.presentation.RelaySyncJob
import uk.nhs.redbook.demo.presentation.Sharing
import uk.nhs.redbook.demo.presentation.SyncPresenter
import uk.nhs.redbook.demo.presentation.UrlConnectionRelayHttp
import uk.nhs.redbook.demo.ui.RedBookApp

/** The family's relay: the deployer's address. */
private const val RELAY_URL = "https://relay.example.invalid"

class MainActivity : ComponentActivity() {
    private var book: RedBook? = null

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        // One database per installation, in the app's private files; its key is wrapped
        // by a key that never leaves the Android Keystore. Opening is a suspend call: the
        // core unwraps and reads on its own thread while the main thread draws.
        lifecycleScope.launch {
            val opened = RedBook.openWithKeyProvider(filesDir.resolve("family.redbook").path, AndroidKeystoreKeyProvider())
            book = opened
            val presenter = FamilyPresenter(opened, GrowthCharts.whoOnly())
            val sharing = Sharing(opened)
            val http = UrlConnectionRelayHttp()
            // The app's own scope (Dispatchers.Main): a sync started from a screen outlives it.
            val sync = SyncPresenter(RelaySyncJob(opened, http, RELAY_URL), lifecycleScope)
            val recovery = Recovery(opened, http, RELAY_URL)
            setContent { RedBookApp(presenter, sharing, rememberAndroidPlatform(opened), sync, recovery) }
        }
    }

    override fun onDestroy() {
        book?.close()
        super.onDestroy()
    }
}
