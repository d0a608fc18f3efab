// The SwiftUI screens: thin, one for one with android-demo's ui/RedBookApp.kt. Each draws a
// state from ../Presentation and calls its actions.
import CoreImage.CIFilterBuiltins
import SwiftUI
import UIKit
import UniformTypeIdentifiers
import WebKit

struct FamilyView: View {
    let book: RedBook
    let presenter: FamilyPresenter
    let sharing: Sharing
    let recovery: Recovery
    @ObservedObject var sync: SyncModel
    @EnvironmentObject private var family: FamilyModel
    @State private var invitation = ""
    @State private var message: String?

    var body: some View {
        NavigationStack {
            let screen = try? presenter.children()
            List {
                ForEach(screen?.children ?? [], id: \.id) { child in
                    NavigationLink(value: child.id) {
                        VStack(alignment: .leading) {
                            Text(child.name).font(.headline)
                            Text("\(child.age) · \(child.entries)")
                            if child.needsAttention {
                                Text("A detail was changed on two phones: choose one").foregroundStyle(.red)
                            }
                        }
                    }
                }
                if let damaged = screen?.damagedRecords, damaged > 0 {
                    Text("\(damaged) record(s) could not be read").foregroundStyle(.red)
                }
                Section("Add a shared record") {
                    // A camera scanner (DataScannerViewController) fills this in on a device.
                    TextField("Invitation (scan the QR code)", text: $invitation)
                    Button("Accept invitation") {
                        Task { @MainActor in
                            do {
                                message = try await sharing.accept(scannedInvitation: invitation).message
                                family.revision += 1
                            } catch let error as RedbookError {
                                message = errorText(error: error)
                            } catch {
                                message = error.localizedDescription
                            }
                        }
                    }
                    if let message { Text(message) }
                }
                Section {
                    NavigationLink("Add a child") { AddChildView(presenter: presenter) }
                    NavigationLink("Sync") { SyncView(sync: sync) }
                    NavigationLink("Recovery kit") { RecoveryKitView(recovery: recovery) }
                    NavigationLink("Restore from the recovery kit") { RestoreView(recovery: recovery) }
                }
            }
            .navigationTitle("Red book")
            .navigationDestination(for: String.self) { id in
                ChildView(book: book, presenter: presenter, sharing: sharing, childId: id)
            }
            .id(family.revision)
        }
    }
}

/// Opens the record off the main thread first, showing progress meanwhile, then draws
/// it from memory; a record that cannot be opened says why in the core's words.
struct ChildView: View {
    let book: RedBook
    let presenter: FamilyPresenter
    let sharing: Sharing
    let childId: String

    private enum Opening {
        case inProgress
        case open
        case failed(String)
    }
    @State private var opening = Opening.inProgress

    var body: some View {
        Group {
            switch opening {
            case .inProgress: ProgressView()
            case .open: OpenChildView(book: book, presenter: presenter, sharing: sharing, childId: childId)
            case let .failed(message): Text(message).foregroundStyle(.red)
            }
        }
        .task(id: childId) {
            do {
                try await presenter.openChild(childId: childId)
                opening = .open
            } catch let error as RedbookError {
                opening = .failed(errorText(error: error))
            } catch {
                opening = .failed(error.localizedDescription)
            }
        }
    }
}

private struct OpenChildView: View {
    let book: RedBook
    let presenter: FamilyPresenter
    let sharing: Sharing
    let childId: String
    @EnvironmentObject private var family: FamilyModel
    @State private var tab = 0
    @State private var edits = 0

