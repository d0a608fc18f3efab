// The app's entry point: opens the family's database with the Keychain and hands the
// presentation classes to the SwiftUI screens. Mirrors android-demo's MainActivity.kt.
import SwiftUI

@main
struct RedBookDemoApp: App {
    @StateObject private var family = FamilyModel()

    var body: some Scene {
        WindowGroup {
            switch family.state {
            case let .open(book, presenter, sharing):
                FamilyView(book: book, presenter: presenter, sharing: sharing)
                    .environmentObject(family)
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
        case open(RedBook, FamilyPresenter, Sharing)
        case failed(String)
    }

    @Published private(set) var state: State = .failed("not opened yet")
    @Published var revision = 0

    init() {
        do {
            let folder = try FileManager.default.url(for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
            let book = try RedBook.openWithKeyProvider(path: folder.appendingPathComponent("family.redbook").path, keyProvider: KeychainKeyProvider())
            state = .open(book, FamilyPresenter(book: book, charts: GrowthCharts.whoOnly()), Sharing(book: book))
            book.addObserver(observer: self)
        } catch {
            state = .failed(error.localizedDescription)
        }
    }

    func recordChanged(recordId: RecordId) {
        DispatchQueue.main.async { self.revision += 1 }
    }
}
