// What the shared screens (../../ui, android-demo/ui) need from Android: the camera's QR
// scanner, the print framework, the share sheet, the file picker, a WebView for the
// core's SVG chart and zxing for QR codes. Not compiled on the desktop JVM.
package uk.nhs.redbook.demo.platform

import android.content.Context
import android.content.Intent
import android.graphics.Bitmap
import android.print.PrintAttributes
import android.print.PrintManager
import android.webkit.WebView
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.Image
import androidx.compose.runtime.Composable
import androidx.compose.runtime.remember
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.asImageBitmap
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.viewinterop.AndroidView
import androidx.core.content.FileProvider
import com.google.zxing.BarcodeFormat
import com.google.zxing.qrcode.QRCodeWriter
import com.journeyapps.barcodescanner.ScanContract
import com.journeyapps.barcodescanner.ScanOptions
import uk.nhs.redbook.Correction
import uk.nhs.redbook.GrowthCharts
import uk.nhs.redbook.RedBook
import uk.nhs.redbook.demo.ui.PlatformUi

/** The platform for the composition it is remembered in: its launchers belong to it. */
@Composable
fun rememberAndroidPlatform(book: RedBook): PlatformUi {
    val context = LocalContext.current
    val platform = remember(book) { AndroidPlatformUi(context, book) }
    platform.scanner = rememberLauncherForActivityResult(ScanContract()) { result ->
        result.contents?.let { text -> platform.pendingScan?.invoke(text) }
        platform.pendingScan = null
    }
    platform.picker = rememberLauncherForActivityResult(ActivityResultContracts.GetContent()) { uri ->
        uri?.let { picked -> context.contentResolver.openInputStream(picked)?.use { it.readBytes() } }
            ?.let { bytes -> platform.pendingOpen?.invoke(bytes) }
        platform.pendingOpen = null
    }
    return platform
}

class AndroidPlatformUi(private val context: Context, private val book: RedBook) : PlatformUi {
    internal var scanner: androidx.activity.result.ActivityResultLauncher<ScanOptions>? = null
    internal var picker: androidx.activity.result.ActivityResultLauncher<String>? = null
    internal var pendingScan: ((String) -> Unit)? = null
    internal var pendingOpen: ((ByteArray) -> Unit)? = null

    override fun scanQr(prompt: String, onScanned: (String) -> Unit) {
        pendingScan = onScanned
        scanner?.launch(ScanOptions().setPrompt(prompt))
    }

    /** The core's printable summary, through Android's print framework (or "Save as PDF"). */
    override fun printSummary(childId: String) {
        val html = book.summaryHtml(childId, GrowthCharts.whoOnly(), Correction.RCPCH_DIGITAL, null, false)
        val webView = WebView(context)
        webView.webViewClient = object : android.webkit.WebViewClient() {
            override fun onPageFinished(view: WebView, url: String?) {
                val manager = context.getSystemService(Context.PRINT_SERVICE) as PrintManager
                manager.print("Red book summary", view.createPrintDocumentAdapter("red-book-summary"), PrintAttributes.Builder().build())
            }
        }
        webView.loadDataWithBaseURL(null, html, "text/html", "utf-8", null)
    }

    /**
     * Sync by store and forward: the sealed update file goes through the share sheet
     * (Bluetooth, email, a messaging app); nobody on the way can read it.
     */
    override fun sendUpdate(toName: String, update: ByteArray) {
        val file = context.cacheDir.resolve("red-book-update.rbs").apply { writeBytes(update) }
        val uri = FileProvider.getUriForFile(context, "${context.packageName}.files", file)
        val send = Intent(Intent.ACTION_SEND).setType("application/octet-stream")
            .putExtra(Intent.EXTRA_STREAM, uri).addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)
        context.startActivity(Intent.createChooser(send, "Send the update to $toName"))
    }

    override fun openUpdate(onOpened: (ByteArray) -> Unit) {
        pendingOpen = onOpened
        picker?.launch("*/*")
    }

    /** The core draws the chart (SVG); a WebView shows it as it is. */
    @Composable
    override fun Chart(svg: String, modifier: Modifier) {
        AndroidView(factory = { WebView(it) }, update = { it.loadDataWithBaseURL(null, svg, "image/svg+xml", "utf-8", null) }, modifier = modifier)
    }

    @Composable
    override fun QrCode(text: String, modifier: Modifier) {
        val bitmap = remember(text) { qrBitmap(text).asImageBitmap() }
        Image(bitmap, contentDescription = null, modifier = modifier)
    }
}

private fun qrBitmap(text: String): Bitmap {
    val matrix = QRCodeWriter().encode(text, BarcodeFormat.QR_CODE, 512, 512)
    return Bitmap.createBitmap(512, 512, Bitmap.Config.RGB_565).apply {
        for (x in 0 until 512) for (y in 0 until 512) setPixel(x, y, if (matrix[x, y]) 0xFF000000.toInt() else 0xFFFFFFFF.toInt())
    }
}