    var body: some View {
        let timeline = try? presenter.timeline(childId: childId)
        VStack(alignment: .leading) {
            Text(timeline?.subtitle ?? "")
            ForEach(timeline?.conflicts ?? [], id: \.text) { conflict in
                ConflictCard(presenter: presenter, childId: childId, conflict: conflict) { edits += 1 }
            }
            // A closed record is read-only here: the core would refuse what the forms write.
            if let closed = timeline?.closed { Text(closed).foregroundStyle(.red) }
            let open = timeline?.closed == nil
            Picker("", selection: $tab) {
                Text("Timeline").tag(0)
                Text("Growth").tag(1)
                Text("Vaccines").tag(2)
            }
            .pickerStyle(.segmented)
            switch tab {
            case 0:
                if open { AddEntryView(presenter: presenter, childId: childId) { edits += 1 } }
                List(timeline?.rows ?? [], id: \.entryId) { item in
                    VStack(alignment: .leading) {
                        Text("\(item.date)  \(item.text)")
                        Text("\(item.author) · \(item.verificationText)")
                            .foregroundStyle(item.verification == .verified ? .green : (item.verification == .invalid || item.verification == .notPermitted) ? .red : .gray)
                        ForEach(item.checks, id: \.self) { Text("Check: \($0)").foregroundStyle(.red) }
                    }
                }
            case 1:
                GrowthTab(presenter: presenter, childId: childId)
            default:
                let state = try? presenter.immunisations(childId: childId)
                if let next = state?.nextVisit { Text("Next: \(next)").font(.headline) }
                List {
                    ForEach(state?.due ?? [], id: \.self) { Text("\($0.vaccine): \($0.status)").foregroundStyle($0.urgent ? .red : .primary) }
                    ForEach(state?.given ?? [], id: \.self) { Text("\($0.date)  \($0.vaccine)") }
                    if open { AddImmunisationView(presenter: presenter, childId: childId) { edits += 1 } }
                }
            }
            HStack {
                if open { NavigationLink("Share with a clinic") { ShareView(book: book, sharing: sharing, childId: childId) } }
                NavigationLink("Members") { MembersView(sharing: sharing, childId: childId) }
                Button("Print summary") { printSummary(book: book, childId: childId) }
            }
        }
        .padding()
        .navigationTitle(timeline?.title ?? "")
        .id("\(family.revision)-\(edits)")
    }
}

struct AddEntryView: View {
    let presenter: FamilyPresenter
    let childId: String
    let saved: () -> Void
    @State private var weight = ""
    @State private var length = ""
    @State private var head = ""
    @State private var note = ""
    @State private var problem: String?
    @State private var question: String?

    var body: some View {
        HStack {
            TextField("weight kg", text: $weight).keyboardType(.decimalPad)
            TextField((try? presenter.lengthLabel(childId: childId)) ?? "", text: $length).keyboardType(.decimalPad)
            TextField("head cm", text: $head).keyboardType(.decimalPad)
        }
        if let question {
            // The core's question about a value unlikely for this child; kept as typed only
            // when confirmed, marked for a professional to review.
            Text(question).foregroundStyle(.red)
            Button("Keep it as typed (a professional will review it)") { measure(confirmed: true) }
            Button("Change it") { self.question = nil }
        } else {
            Button("Add measurement") { measure(confirmed: false) }
        }
        TextField("A note for the red book", text: $note)
        Button("Add note") { handle(presenter.addNote(childId: childId, text: note)) }
        if let problem { Text(problem).foregroundStyle(.red) }
    }

    private func measure(confirmed: Bool) {
        handle(presenter.addMeasurement(childId: childId, date: isoToday(), weightKg: weight, lengthOrHeightCm: length, headCm: head, atHome: true, confirmed: confirmed))
    }

    private func handle(_ result: FormResult) {
        switch result {
        case .saved:
            weight = ""; length = ""; head = ""; note = ""; problem = nil; question = nil
            saved()
        case let .invalid(_, message):
            problem = message; question = nil
        case let .needsConfirmation(_, advice):
            problem = nil; question = advice
        }
    }
}

struct GrowthTab: View {
    let presenter: FamilyPresenter
    let childId: String
    @State private var measure = Measure.weightKg

