// Sync at a distance, mirroring android-demo's RelaySync.kt (tested on the JVM against a
// real relay): a BGTaskScheduler task runs one bounded exchange per child with the
// family's relay. The core builds, signs and checks everything; URLSession only carries
// the requests (docs/adr/0008-relay.md).
import BackgroundTasks
import Foundation

/// URLSession as the relay protocol's HTTP client. The core calls it synchronously from
/// the background task's thread, so it waits for each answer.
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
    func run() throws -> SyncRun {
        let plan = RelaySyncPlan(recordIds: try book.children().children.map(\.id))
        var problems: [RedbookError] = []
        var removedNotices: [String] = []
        while true {
            do {
                switch plan.nextStep() {
                case let .exchange(recordId):
                    plan.exchanged(report: try book.relayExchange(id: recordId, http: http, relayUrl: relayUrl))
                case let .removalNotice(recordId):
                    if let notice = try book.removalNotice(id: recordId) { removedNotices.append(notice) }
                case .backup:
                    _ = try book.backupToRelay(http: http, relayUrl: relayUrl)
                    plan.backedUp()
                case let .done(result):
                    return SyncRun(result: result, changed: plan.changed(), problems: problems, removedNotices: removedNotices)
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
            let work = Thread {
                let run = try? RelaySyncJob(book: book, relayUrl: relayUrl).run()
                schedule()
                task.setTaskCompleted(success: run?.result == .success)
            }
            task.expirationHandler = { work.cancel() }
            work.start()
        }
    }

    static func schedule() {
        let request = BGAppRefreshTaskRequest(identifier: taskIdentifier)
        request.earliestBeginDate = Date(timeIntervalSinceNow: 15 * 60)
        try? BGTaskScheduler.shared.submit(request)
    }
}
