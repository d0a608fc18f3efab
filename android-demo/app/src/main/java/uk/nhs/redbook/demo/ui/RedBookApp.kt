// The Compose screens: thin. Each draws a state from ../presentation and calls its actions;
// no formatting, rules or storage here.
package uk.nhs.redbook.demo.ui

import android.content.Intent
import android.graphics.Bitmap
import android.print.PrintAttributes
import android.print.PrintManager
import android.webkit.WebView
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.Image
import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.*
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.*
import androidx.compose.runtime.*
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.graphics.asImageBitmap
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.unit.dp
import androidx.compose.ui.viewinterop.AndroidView
import androidx.core.content.FileProvider
import com.google.zxing.BarcodeFormat
import com.google.zxing.qrcode.QRCodeWriter
import com.journeyapps.barcodescanner.ScanContract
import com.journeyapps.barcodescanner.ScanOptions
import uk.nhs.redbook.Access
import uk.nhs.redbook.Correction
import uk.nhs.redbook.GrowthCharts
import uk.nhs.redbook.Measure
import uk.nhs.redbook.RecordObserver
import uk.nhs.redbook.RedBook
import uk.nhs.redbook.RedbookException
import uk.nhs.redbook.Verification
import uk.nhs.redbook.demo.presentation.FamilyPresenter
import uk.nhs.redbook.demo.presentation.FormResult
import uk.nhs.redbook.demo.presentation.Sharing
import uk.nhs.redbook.demo.presentation.SyncSession

private sealed class Screen {
    object Family : Screen()
    data class Child(val id: String, val tab: Int = 0) : Screen()
    data class Share(val childId: String) : Screen()
}

@Composable
fun RedBookApp(book: RedBook, presenter: FamilyPresenter, sharing: Sharing) {
    var screen by remember { mutableStateOf<Screen>(Screen.Family) }
    // Bumped when another device's message changed a record: screens re-read the core.
    var revision by remember { mutableIntStateOf(0) }
    DisposableEffect(book) {
        book.addObserver(object : RecordObserver {
            override fun recordChanged(recordId: String) { revision++ }
        })
        onDispose {}
    }
    MaterialTheme(colorScheme = lightColorScheme(primary = Color(0xFFB5121B))) {
        when (val s = screen) {
            Screen.Family -> FamilyScreen(presenter, sharing, revision) { screen = Screen.Child(it) }
            is Screen.Child -> ChildScreen(book, presenter, s, revision, onTab = { screen = s.copy(tab = it) },
                onShare = { screen = Screen.Share(s.id) }, onBack = { screen = Screen.Family })
            is Screen.Share -> ShareScreen(book, sharing, s.childId) { screen = Screen.Child(s.childId) }
        }
    }
}

@Composable
private fun FamilyScreen(presenter: FamilyPresenter, sharing: Sharing, revision: Int, open: (String) -> Unit) {
    val state = remember(revision) { presenter.children() }
    var message by remember { mutableStateOf<String?>(null) }
    val scan = rememberLauncherForActivityResult(ScanContract()) { result ->
        result.contents?.let { text ->
            message = try { sharing.accept(text); "Record added" } catch (e: RedbookException) { e.message }
        }
    }
    Column(Modifier.padding(16.dp)) {
        Text("Red book", style = MaterialTheme.typography.headlineMedium)
        state.children.forEach { child ->
            Card(Modifier.fillMaxWidth().padding(vertical = 4.dp).clickable { open(child.id) }) {
                Column(Modifier.padding(12.dp)) {
                    Text(child.name, style = MaterialTheme.typography.titleMedium)
                    Text("${child.age} · ${child.entries}")
                    if (child.needsAttention) Text("A detail was changed on two phones: choose one", color = MaterialTheme.colorScheme.error)
                }
            }
        }
        if (state.damagedRecords > 0) Text("${state.damagedRecords} record(s) could not be read", color = MaterialTheme.colorScheme.error)
        Button(onClick = { scan.launch(ScanOptions().setPrompt("Scan an invitation")) }) { Text("Add a shared record") }
        message?.let { Text(it) }
    }
}

