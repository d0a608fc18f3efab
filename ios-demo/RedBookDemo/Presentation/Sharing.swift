// Sharing a child's record with a clinic or the other parent, and syncing it. Mirrors
// android-demo's Sharing.kt; the platform supplies the camera and the transport.
import Foundation

/// Text for a QR code, and how many bytes it carries (a QR holds up to 2,953).
struct QrPayload {
    let text: String
    let bytes: Int
}

struct MemberRow: Identifiable {
    var id: String { deviceId }
    let name: String
    /// The core's sentence: role as granted, by whom, confirmed by an organisation or not.
    let standing: String
    let access: Access
    let deviceId: String
    let removed: Bool
}

/// An invitation accepted: the child's record, and what to tell the person.
struct Accepted {
    let childId: String
    let message: String
}

final class Sharing {
    private let book: RedBook

    init(book: RedBook) { self.book = book }

    /// This device's card: a member scans it to invite this device.
    func myCard() -> QrPayload {
        let card = (try? book.deviceCard()) ?? ""
        return QrPayload(text: card, bytes: card.utf8.count)
    }

    /// An admin invites the device whose card it scanned, with the access the admin chose
    /// (.admin for someone with parental responsibility): the invitation, as a QR code.
    func invite(childId: String, scannedCard: String, access: Access) throws -> QrPayload {
        let invitation = try book.share(id: childId, deviceCard: scannedCard.trimmingCharacters(in: .whitespacesAndNewlines), access: access)
        return QrPayload(text: invitationQr(invitation: invitation), bytes: invitation.count)
    }

    /// The invited device scans the invitation: the record, and what to tell the person,
    /// in the core's words. Off the main thread: an invitation can bring a whole record.
    /// Any other code is invalid input, in the core's words.
    func accept(scannedInvitation: String) async throws -> Accepted {
        let book = self.book
        return try await Task.detached {
            let id = try book.accept(invitation: try invitationFromQr(scanned: scannedInvitation))
            return Accepted(childId: id, message: recordAddedText(childName: try book.child(id: id).details.name))
        }.value
    }

    /// An update file received, off the main thread (it can carry a whole record): what to
    /// tell the person, whether it changed anything. A damaged or foreign one is refused
    /// in the core's words.
    func receiveUpdate(_ bytes: Data) async throws -> String {
        let book = self.book
        return try await Task.detached {
            updateReceivedText(changed: try book.receive(message: bytes).changed)
        }.value
    }

    func members(childId: String) throws -> [MemberRow] {
        try book.members(id: childId).map {
            MemberRow(name: $0.displayName, standing: $0.standing, access: $0.access, deviceId: $0.deviceId, removed: $0.removedBy != nil)
        }
    }
}

/// A transport the platform provides (Multipeer Connectivity, Bluetooth, a relay): it
/// carries sealed bytes and never needs to read them.
protocol SyncLink {
    func send(_ message: Data)
    /// The next message that arrived, or nil when none is waiting.
    func receive() -> Data?
}

/// One side of a sync with one peer device over a link; see SyncSession in Sharing.kt.
/// The core resets a session that stops making progress (automerge #1284).
final class SyncSession {
    private let book: RedBook
    private let childId: String
    private let peerDeviceId: String
    private(set) var changed = false

    init(book: RedBook, childId: String, peerDeviceId: String) {
        self.book = book
        self.childId = childId
        self.peerDeviceId = peerDeviceId
    }

    /// Sends what this side has and takes what came; returns whether anything moved.
    func step(over link: SyncLink) throws -> Bool {
        var moved = 0
        while let incoming = link.receive() {
            moved += 1
            if try book.receive(message: incoming).changed { changed = true }
        }
        if let outgoing = try book.syncMessage(id: childId, peerDeviceId: peerDeviceId) {
            link.send(outgoing)
            moved += 1
        }
        return moved > 0
    }

    /// Store and forward: everything the peer lacks in one sealed file.
    func exportUpdate() throws -> Data {
        try book.exportBundle(id: childId, peerDeviceId: peerDeviceId)
    }
}
