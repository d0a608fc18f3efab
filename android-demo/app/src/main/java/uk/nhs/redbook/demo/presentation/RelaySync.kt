// Sync at a distance: a background job (WorkManager-shaped, plain Kotlin) runs one
// bounded exchange per child with the family's relay. The core builds, signs and checks
// everything; the app only carries HTTP (here java.net.HttpURLConnection; on Android,
// OkHttp does the same in a CoroutineWorker). docs/adr/0008-relay.md. Each exchange is a
// suspend call: the core runs it on a thread of its own, so the caller's thread (the UI's)
// is free meanwhile, and a cancelled run stops before its next step.
package uk.nhs.redbook.demo.presentation

import java.net.HttpURLConnection
import java.net.URI
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch
import uk.nhs.redbook.FailureHandling
import uk.nhs.redbook.JobResult
import uk.nhs.redbook.RedBook
import uk.nhs.redbook.RedbookException
import uk.nhs.redbook.RelayHttp
import uk.nhs.redbook.RelayHttpException
import uk.nhs.redbook.RelayHttpRequest
import uk.nhs.redbook.RelayHttpResponse
import uk.nhs.redbook.RelaySyncPlan
import uk.nhs.redbook.SyncStatus
import uk.nhs.redbook.SyncStep
import uk.nhs.redbook.errorText
import uk.nhs.redbook.syncStatusText

/** The platform's HTTP client for the relay protocol; the core calls it on its own worker thread. */
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

/**
 * One run of the job: its result (what WorkManager's `Result` or BGTaskScheduler's
 * completion is told), the children whose records changed, what failed, and what to tell
 * the parent about a record this phone was removed from (the core's words).
 */
data class SyncRun(
    val result: JobResult,
    val changed: List<String>,
    val problems: List<RedbookException>,
    val removedNotices: List<String> = emptyList(),
    /** How the run stands, for the sync screen (`syncStatusText`). */
    val status: SyncStatus = SyncStatus.UpToDate(changed.size.toUInt()),
)

class RelaySyncJob(
    private val book: RedBook,
    private val http: RelayHttp,
    private val relayUrl: String,
) {
    /**
     * `doWork()`: the core's plan decides each step (which child's record to exchange, how
     * often, when to retry or give up, the recovery backup after); this carries them out.
     * Nothing is lost either way: the next run carries on where this one stopped.
     *
     * Cancelling the coroutine (the person leaves, WorkManager stops the work) stops the run
     * between steps: the exchange under way finishes on the core's thread (each message it
     * applies is its own transaction) and no later record's exchange starts.
     */
    suspend fun run(): SyncRun = RelaySyncPlan(book.children().children.map { it.id }).use { plan ->
        val problems = mutableListOf<RedbookException>()
        val removedNotices = mutableListOf<String>()
        var step = plan.nextStep()
        while (step !is SyncStep.Done) {
            currentCoroutineContext().ensureActive()
            try {
                when (step) {
                    is SyncStep.Exchange -> plan.exchanged(book.relayExchange(step.recordId, http, relayUrl))
                    is SyncStep.RemovalNotice -> book.removalNotice(step.recordId)?.let { removedNotices += it }
                    is SyncStep.Backup -> book.backupToRelay(http, relayUrl).also { plan.backedUp() }
                    is SyncStep.Done -> {}
                }
            } catch (e: RedbookException) {
                when (plan.failed(e)) {
                    FailureHandling.PROBLEM -> problems += e
                    FailureHandling.IGNORE -> {}
                    FailureHandling.RAISE -> throw e
                }
            }
            step = plan.nextStep()
        }
        SyncRun((step as SyncStep.Done).result, plan.changed(), problems, removedNotices, plan.status())
    }
}

/** What the sync screen shows: the core's sentence for how sync stands, and what to tell the person. */
data class SyncScreenState(
    val status: SyncStatus,
    val problems: List<String> = emptyList(),
    val removedNotices: List<String> = emptyList(),
) {
    val text: String get() = syncStatusText(status)
    val running: Boolean get() = status is SyncStatus.Running
}

/**
 * "Sync now" on the sync screen: runs the job in [scope], the app's own (Dispatchers.Main
 * on Android), so a run outlives the screen that started it. The exchanges run on the
 * core's threads; [state] changes as the run starts and ends.
 */
class SyncPresenter(private val job: RelaySyncJob, private val scope: CoroutineScope) {
    private val mutableState = MutableStateFlow(SyncScreenState(SyncStatus.NotYet))
    val state: StateFlow<SyncScreenState> = mutableState.asStateFlow()
    private var running: Job? = null

    /** Starts a run unless one is under way. */
    fun syncNow() {
        if (running?.isActive == true) return
        mutableState.value = SyncScreenState(SyncStatus.Running)
        running = scope.launch {
            try {
                val run = job.run()
                mutableState.value = SyncScreenState(run.status, run.problems.map(::errorText), run.removedNotices)
            } catch (e: kotlinx.coroutines.CancellationException) {
                mutableState.value = SyncScreenState(SyncStatus.Stopped)
                throw e
            }
        }
    }

    /** Stops the run between two records; what arrived is kept. */
    fun stop() {
        running?.cancel()
    }
}
