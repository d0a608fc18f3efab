// The app's entry point: opens the family's database with the Keychain and hands the
// presentation classes to the SwiftUI screens. Mirrors android-demo's MainActivity.kt.
import SwiftUI

@main
struct RedBookDemoApp: App {
    @StateObject private var family = FamilyModel()

    var body: some Scene {
        WindowGroup {
            switch family.state {
            case let .open(book, presenter, sharing, recovery, sync):
                FamilyView(book: book, presenter: presenter, sharing: sharing, recovery: recovery, sync: sync)
                    .environmentObject(family)
            case .opening:
                ProgressView()
            case let .failed(reason):
                Text("The red book could not be opened: \(reason)").padding()
            }
        }
    }
}

/// Holds the open database and tells the screens to re-read after another device's
/// message changed a record.
final class FamilyModel: ObservableObject, RecordObserver, @unchecked Sendable {
    enum State {
        case opening
        case open(RedBook, FamilyPresenter, Sharing, Recovery, SyncModel)
        case failed(String)
    }

    /// The family's relay: the deployer's, set at build time.
    static let relayUrl = "https://relay.example.invalid"

    @Published private(set) var state: State = .opening
    @Published var revision = 0

    init() {
        // Opening is an async call: the core unwraps the key and reads on its own thread
        // while the main thread draws.
        Task { @MainActor in
            do {
                let folder = try FileManager.default.url(for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
                let book = try await RedBook.openWithKeyProvider(path: folder.appendingPathComponent("family.redbook").path, keyProvider: KeychainKeyProvider())
                let sync = SyncModel(job: RelaySyncJob(book: book, relayUrl: Self.relayUrl))
                state = .open(book, FamilyPresenter(book: book, charts: GrowthCharts.whoOnly()), Sharing(book: book),
                              Recovery(book: book, relayUrl: Self.relayUrl), sync)
                book.addObserver(observer: self)
            } catch {
                state = .failed(error.localizedDescription)
            }
        }
    }

    func recordChanged(recordId: RecordId) {
        DispatchQueue.main.async { self.revision += 1 }
    }
}