@Composable
private fun ChildScreen(book: RedBook, presenter: FamilyPresenter, screen: Screen.Child, revision: Int,
                        onTab: (Int) -> Unit, onShare: () -> Unit, onBack: () -> Unit) {
    val context = LocalContext.current
    var edits by remember { mutableIntStateOf(0) }
    val timeline = remember(screen.id, revision, edits) { presenter.timeline(screen.id) }
    Column(Modifier.padding(16.dp)) {
        TextButton(onClick = onBack) { Text("< Family") }
        Text(timeline.title, style = MaterialTheme.typography.headlineSmall)
        Text(timeline.subtitle)
        timeline.conflicts.forEach { Text(it, color = MaterialTheme.colorScheme.error) }
        TabRow(selectedTabIndex = screen.tab) {
            listOf("Timeline", "Growth", "Vaccines").forEachIndexed { i, label ->
                Tab(selected = screen.tab == i, onClick = { onTab(i) }, text = { Text(label) })
            }
        }
        when (screen.tab) {
            0 -> {
                AddEntry(presenter, screen.id) { edits++ }
                LazyColumn {
                    items(timeline.rows) { item ->
                        Column(Modifier.padding(vertical = 6.dp)) {
                            Text("${item.date}  ${item.text}")
                            Text("${item.author} · ${item.verificationText}", color = when (item.verification) {
                                Verification.VERIFIED -> Color(0xFF1A7F37)
                                Verification.INVALID, Verification.NOT_PERMITTED -> MaterialTheme.colorScheme.error
                                Verification.UNVERIFIED -> Color.Gray
                            })
                            item.checks.forEach { Text("Check: $it", color = MaterialTheme.colorScheme.error) }
                        }
                    }
                }
            }
            1 -> GrowthTab(presenter, screen.id, revision + edits)
            2 -> {
                val state = remember(screen.id, revision, edits) { presenter.immunisations(screen.id) }
                state.nextVisit?.let { Text("Next: $it", style = MaterialTheme.typography.titleMedium) }
                LazyColumn {
                    items(state.due) { Text("${it.vaccine}: ${it.status}", color = if (it.urgent) MaterialTheme.colorScheme.error else Color.Unspecified) }
                    items(state.given) { Text("${it.date}  ${it.vaccine}") }
                }
            }
        }
        Row {
            Button(onClick = onShare) { Text("Share with a clinic") }
            Spacer(Modifier.width(8.dp))
            OutlinedButton(onClick = { printSummary(context, book, screen.id) }) { Text("Print summary") }
        }
    }
}

@Composable
private fun AddEntry(presenter: FamilyPresenter, childId: String, saved: () -> Unit) {
    var weight by remember { mutableStateOf("") }
    var length by remember { mutableStateOf("") }
    var head by remember { mutableStateOf("") }
    var note by remember { mutableStateOf("") }
    var problem by remember { mutableStateOf<String?>(null) }
    var askingToConfirm by remember { mutableStateOf(false) }
    fun outcome(result: FormResult) = when (result) {
        is FormResult.Saved -> { weight = ""; length = ""; head = ""; note = ""; problem = null; askingToConfirm = false; saved() }
        is FormResult.Invalid -> { problem = result.message; askingToConfirm = false }
        is FormResult.NeedsConfirmation -> { problem = result.advice; askingToConfirm = true }
    }
    Row {
        OutlinedTextField(weight, { weight = it }, Modifier.weight(1f), label = { Text("kg") })
        OutlinedTextField(length, { length = it }, Modifier.weight(1f), label = { Text(presenter.lengthLabel(childId)) })
        OutlinedTextField(head, { head = it }, Modifier.weight(1f), label = { Text("head cm") })
    }
    Button(onClick = { outcome(presenter.addMeasurement(childId, java.time.LocalDate.now().toString(), weight, length, head, atHome = true)) }) {
        Text("Add measurement")
    }
    if (askingToConfirm) {
        OutlinedButton(onClick = { outcome(presenter.addMeasurement(childId, java.time.LocalDate.now().toString(), weight, length, head, atHome = true, confirmed = true)) }) {
            Text("Keep it as typed (a professional will review it)")
        }
    }
    OutlinedTextField(note, { note = it }, Modifier.fillMaxWidth(), label = { Text("A note for the red book") })
    Button(onClick = { outcome(presenter.addNote(childId, note)) }) { Text("Add note") }
    problem?.let { Text(it, color = MaterialTheme.colorScheme.error) }
}

@Composable
private fun GrowthTab(presenter: FamilyPresenter, childId: String, revision: Int) {
    var measure by remember { mutableStateOf(Measure.WEIGHT_KG) }
    val state = remember(childId, measure, revision) { presenter.growth(childId, measure) }
    Row {
        listOf(Measure.WEIGHT_KG to "Weight", Measure.HEIGHT_CM to "Length", Measure.HEAD_CIRCUMFERENCE_CM to "Head").forEach { (m, label) ->
            FilterChip(selected = measure == m, onClick = { measure = m }, label = { Text(label) })
        }
    }
    state.view.notes.forEach { Text(it, color = MaterialTheme.colorScheme.error) }
    // The core draws the chart (SVG); a WebView shows it as it is.
    state.chartSvg?.let { svg ->
        AndroidView(factory = { WebView(it) }, update = { it.loadDataWithBaseURL(null, svg, "image/svg+xml", "utf-8", null) },
            modifier = Modifier.fillMaxWidth().height(300.dp))
    }
    state.view.rows.forEach { Text("${it.date}  ${it.value}  ${it.centile}") }
}

