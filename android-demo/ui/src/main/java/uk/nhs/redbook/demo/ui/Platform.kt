// What the screens need from the platform, and nothing more: the camera, the printer, the
// share sheet, a file picker, and drawing an SVG chart or a QR code. Android supplies
// these from its own APIs (app/.../platform/AndroidPlatformUi.kt); the desktop test host
// supplies stand-ins, so every screen here compiles and runs on the desktop JVM too.
package uk.nhs.redbook.demo.ui

import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier

interface PlatformUi {
    /** Opens the QR scanner with [prompt]; [onScanned] gets the code's text, if one was read. */
    fun scanQr(prompt: String, onScanned: (String) -> Unit)

    /** Prints the child's one-page summary (or saves it as PDF). */
    fun printSummary(childId: String)

    /** Hands a sealed update file to whatever carries it to [toName] (the share sheet). */
    fun sendUpdate(toName: String, update: ByteArray)

    /** Lets the person pick an update file received; [onOpened] gets its bytes. */
    fun openUpdate(onOpened: (ByteArray) -> Unit)

    /** The core's growth chart, SVG text, drawn as it is. */
    @Composable
    fun Chart(svg: String, modifier: Modifier)

    /** [text] as a QR code. */
    @Composable
    fun QrCode(text: String, modifier: Modifier)
}
