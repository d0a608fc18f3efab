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
import org.jetbrains.skia.Canvas as SkiaCanvas
import org.jetbrains.skia.Data
import org.jetbrains.skia.Font
import org.jetbrains.skia.FontMgr
import org.jetbrains.skia.FontStyle
import org.jetbrains.skia.Paint
import org.jetbrains.skia.PaintMode
import org.jetbrains.skia.TextLine
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
        val words = remember(svg) { SvgWords.of(svg) }
        Canvas(modifier.semantics { contentDescription = "Growth chart" }) {
            dom.setContainerSize(size.width, size.height)
            drawIntoCanvas {
                dom.render(it.nativeCanvas)
                words.draw(it.nativeCanvas, size.width, size.height)
            }
        }
    }

    @Composable
    override fun QrCode(text: String, modifier: Modifier) {
        Box(modifier.border(1.dp, Color.Black), contentAlignment = Alignment.Center) { Text("QR: ${text.length} characters") }
    }
}

/**
 * The chart's words, drawn over Skia's rendering of its SVG: Skiko's SVG module has no font
 * manager, so it draws every line and no text. Reads each <text> (position, size, anchor,
 * colour, weight, the y-axis label's translate and rotate, what a <g> around it sets) and
 * draws it with the system's fonts, fitted to the box as the SVG's viewBox is.
 */
private class SvgWords(private val width: Float, private val height: Float, private val texts: List<Word>) {
    class Word(val text: String, val x: Float, val y: Float, val size: Float, val anchor: String, val fill: Int,
               val bold: Boolean, val translate: Pair<Float, Float>, val rotate: Float, val halo: Int?)

    fun draw(canvas: SkiaCanvas, boxWidth: Float, boxHeight: Float) {
        val scale = minOf(boxWidth / width, boxHeight / height)
        canvas.save()
        canvas.translate((boxWidth - width * scale) / 2, (boxHeight - height * scale) / 2)
        canvas.scale(scale, scale)
        for (word in texts) {
            val style = if (word.bold) FontStyle.BOLD else FontStyle.NORMAL
            val font = Font(FontMgr.default.matchFamilyStyle("sans-serif", style) ?: FontMgr.default.legacyMakeTypeface("", style), word.size)
            val line = TextLine.make(word.text, font)
            val x = word.x - when (word.anchor) { "middle" -> line.width / 2; "end" -> line.width; else -> 0f }
            canvas.save()
            canvas.translate(word.translate.first, word.translate.second)
            canvas.rotate(word.rotate)
            word.halo?.let { canvas.drawTextLine(line, x, word.y, Paint().apply { color = it; mode = PaintMode.STROKE; strokeWidth = 3f }) }
            canvas.drawTextLine(line, x, word.y, Paint().apply { color = word.fill })
            canvas.restore()
        }
        canvas.restore()
    }

    companion object {
        fun of(svg: String): SvgWords {
            val factory = javax.xml.parsers.DocumentBuilderFactory.newInstance()
            val root = factory.newDocumentBuilder().parse(org.xml.sax.InputSource(java.io.StringReader(svg))).documentElement
            val box = root.getAttribute("viewBox").split(" ").map { it.toFloat() }
            val nodes = root.getElementsByTagName("text")
            val words = (0 until nodes.length).map { i ->
                val element = nodes.item(i) as org.w3c.dom.Element
                fun inherited(name: String): String? {
                    var node: org.w3c.dom.Node? = element
                    while (node is org.w3c.dom.Element) {
                        node.getAttribute(name).takeIf { it.isNotEmpty() }?.let { return it }
                        node = node.parentNode
                    }
                    return null
                }
                val transform = element.getAttribute("transform")
                val translate = Regex("""translate\(([-\d.]+)[ ,]+([-\d.]+)\)""").find(transform)
                    ?.let { it.groupValues[1].toFloat() to it.groupValues[2].toFloat() } ?: (0f to 0f)
                val rotate = Regex("""rotate\(([-\d.]+)\)""").find(transform)?.groupValues?.get(1)?.toFloat() ?: 0f
                Word(element.textContent, element.getAttribute("x").toFloatOrNull() ?: 0f, element.getAttribute("y").toFloatOrNull() ?: 0f,
                    inherited("font-size")?.toFloatOrNull() ?: 16f, inherited("text-anchor") ?: "start", colour(inherited("fill")) ?: 0xFF000000.toInt(),
                    inherited("font-weight") == "bold", translate, rotate, element.getAttribute("stroke").takeIf { it.isNotEmpty() }?.let(::colour))
            }
            return SvgWords(box[2], box[3], words)
        }

        /** "#5b4f80" or "#222" as ARGB; anything else (none, a name) as not drawn in colour. */
        private fun colour(value: String?): Int? {
            val hex = value?.removePrefix("#")?.takeIf { value.startsWith("#") } ?: return null
            val full = if (hex.length == 3) hex.map { "$it$it" }.joinToString("") else hex
            return (0xFF000000 or full.toLong(16)).toInt()
        }
    }
}