@Composable
private fun ShareScreen(book: RedBook, sharing: Sharing, childId: String, done: () -> Unit) {
    var qr by remember { mutableStateOf<String?>(null) }
    var problem by remember { mutableStateOf<String?>(null) }
    val scan = rememberLauncherForActivityResult(ScanContract()) { result ->
        result.contents?.let { card ->
            try { qr = sharing.invite(childId, card, Access.WRITER).text } catch (e: RedbookException) { problem = e.message }
        }
    }
    Column(Modifier.padding(16.dp)) {
        TextButton(onClick = done) { Text("< Back") }
        Text("1. On the clinic's device, show its card. 2. Scan it here. 3. Let the clinic scan this code.")
        Button(onClick = { scan.launch(ScanOptions().setPrompt("Scan the clinic's card")) }) { Text("Scan the clinic's card") }
        qr?.let { Image(qrBitmap(it).asImageBitmap(), contentDescription = "Invitation QR code", Modifier.size(280.dp)) }
        problem?.let { Text(it, color = MaterialTheme.colorScheme.error) }
        SyncSection(book, sharing, childId)
    }
}

/**
 * Sync by store and forward: a sealed update file for one member, carried by whatever the
 * family has (the share sheet: Bluetooth, email, a messaging app); nobody on the way can
 * read it. The receiving phone opens it here. (A live link, e.g. Nearby Connections,
 * drives presentation.SyncSession the same way.)
 */
@Composable
private fun SyncSection(book: RedBook, sharing: Sharing, childId: String) {
    val context = LocalContext.current
    var status by remember { mutableStateOf<String?>(null) }
    val open = rememberLauncherForActivityResult(ActivityResultContracts.GetContent()) { uri ->
        uri ?: return@rememberLauncherForActivityResult
        status = try {
            val bytes = context.contentResolver.openInputStream(uri)!!.use { it.readBytes() }
            if (book.receive(bytes).changed) "Update added" else "Nothing new in that update"
        } catch (e: RedbookException) {
            e.message
        }
    }
    Text("Sync", style = MaterialTheme.typography.titleMedium)
    sharing.members(childId).filter { !it.removed && it.deviceId != book.deviceId() }.forEach { member ->
        OutlinedButton(onClick = {
            val file = context.cacheDir.resolve("red-book-update.rbs").apply {
                writeBytes(SyncSession(book, childId, member.deviceId).exportUpdate())
            }
            val uri = FileProvider.getUriForFile(context, "${context.packageName}.files", file)
            val send = Intent(Intent.ACTION_SEND).setType("application/octet-stream")
                .putExtra(Intent.EXTRA_STREAM, uri).addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)
            context.startActivity(Intent.createChooser(send, "Send the update to ${member.name}"))
        }) { Text("Send an update to ${member.name}") }
        Text(member.standing, style = MaterialTheme.typography.bodySmall)
    }
    Button(onClick = { open.launch("*/*") }) { Text("Open an update") }
    status?.let { Text(it) }
}

private fun qrBitmap(text: String): Bitmap {
    val matrix = QRCodeWriter().encode(text, BarcodeFormat.QR_CODE, 512, 512)
    return Bitmap.createBitmap(512, 512, Bitmap.Config.RGB_565).apply {
        for (x in 0 until 512) for (y in 0 until 512) setPixel(x, y, if (matrix[x, y]) 0xFF000000.toInt() else 0xFFFFFFFF.toInt())
    }
}

/** The core's printable summary, through Android's print framework (or "Save as PDF"). */
private fun printSummary(context: android.content.Context, book: RedBook, childId: String) {
    val html = book.summaryHtml(childId, GrowthCharts.whoOnly(), Correction.RCPCH_DIGITAL, null, false)
    val webView = WebView(context)
    webView.webViewClient = object : android.webkit.WebViewClient() {
        override fun onPageFinished(view: WebView, url: String?) {
            val manager = context.getSystemService(android.content.Context.PRINT_SERVICE) as PrintManager
            manager.print("Red book summary", view.createPrintDocumentAdapter("red-book-summary"), PrintAttributes.Builder().build())
        }
    }
    webView.loadDataWithBaseURL(null, html, "text/html", "utf-8", null)
}
