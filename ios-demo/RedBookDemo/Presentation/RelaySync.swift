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

enum JobResult { case success, retry, failure }

struct SyncRun {
    let result: JobResult
    let changed: [String]
    let problems: [RedbookError]
    /// What to tell the parent about a record this phone was removed from (the core's words).
    let removedNotices: [String]
}

final class RelaySyncJob {
    static let taskIdentifier = "uk.nhs.redbook.demo.relay-sync"
    private let book: RedBook
    private let http: RelayHttp
    private let relayUrl: String
    private let maxExchanges: Int

    init(book: RedBook, http: RelayHttp = URLSessionRelayHttp(), relayUrl: String, maxExchanges: Int = 4) {
        self.book = book
        self.http = http
        self.relayUrl = relayUrl
        self.maxExchanges = maxExchanges
    }

    /// Every child's record, one bounded exchange each (more while more waits). No network,
    /// a relay down or busy: retry; a relay that refuses for good: failure. Nothing is lost.
    func run() throws -> SyncRun {
        var changed: [String] = []
        var problems: [RedbookError] = []
        var removedNotices: [String] = []
        var result = JobResult.success
        for child in try book.children().children {
            do {
                for _ in 0..<maxExchanges {
                    let report = try book.relayExchange(id: child.id, http: http, relayUrl: relayUrl)
                    if report.changed && !changed.contains(child.id) { changed.append(child.id) }
                    if report.removed {
                        if let notice = try book.removalNotice(id: child.id) { removedNotices.append(notice) }
                        break
                    }
                    if !report.moreWaiting { break }
                }
            } catch let error as RedbookError {
                problems.append(error)
                switch error {
                case .RelayUnreachable:
                    result = result == .failure ? .failure : .retry
                case let .RelayRefused(status, _) where status == 429 || status >= 500:
                    result = result == .failure ? .failure : .retry
                case .RelayRefused:
                    result = .failure
                default:
                    throw error
                }
            }
        }
        // Then the recovery backup, if this device has a kit (ADR 0009).
        if result == .success {
            do {
                _ = try book.backupToRelay(http: http, relayUrl: relayUrl)
            } catch RedbookError.NotFound {
                // No kit on this device: nothing to back up.
            } catch let error as RedbookError {
                problems.append(error)
                result = .retry
            }
        }
        return SyncRun(result: result, changed: changed, problems: problems, removedNotices: removedNotices)
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
