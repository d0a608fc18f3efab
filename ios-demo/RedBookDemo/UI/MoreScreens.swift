// The SwiftUI screens added beside Screens.swift, one for one with android-demo's
// AddChildScreen.kt, VaccinesTab.kt (its form), ChildScreen.kt (ConflictCard),
// MembersScreen.kt, SyncScreen.kt and RecoveryScreens.kt. Each draws a state from
// ../Presentation and calls its actions; every sentence comes from the core.
import SwiftUI

struct AddChildView: View {
    let presenter: FamilyPresenter
    @Environment(\.dismiss) private var dismiss
    @EnvironmentObject private var family: FamilyModel
    @State private var name = ""
    @State private var born = ""
    @State private var sex: Sex?
    @State private var gestation = ""
    @State private var nhs = ""
    @State private var problem: (field: String, message: String)?

    var body: some View {
        Form {
            field("Name", $name, "name")
            field("Date of birth (YYYY-MM-DD)", $born, "birth_date")
            Picker("Sex", selection: $sex) {
                Text("Female").tag(Optional(Sex.female))
                Text("Male").tag(Optional(Sex.male))
            }
            .pickerStyle(.segmented)
            if problem?.field == "sex" { Text(problem?.message ?? "").foregroundStyle(.red) }
            field("Gestation at birth (weeks+days, if known)", $gestation, "gestation")
            field("NHS number (if known)", $nhs, "nhs_number")
            Button("Add the child") {
                switch presenter.addChild(name: name, birthDate: born, sex: sex, gestation: gestation, nhsNumber: nhs) {
                case .saved:
                    family.revision += 1
                    dismiss()
                case let .invalid(field, message):
                    problem = (field, message)
                case let .needsConfirmation(field, advice):
                    // A child's details are never questioned, only refused.
                    problem = (field, advice)
                }
            }
            if let problem, !["name", "birth_date", "sex", "gestation", "nhs_number"].contains(problem.field) {
                Text(problem.message).foregroundStyle(.red)
            }
        }
        .navigationTitle("Add a child")
    }

    /// A text field that shows its own problem beneath it, as VoiceOver reads it with the field.
    private func field(_ label: String, _ text: Binding<String>, _ key: String) -> some View {
        VStack(alignment: .leading) {
            TextField(label, text: text)
            if problem?.field == key { Text(problem?.message ?? "").font(.caption).foregroundStyle(.red) }
        }
    }
}

struct AddImmunisationView: View {
    let presenter: FamilyPresenter
    let childId: String
    let saved: () -> Void
    @State private var date = isoToday()
    @State private var vaccine = ""
    @State private var dose = ""
    @State private var batch = ""
    @State private var problem: String?
    @State private var question: String?

    var body: some View {
        Section("Record a vaccination") {
            TextField("Date given (YYYY-MM-DD)", text: $date)
            TextField("Vaccine", text: $vaccine)
            TextField("Dose", text: $dose).keyboardType(.numberPad)
            TextField("Batch (if known)", text: $batch)
            if let question {
                // The core's question about a vaccination the schedule does not expect.
                Text(question).foregroundStyle(.red)
                Button("Keep it as typed (a professional will review it)") { add(confirmed: true) }
                Button("Change it") { self.question = nil }
            } else {
                Button("Add vaccination") { add(confirmed: false) }
            }
            if let problem { Text(problem).foregroundStyle(.red) }
        }
    }

    private func add(confirmed: Bool) {
        switch presenter.addImmunisation(childId: childId, date: date, vaccine: vaccine, dose: dose, batch: batch, confirmed: confirmed) {
        case .saved:
            vaccine = ""; dose = ""; batch = ""; problem = nil; question = nil
            saved()
        case let .invalid(_, message):
            problem = message; question = nil
        case let .needsConfirmation(_, advice):
            problem = nil; question = advice
        }
    }
}

/// A detail two devices set apart: the core's sentence and a button per value it offers;
/// an address, whose values a screen never lists, is typed again.
struct ConflictCard: View {
    let presenter: FamilyPresenter
    let childId: String
    let conflict: ConflictView
    let settled: () -> Void
    @State private var typed = ""

