// The desktop test host's platform: the core's SVG chart drawn by Skia (as Android's
// WebView draws it), a QR code's place, and a camera, printer, share sheet and file picker
// that the tests drive and read.
package uk.nhs.redbook.demo.ui

import androidx.compose.foundation.Canvas
import androidx.compose.foundation.border
import androidx.compose.foundation.layout.Box
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.remember
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.graphics.drawscope.drawIntoCanvas
import androidx.compose.ui.graphics.nativeCanvas
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.unit.dp
import org.jetbrains.skia.Data
import org.jetbrains.skia.svg.SVGDOM
import org.jetbrains.skia.svg.SVGLength
import org.jetbrains.skia.svg.SVGLengthUnit

class DesktopPlatform : PlatformUi {
    /** What the next scan reads, as the camera would hand it over. */
    var nextScan: String? = null
    val printed = mutableListOf<String>()
    val sent = mutableListOf<Pair<String, ByteArray>>()
    var nextOpened: ByteArray? = null

    override fun scanQr(prompt: String, onScanned: (String) -> Unit) { nextScan?.let(onScanned) }
    override fun printSummary(childId: String) { printed += childId }
    override fun sendUpdate(toName: String, update: ByteArray) { sent += toName to update }
    override fun openUpdate(onOpened: (ByteArray) -> Unit) { nextOpened?.let(onOpened) }

    @Composable
    override fun Chart(svg: String, modifier: Modifier) {
        val dom = remember(svg) {
            SVGDOM(Data.makeFromBytes(svg.encodeToByteArray())).apply {
                // Scaled to the space the screen gives it (its viewBox kept), as a WebView fits it.
                root?.width = SVGLength(100f, SVGLengthUnit.PERCENTAGE)
                root?.height = SVGLength(100f, SVGLengthUnit.PERCENTAGE)
            }
        }
        // Skia's SVG module here has no font manager: the chart's lines are drawn, its words are not.
        Canvas(modifier.semantics { contentDescription = "Growth chart" }) {
            dom.setContainerSize(size.width, size.height)
            drawIntoCanvas { dom.render(it.nativeCanvas) }
        }
    }

    @Composable
    override fun QrCode(text: String, modifier: Modifier) {
        Box(modifier.border(1.dp, Color.Black), contentAlignment = Alignment.Center) { Text("QR: ${text.length} characters") }
    }
}
