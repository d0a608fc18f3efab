// Sync at a distance, mirroring android-demo's RelaySync.kt (tested on the JVM against a
// real relay): a BGTaskScheduler task runs one bounded exchange per child with the
// family's relay. The core builds, signs and checks everything; URLSession only carries
// the requests (docs/adr/0008-relay.md). Each exchange is an async call the core runs on
// a thread of its own; a cancelled task stops between steps.
import BackgroundTasks
import Foundation

/// URLSession as the relay protocol's HTTP client. The core calls it synchronously from
/// its own worker thread (never the main one), so it waits for each answer.
final class URLSessionRelayHttp: RelayHttp, @unchecked Sendable {
    private let session: URLSession

    init(timeout: TimeInterval = 30) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        session = URLSession(configuration: configuration)
    }

    func send(request: RelayHttpRequest) throws -> RelayHttpResponse {
        guard let url = URL(string: request.url) else {
            throw RelayHttpError.Unreachable(reason: "not a URL")
        }
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method
        for header in request.headers {
            urlRequest.setValue(header.value, forHTTPHeaderField: header.name)
        }
        if request.method == "POST" || request.method == "PUT" {
            urlRequest.httpBody = request.body
        }
        let done = DispatchSemaphore(value: 0)
        var result: Result<RelayHttpResponse, RelayHttpError> = .failure(.Unreachable(reason: "no answer"))
        session.dataTask(with: urlRequest) { data, response, error in
            if let status = (response as? HTTPURLResponse)?.statusCode, error == nil {
                result = .success(RelayHttpResponse(status: UInt16(status), body: data ?? Data()))
            } else {
                result = .failure(.Unreachable(reason: (error as NSError?)?.domain ?? "no answer"))
            }
            done.signal()
        }.resume()
        done.wait()
        return try result.get()
    }
}

/// One run of the job: its result (what the task's completion is told), the children
/// whose records changed, what failed, and what to tell the parent about a record this
/// phone was removed from (the core's words).
struct SyncRun {
    let result: JobResult
    let changed: [String]
    let problems: [RedbookError]
    let removedNotices: [String]
    /// How the run stands, for the sync screen (`syncStatusText`).
    let status: SyncStatus
}

final class RelaySyncJob {
    static let taskIdentifier = "uk.nhs.redbook.demo.relay-sync"
    private let book: RedBook
    private let http: RelayHttp
    private let relayUrl: String

    init(book: RedBook, http: RelayHttp = URLSessionRelayHttp(), relayUrl: String) {
        self.book = book
        self.http = http
        self.relayUrl = relayUrl
    }

    /// The core's plan decides each step (which child's record to exchange, how often,
    /// when to retry or give up, the recovery backup after); this carries them out.
    /// Cancelling the task stops the run between steps: the exchange under way finishes
    /// on the core's thread (each message it applies is its own transaction).
    func run() async throws -> SyncRun {
        let plan = RelaySyncPlan(recordIds: try book.children().children.map(\.id))
        var problems: [RedbookError] = []
        var removedNotices: [String] = []
        while true {
            try Task.checkCancellation()
            do {
                switch plan.nextStep() {
                case let .exchange(recordId):
                    plan.exchanged(report: try await book.relayExchange(id: recordId, http: http, relayUrl: relayUrl))
                case let .removalNotice(recordId):
                    if let notice = try book.removalNotice(id: recordId) { removedNotices.append(notice) }
                case .backup:
                    _ = try await book.backupToRelay(http: http, relayUrl: relayUrl)
                    plan.backedUp()
                case let .done(result):
                    return SyncRun(result: result, changed: plan.changed(), problems: problems, removedNotices: removedNotices, status: plan.status())
                }
            } catch let error as RedbookError {
                switch plan.failed(error: error) {
                case .problem: problems.append(error)
                case .ignore: break
                case .raise: throw error
                }
            }
        }
    }

    /// Registers the task at launch; iOS runs it when it chooses (network available).
    static func register(book: RedBook, relayUrl: String) {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: taskIdentifier, using: nil) { task in
            let work = Task {
                let run = try? await RelaySyncJob(book: book, relayUrl: relayUrl).run()
                schedule()
                task.setTaskCompleted(success: run?.result == .success)
            }
            // iOS ends the time given: the run stops before its next record.
            task.expirationHandler = { work.cancel() }
        }
    }

    static func schedule() {
        let request = BGAppRefreshTaskRequest(identifier: taskIdentifier)
        request.earliestBeginDate = Date(timeIntervalSinceNow: 15 * 60)
        try? BGTaskScheduler.shared.submit(request)
    }
}

/// "Sync now" on the sync screen, mirroring SyncPresenter in RelaySync.kt: the run goes on
/// in a task of the app's while the person does anything else.
@MainActor
final class SyncModel: ObservableObject {
    @Published private(set) var status: SyncStatus = .notYet
    @Published private(set) var problems: [String] = []
    @Published private(set) var removedNotices: [String] = []
    private let job: RelaySyncJob
    private var running: Task<Void, Never>?

    init(job: RelaySyncJob) { self.job = job }

    var text: String { syncStatusText(status: status) }
    var isRunning: Bool { if case .running = status { return true } else { return false } }

    func syncNow() {
        guard !isRunning else { return }
        status = .running
        running = Task {
            do {
                let run = try await job.run()
                status = run.status
                problems = run.problems.map { errorText(error: $0) }
                removedNotices = run.removedNotices
            } catch is CancellationError {
                status = .stopped
            } catch {
                status = .failed
                problems = [error.localizedDescription]
            }
        }
    }

    /// Stops the run between two records; what arrived is kept.
    func stop() { running?.cancel() }
}
