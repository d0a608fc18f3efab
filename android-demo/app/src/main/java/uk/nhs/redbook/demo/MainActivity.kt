// The app's entry point: opens the family's database with the Android Keystore and hands
// the presentation classes and the platform's parts to the shared Compose screens (android-demo/ui). Everything shown comes from the core.
package uk.nhs.redbook.demo

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import uk.nhs.redbook.GrowthCharts
import uk.nhs.redbook.RedBook
import uk.nhs.redbook.demo.platform.AndroidKeystoreKeyProvider
import uk.nhs.redbook.demo.platform.rememberAndroidPlatform
import uk.nhs.redbook.demo.presentation.FamilyPresenter
import uk.nhs.redbook.demo.presentation.Sharing
import uk.nhs.redbook.demo.ui.RedBookApp

class MainActivity : ComponentActivity() {
    private lateinit var book: RedBook

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        // One database per installation, in the app's private files; its key is wrapped
        // by a key that never leaves the Android Keystore.
        book = RedBook.openWithKeyProvider(filesDir.resolve("family.redbook").path, AndroidKeystoreKeyProvider())
        val presenter = FamilyPresenter(book, GrowthCharts.whoOnly())
        val sharing = Sharing(book)
        setContent { RedBookApp(presenter, sharing, rememberAndroidPlatform(book)) }
    }

    override fun onDestroy() {
        book.close()
        super.onDestroy()
    }
}
