// Sharing a child's record with a clinic or the other parent, and syncing it: what the
// Share and Sync screens show and do. Plain Kotlin over the core; the platform supplies
// the camera (QR scanning) and the transport (a SyncLink).
package uk.nhs.redbook.demo.presentation

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import uk.nhs.redbook.Access
import uk.nhs.redbook.RedBook
import uk.nhs.redbook.invitationFromQr
import uk.nhs.redbook.invitationQr
import uk.nhs.redbook.recordAddedText
import uk.nhs.redbook.updateReceivedText

/** An invitation accepted: the child's record, and what to tell the person. */
data class Accepted(val childId: String, val message: String)

/** Text for a QR code, and how many bytes it carries (a QR holds up to 2,953). */
data class QrPayload(val text: String, val bytes: Int)

/** One member as the Share screen lists it; [standing] is the core's sentence (role as granted, by whom, confirmed or not). */
data class MemberRow(val name: String, val standing: String, val access: Access, val deviceId: String, val removed: Boolean)

class Sharing(private val book: RedBook) {
    /** This device's card: a member scans it to invite this device. */
    fun myCard(): QrPayload = book.deviceCard().let { QrPayload(it, it.toByteArray().size) }

    /**
     * An admin invites the device whose card it scanned, with the access the admin chose
     * (ADMIN for someone with parental responsibility): the invitation, as a QR code.
     */
    fun invite(childId: String, scannedCard: String, access: Access): QrPayload {
        val invitation = book.share(childId, scannedCard.trim(), access)
        return QrPayload(invitationQr(invitation), invitation.size)
    }

    /**
     * The invited device scans the invitation: the record, and what to tell the person, in
     * the core's words. Off the caller's thread: an invitation can bring a whole record. Any
     * other code is invalid input, in the core's words.
     */
    suspend fun accept(scannedInvitation: String): Accepted = withContext(Dispatchers.IO) {
        val id = book.accept(invitationFromQr(scannedInvitation))
        Accepted(id, recordAddedText(book.child(id).details.name))
    }

    fun members(childId: String): List<MemberRow> = book.members(childId).map {
        MemberRow(it.displayName, it.standing, it.access, it.deviceId, it.removedBy != null)
    }

    /** The members an update can be sent to: not removed, not this device. */
    fun others(childId: String): List<MemberRow> = members(childId).filter { !it.removed && it.deviceId != book.deviceId() }

    /** Store and forward: everything [deviceId] lacks of the record, as one sealed file. */
    fun updateFor(childId: String, deviceId: String): ByteArray = SyncSession(book, childId, deviceId).exportUpdate()

    /**
     * An update file received, off the caller's thread (it can carry a whole record): what
     * to tell the person, whether it changed anything. A damaged or foreign one is refused
     * in the core's words.
     */
    suspend fun receiveUpdate(bytes: ByteArray): String = withContext(Dispatchers.IO) {
        updateReceivedText(book.receive(bytes).changed)
    }
}

/**
 * A transport the platform provides (Nearby Connections, Bluetooth, NFC, a relay): it
 * carries sealed bytes and never needs to read them.
 */
interface SyncLink {
    fun send(message: ByteArray)

    /** The next message that arrived, or null when none is waiting. */
    fun receive(): ByteArray?
}

/**
 * One side of a sync with one peer device over a link. Call [step] whenever the link may
 * have something (a message arrived, or to start); it sends what this side has and takes
 * what came. The core resets a session that stops making progress (automerge #1284).
 */
class SyncSession(private val book: RedBook, private val childId: String, private val peerDeviceId: String) {
    var changed = false
        private set

    /** Returns whether anything was sent or received. */
    fun step(link: SyncLink): Boolean {
        var sent = 0
        var received = 0
        while (true) {
            val incoming = link.receive() ?: break
            received++
            if (book.receive(incoming).changed) changed = true
        }
        book.syncMessage(childId, peerDeviceId)?.let {
            link.send(it)
            sent++
        }
        return sent + received > 0
    }

    /** Store and forward: everything the peer lacks in one sealed file. */
    fun exportUpdate(): ByteArray = book.exportBundle(childId, peerDeviceId)
}
