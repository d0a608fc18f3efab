// Sync at a distance: a background job (WorkManager-shaped, plain Kotlin) runs one
// bounded exchange per child with the family's relay. The core builds, signs and checks
// everything; the app only carries HTTP (here java.net.HttpURLConnection; on Android,
// OkHttp does the same in a CoroutineWorker). docs/adr/0008-relay.md.
package uk.nhs.redbook.demo.presentation

import java.net.HttpURLConnection
import java.net.URI
import uk.nhs.redbook.HttpHeader
import uk.nhs.redbook.RedBook
import uk.nhs.redbook.RedbookException
import uk.nhs.redbook.RelayHttp
import uk.nhs.redbook.RelayHttpException
import uk.nhs.redbook.RelayHttpRequest
import uk.nhs.redbook.RelayHttpResponse

/** The platform's HTTP client for the relay protocol. */
class UrlConnectionRelayHttp(private val timeoutMillis: Int = 30_000) : RelayHttp {
    override fun send(request: RelayHttpRequest): RelayHttpResponse {
        val connection = try {
            (URI(request.url).toURL().openConnection() as HttpURLConnection).apply {
                requestMethod = request.method
                connectTimeout = timeoutMillis
                readTimeout = timeoutMillis
                request.headers.forEach { setRequestProperty(it.name, it.value) }
                if (request.method == "POST" || request.method == "PUT") {
                    doOutput = true
                    outputStream.use { it.write(request.body) }
                }
            }
        } catch (e: java.io.IOException) {
            throw RelayHttpException.Unreachable(e.javaClass.simpleName)
        }
        return try {
            val status = connection.responseCode
            val stream = if (status < 400) connection.inputStream else connection.errorStream
            RelayHttpResponse(status.toUShort(), stream?.use { it.readBytes() } ?: ByteArray(0))
        } catch (e: java.io.IOException) {
            throw RelayHttpException.Unreachable(e.javaClass.simpleName)
        } finally {
            connection.disconnect()
        }
    }
}

/** What WorkManager's `Result` (or BGTaskScheduler's completion) is told. */
enum class JobResult { SUCCESS, RETRY, FAILURE }

/**
 * One run of the job: its result, the children whose records changed, what failed, and
 * what to tell the parent about a record this phone was removed from (the core's words).
 */
data class SyncRun(
    val result: JobResult,
    val changed: List<String>,
    val problems: List<RedbookException>,
    val removedNotices: List<String> = emptyList(),
)

class RelaySyncJob(
    private val book: RedBook,
    private val http: RelayHttp,
    private val relayUrl: String,
    /** Exchanges per child per run at most, while the relay says more waits. */
    private val maxExchanges: Int = 4,
) {
    /**
     * `doWork()`: every child's record, one bounded exchange each (more while more waits),
     * then the recovery backup if this device has a kit.
     * No network or a relay that is down or busy: RETRY (WorkManager backs off). A relay
     * that refuses for good (a 4xx other than 429): FAILURE, the core's reason kept.
     * Nothing is lost either way: the next run carries on where this one stopped.
     */
    fun run(): SyncRun {
        val changed = mutableListOf<String>()
        val problems = mutableListOf<RedbookException>()
        val removedNotices = mutableListOf<String>()
        var result = JobResult.SUCCESS
        for (child in book.children().children) {
            try {
                for (exchange in 1..maxExchanges) {
                    val report = book.relayExchange(child.id, http, relayUrl)
                    if (report.changed && child.id !in changed) changed += child.id
                    if (report.removed) {
                        book.removalNotice(child.id)?.let { removedNotices += it }
                        break
                    }
                    if (!report.moreWaiting) break
                }
            } catch (e: RedbookException.RelayUnreachable) {
                problems += e
                result = JobResult.RETRY
            } catch (e: RedbookException.RelayRefused) {
                problems += e
                val retryable = e.status.toInt() == 429 || e.status.toInt() >= 500
                if (retryable && result == JobResult.SUCCESS) result = JobResult.RETRY
                if (!retryable) result = JobResult.FAILURE
            }
        }
        // Then the recovery backup, if this device has a kit (ADR 0009): after syncing,
        // so it holds what the others sent too.
        if (result == JobResult.SUCCESS) {
            try {
                book.backupToRelay(http, relayUrl)
            } catch (e: RedbookException.NotFound) {
                // No kit on this device: nothing to back up.
            } catch (e: RedbookException.RelayUnreachable) {
                problems += e
                result = JobResult.RETRY
            } catch (e: RedbookException.RelayRefused) {
                problems += e
                result = JobResult.RETRY
            }
        }
        return SyncRun(result, changed, problems, removedNotices)
    }
}