    var body: some View {
        VStack(alignment: .leading) {
            Text(conflict.text).foregroundStyle(.red)
            ForEach(conflict.choices, id: \.self) { value in
                Button("Keep: \(value)") { settle(value) }.buttonStyle(.bordered)
            }
            if conflict.choices.isEmpty {
                TextField("Type it again", text: $typed)
                Button("Save") { settle(typed) }.disabled(typed.trimmingCharacters(in: .whitespaces).isEmpty)
            }
        }
    }

    private func settle(_ value: String) {
        try? presenter.settle(childId: childId, field: conflict.field, value: value)
        settled()
    }
}

struct MembersView: View {
    let sharing: Sharing
    let childId: String

    var body: some View {
        List((try? sharing.members(childId: childId)) ?? []) { member in
            VStack(alignment: .leading) {
                Text(member.name).font(.headline).foregroundStyle(member.removed ? .gray : .primary)
                Text(member.standing)
            }
            .accessibilityElement(children: .combine)
        }
        .navigationTitle("Members")
    }
}

struct SyncView: View {
    @ObservedObject var sync: SyncModel

    var body: some View {
        Form {
            // VoiceOver reads the new sentence when it changes.
            Text(sync.text).accessibilityAddTraits(.updatesFrequently)
            if sync.isRunning {
                ProgressView()
                Button("Stop syncing") { sync.stop() }
            } else {
                Button("Sync now") { sync.syncNow() }
            }
            ForEach(sync.removedNotices, id: \.self) { Text($0).foregroundStyle(.red) }
            ForEach(sync.problems, id: \.self) { Text($0).font(.caption) }
        }
        .navigationTitle("Sync")
    }
}

struct RecoveryKitView: View {
    let recovery: Recovery
    @State private var kit: RecoveryKitWords?
    @State private var working = false
    @State private var problem: String?

    var body: some View {
        Form {
            if let kit {
                RecoveryWordsView(kit: kit)
            } else {
                Button("Make the recovery kit") {
                    working = true
                    Task { @MainActor in
                        do { kit = try await recovery.makeKit(); problem = nil } catch { problem = error.localizedDescription }
                        working = false
                    }
                }
                .disabled(working)
                if working { ProgressView() }
            }
            if let problem { Text(problem).foregroundStyle(.red) }
        }
        .navigationTitle("Recovery kit")
    }
}

/// The words a line of four, numbered as they are written into the book, and the core's caption.
struct RecoveryWordsView: View {
    let kit: RecoveryKitWords

    var body: some View {
        let words = kit.words.split(separator: " ").map(String.init)
        VStack(alignment: .leading) {
            ForEach(Array(stride(from: 0, to: words.count, by: 4)), id: \.self) { start in
                Text(words[start..<min(start + 4, words.count)].enumerated().map { "\(start + $0.offset + 1). \($0.element)" }.joined(separator: "   "))
                    .font(.headline)
            }
        }
        .accessibilityElement(children: .ignore)
        .accessibilityLabel("Recovery words: \(kit.words)")
        ForEach(kit.caption, id: \.self) { Text($0).font(.caption) }
    }
}

struct RestoreView: View {
    let recovery: Recovery
    @EnvironmentObject private var family: FamilyModel
    @State private var words = ""
    @State private var working = false
    @State private var result: RestoreResult?

    var body: some View {
        Form {
            if case let .restored(lines, newWords) = result {
                ForEach(lines, id: \.self) { Text($0) }
                if let newWords { RecoveryWordsView(kit: newWords) }
            } else {
                TextField("The 12 recovery words", text: $words)
                if case let .refused(reason) = result { Text(reason).foregroundStyle(.red) }
                Button("Restore") {
                    working = true
                    Task { @MainActor in
                        result = await recovery.restore(words: words)
                        working = false
                        family.revision += 1
                    }
                }
                .disabled(working)
                if working { ProgressView() }
            }
        }
        .navigationTitle("Restore from the recovery kit")
    }
}