    var body: some View {
        let state = try? presenter.growth(childId: childId, measure: measure)
        Picker("Measure", selection: $measure) {
            // The core's measures and words: "Length" until the second birthday, then "Height".
            ForEach((try? presenter.measureChoices(childId: childId)) ?? [], id: \.measure) { choice in
                Text(choice.label).tag(choice.measure)
            }
        }
        .pickerStyle(.segmented)
        ForEach(state?.view.notes ?? [], id: \.self) { Text($0).foregroundStyle(.red) }
        // The core draws the chart (SVG); a web view shows it as it is.
        if let svg = state?.chartSvg { SvgView(svg: svg).frame(height: 300) }
        List(state?.view.rows ?? [], id: \.self) { Text("\($0.date)  \($0.value)  \($0.centile)") }
    }
}

struct SvgView: UIViewRepresentable {
    let svg: String
    func makeUIView(context: Context) -> WKWebView { WKWebView() }
    func updateUIView(_ view: WKWebView, context: Context) {
        view.loadHTMLString("<meta name=viewport content='width=device-width'><body style='margin:0'>\(svg)</body>", baseURL: nil)
    }
}

struct ShareView: View {
    let book: RedBook
    let sharing: Sharing
    let childId: String
    @State private var card = ""
    @State private var qr: String?
    @State private var problem: String?
    @State private var importing = false
    @State private var status: String?

    var body: some View {
        Form {
            Section("Invite a clinic") {
                Text("1. On the clinic's device, show its card. 2. Scan it here. 3. Let the clinic scan this code.")
                TextField("The clinic's card (scan its QR code)", text: $card)
                Button("Make the invitation") {
                    do { qr = try sharing.invite(childId: childId, scannedCard: card, access: .writer).text } catch { problem = error.localizedDescription }
                }
                if let qr, let image = qrImage(qr) {
                    Image(uiImage: image).interpolation(.none).resizable().frame(width: 260, height: 260)
                }
                if let problem { Text(problem).foregroundStyle(.red) }
            }
            Section("Sync") {
                // Store and forward: a sealed update file for one member, sent with the
                // share sheet (AirDrop, Messages, email); nobody on the way can read it.
                ForEach((try? sharing.members(childId: childId)) ?? []) { member in
                    if !member.removed && member.deviceId != book.deviceId(), let file = updateFile(for: member.deviceId) {
                        ShareLink("Send an update to \(member.name)", item: file)
                        Text(member.standing).font(.caption)
                    }
                }
                Button("Open an update") { importing = true }
                if let status { Text(status) }
            }
        }
        .fileImporter(isPresented: $importing, allowedContentTypes: [.data]) { result in
            do {
                let url = try result.get()
                let scoped = url.startAccessingSecurityScopedResource()
                defer { if scoped { url.stopAccessingSecurityScopedResource() } }
                let bytes = try Data(contentsOf: url)
                Task { @MainActor in
                    do {
                        status = try await sharing.receiveUpdate(bytes)
                    } catch let error as RedbookError {
                        status = errorText(error: error)
                    } catch {
                        status = error.localizedDescription
                    }
                }
            } catch {
                status = error.localizedDescription
            }
        }
    }

    private func updateFile(for deviceId: String) -> URL? {
        guard let bytes = try? SyncSession(book: book, childId: childId, peerDeviceId: deviceId).exportUpdate() else { return nil }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("red-book-update.rbs")
        return (try? bytes.write(to: url)).map { url }
    }
}

private func qrImage(_ text: String) -> UIImage? {
    let filter = CIFilter.qrCodeGenerator()
    filter.message = Data(text.utf8)
    guard let output = filter.outputImage?.transformed(by: CGAffineTransform(scaleX: 8, y: 8)),
          let image = CIContext().createCGImage(output, from: output.extent) else { return nil }
    return UIImage(cgImage: image)
}

/// The core's printable summary, through iOS printing (or "Save to Files" as PDF).
private func printSummary(book: RedBook, childId: String) {
    guard let html = try? book.summaryHtml(id: childId, charts: GrowthCharts.whoOnly(), correction: .rcpchDigital, on: nil, showAddress: false) else { return }
    let controller = UIPrintInteractionController.shared
    controller.printFormatter = UIMarkupTextPrintFormatter(markupText: html)
    controller.present(animated: true)
}
