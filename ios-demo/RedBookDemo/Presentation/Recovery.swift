// The recovery kit and the restore on a new phone, mirroring android-demo's Recovery.kt
// (tested on the JVM against a real relay). The core makes the words, seals the backup
// and words every outcome.
import Foundation

/// Words to show once, with the core's caption for the paper book.
struct RecoveryKitWords {
    let words: String
    let caption: [String]
}

enum RestoreResult {
    /// `lines`: the core's account of what came back; `newWords`: this phone's kit, to write down now.
    case restored(lines: [String], newWords: RecoveryKitWords?)
    /// Wrong words, no backup, no relay: the core's reason.
    case refused(reason: String)
}

final class Recovery {
    private let book: RedBook
    private let http: RelayHttp
    private let relayUrl: String

    init(book: RedBook, http: RelayHttp = URLSessionRelayHttp(), relayUrl: String) {
        self.book = book
        self.http = http
        self.relayUrl = relayUrl
    }

    /// Makes this phone's kit and backs its records up to the relay; the words are shown once and kept nowhere.
    func makeKit() async throws -> RecoveryKitWords {
        let words = try book.createRecoveryKit()
        _ = try await book.backupToRelay(http: http, relayUrl: relayUrl)
        return RecoveryKitWords(words: words, caption: recoveryKitCaption())
    }

    /// On a new phone: every record the kit covers, from the relay's backup; the lost phone removed.
    func restore(words: String) async -> RestoreResult {
        do {
            let restored = try await book.restoreFromRelay(words: words.trimmingCharacters(in: .whitespacesAndNewlines), http: http, relayUrl: relayUrl, removeLost: true)
            return .restored(lines: describeRestore(restored: restored), newWords: restored.words.map { RecoveryKitWords(words: $0, caption: recoveryKitCaption()) })
        } catch let error as RedbookError {
            return .refused(reason: errorText(error: error))
        } catch {
            return .refused(reason: error.localizedDescription)
        }
    }
}
