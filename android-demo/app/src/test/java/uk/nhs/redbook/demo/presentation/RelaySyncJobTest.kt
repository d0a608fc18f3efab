// The background sync job on the desktop JVM against a real relay (`redbook relay serve`,
// started by the test on a free loopback port) and the real library: two devices that
// are never run together share a child's record through it.
package uk.nhs.redbook.demo.presentation

import java.nio.file.Files
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.Job
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import uk.nhs.redbook.*

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RelaySyncJobTest {
    private lateinit var relay: Process
    private lateinit var relayUrl: String

    @BeforeAll
    fun startRelay() {
        val cli = System.getProperty("redbook.cli") ?: "target/debug/redbook"
        val data = Files.createTempDirectory("redbook-relay-test")
        relay = ProcessBuilder(cli, "relay", "serve", "--listen", "127.0.0.1:0", "--data", data.toString())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start()
        // Its first line on stderr names the port it bound.
        val first = relay.errorStream.bufferedReader().readLine() ?: error("the relay did not start")
        relayUrl = first.substringAfter("relay listening on ").trim()
        Thread { relay.errorStream.bufferedReader().forEachLine { } }.apply { isDaemon = true }.start()
    }

    @AfterAll
    fun stopRelay() {
        relay.destroy()
        relay.waitFor(5, TimeUnit.SECONDS)
    }

    private suspend fun open(name: String, key: Int): RedBook = RedBook.openWithKeyProvider(
        Files.createTempDirectory("redbook-relay-job").resolve(name).toString(),
        RawKeyProvider(ByteArray(32) { key.toByte() }),
    )

    @Test
    fun `a parent and a health visitor share a record through the relay in background runs`() = runBlocking<Unit> {
        val mum = open("mum.redbook", 31)
        val hv = open("hv.redbook", 32)
        hv.setDeviceProfile(DeviceProfile(Role.HEALTH_VISITOR, "HV Jo", "RQX"))
        val id = mum.addChild(ChildDetails("Ada", "2026-03-01", Sex.FEMALE, Gestation(273u), null, null, null))
        mum.addEntry(id, EntryBody.Note(Note("2026-03-08", NoteKind.OBSERVATION, "first week went well")))
        hv.accept(mum.share(id, hv.deviceCard(), Access.WRITER))

        val http = UrlConnectionRelayHttp()
        val mumJob = RelaySyncJob(mum, http, relayUrl)
        val hvJob = RelaySyncJob(hv, http, relayUrl)
        var runs = 0
        while (hv.child(id).details.name != "Ada" && runs < 6) {
            assertEquals(JobResult.SUCCESS, mumJob.run().result)
            assertEquals(JobResult.SUCCESS, hvJob.run().result)
            runs++
        }
        assertEquals("Ada", hv.child(id).details.name, "arrived through the relay")

        // Usually one run each way; the sync protocol's Bloom filter can cost a round more.
        hv.addEntry(id, EntryBody.Note(Note("2026-03-10", NoteKind.OBSERVATION, "seen at clinic")))
        val seen = { mum.child(id).entries.any { (it.entry.body as? EntryBody.Note)?.v1?.text == "seen at clinic" } }
        var rounds = 0
        while (!seen() && rounds < 4) {
            assertEquals(JobResult.SUCCESS, hvJob.run().result)
            assertEquals(JobResult.SUCCESS, mumJob.run().result)
            rounds++
        }
        assertTrue(seen(), "the health visitor's note reached Mum's phone in $rounds runs each")
    }

    @Test
    fun `a lost phone comes back from its recovery kit through the relay`() = runBlocking<Unit> {
        val mum = open("mum.redbook", 34)
        val id = mum.addChild(ChildDetails("Cleo", "2026-05-01", Sex.FEMALE, Gestation(273u), null, null, null))
        mum.addEntry(id, EntryBody.Note(Note("2026-05-09", NoteKind.OBSERVATION, "home from hospital")))
        val words = mum.createRecoveryKit()
        assertEquals(12, words.split(" ").size)
        val http = UrlConnectionRelayHttp()
        // The background job syncs, then backs up (the kit exists now).
        assertEquals(JobResult.SUCCESS, RelaySyncJob(mum, http, relayUrl).run().result)

        val newPhone = open("new.redbook", 35)
        val wrong = runCatching { newPhone.restoreFromBackup("not the words", mum.recoveryBackup(), true) }
        assertTrue(wrong.exceptionOrNull() is RedbookException.InvalidInput, "$wrong")
        val restored = newPhone.restoreFromRelay(words, http, relayUrl, true)
        assertEquals(listOf(id), restored.records)
        assertEquals(1, restored.removed.size, "the lost phone is removed")
        assertTrue(newPhone.child(id).entries.any { (it.entry.body as? EntryBody.Note)?.v1?.text == "home from hospital" })
    }

    @Test
    fun `after a restore the other parent's notes reach the new phone through the relay`() = runBlocking<Unit> {
        val mum = open("mum.redbook", 39)
        val dad = open("dad.redbook", 40)
        val id = mum.addChild(ChildDetails("Eli", "2026-07-01", Sex.MALE, Gestation(273u), null, null, null))
        dad.accept(mum.share(id, dad.deviceCard(), Access.ADMIN))
        val words = mum.createRecoveryKit()
        val http = UrlConnectionRelayHttp()
        val mumJob = RelaySyncJob(mum, http, relayUrl)
        val dadJob = RelaySyncJob(dad, http, relayUrl)
        repeat(3) {
            assertEquals(JobResult.SUCCESS, mumJob.run().result)
            assertEquals(JobResult.SUCCESS, dadJob.run().result)
        }

        // Mum's phone is lost; the new one restores from the words and the relay backup.
        val newPhone = open("new.redbook", 41)
        newPhone.restoreFromRelay(words, http, relayUrl, true)
        val newJob = RelaySyncJob(newPhone, http, relayUrl)
        dad.addEntry(id, EntryBody.Note(Note("2026-07-10", NoteKind.OBSERVATION, "dad: first bath")))
        val seen = { newPhone.child(id).entries.any { (it.entry.body as? EntryBody.Note)?.v1?.text == "dad: first bath" } }
        var rounds = 0
        while (!seen() && rounds < 6) {
            assertEquals(JobResult.SUCCESS, newJob.run().result)
            assertEquals(JobResult.SUCCESS, dadJob.run().result)
            rounds++
        }
        assertTrue(seen(), "Dad's note reached the restored phone in $rounds runs each")
        // The lost phone learns it was replaced and shares nothing more.
        val told = (1..3).map { mumJob.run() }.flatMap { it.removedNotices }
        assertTrue(told.isNotEmpty(), "the lost phone is told")
    }

    @Test
    fun `after a removal the remaining parent still gets notes and the removed phone is told`() = runBlocking<Unit> {
        val mum = open("mum.redbook", 36)
        val dad = open("dad.redbook", 37)
        val gran = open("gran.redbook", 38)
        mum.setDeviceProfile(DeviceProfile(Role.PARENT, "Mum", null))
        val id = mum.addChild(ChildDetails("Dara", "2026-06-01", Sex.MALE, Gestation(273u), null, null, null))
        dad.accept(mum.share(id, dad.deviceCard(), Access.ADMIN))
        gran.accept(mum.share(id, gran.deviceCard(), Access.WRITER))
        val http = UrlConnectionRelayHttp()
        val jobs = listOf(mum, dad, gran).map { RelaySyncJob(it, http, relayUrl) }
        repeat(3) { jobs.forEach { assertEquals(JobResult.SUCCESS, it.run().result) } }

        mum.removeMember(id, gran.deviceId())
        dad.addEntry(id, EntryBody.Note(Note("2026-06-10", NoteKind.OBSERVATION, "dad: bath time went well")))
        val seen = { mum.child(id).entries.any { (it.entry.body as? EntryBody.Note)?.v1?.text == "dad: bath time went well" } }
        var rounds = 0
        while (!seen() && rounds < 6) {
            jobs.take(2).forEach { assertEquals(JobResult.SUCCESS, it.run().result) }
            rounds++
        }
        assertTrue(seen(), "Dad's note reached Mum after Gran's removal, in $rounds runs each")
        val told = jobs[2].run()
        assertTrue(told.removedNotices.single().startsWith("Mum removed this phone from Dara's record"), "$told")
        assertTrue(gran.child(id).entries.none { (it.entry.body as? EntryBody.Note)?.v1?.text == "dad: bath time went well" })
    }

    /** The platform's HTTP client, counting requests and calling [after] once each is answered. */
    private class Watched(private val after: (Int) -> Unit = {}) : RelayHttp {
        private val http = UrlConnectionRelayHttp()
        val requests = AtomicInteger()
        override fun send(request: RelayHttpRequest): RelayHttpResponse =
            http.send(request).also { after(requests.incrementAndGet()) }
    }

    private fun RedBook.hasNote(id: String, text: String) =
        child(id).entries.any { (it.entry.body as? EntryBody.Note)?.v1?.text == text }

    @Test
    fun `a sync cancelled after its first record stops there, keeps that record's news and leaves every record whole`() = runBlocking<Unit> {
        val mum = open("mum.redbook", 42)
        val hv = open("hv.redbook", 43)
        val names = listOf("Ada", "Ben", "Cleo")
        val ids = names.map { name ->
            mum.addChild(ChildDetails(name, "2026-03-01", Sex.FEMALE, Gestation(273u), null, null, null)).also { id ->
                mum.addEntry(id, EntryBody.Note(Note("2026-03-08", NoteKind.OBSERVATION, "$name: first week")))
                hv.accept(mum.share(id, hv.deviceCard(), Access.WRITER))
            }
        }
        val mumJob = RelaySyncJob(mum, UrlConnectionRelayHttp(), relayUrl)
        val hvJob = RelaySyncJob(hv, UrlConnectionRelayHttp(), relayUrl)
        var rounds = 0
        while (names.zip(ids).any { (name, id) -> !hv.hasNote(id, "$name: first week") } && rounds < 6) {
            mumJob.run(); hvJob.run(); rounds++
        }
        // Each record has news for the health visitor, and the two phones know what the other holds.
        names.zip(ids).forEach { (name, id) -> mum.addEntry(id, EntryBody.Note(Note("2026-03-15", NoteKind.OBSERVATION, "$name: second week"))) }

        // The person leaves (or the system stops the work) once the first record's exchange
        // has posted its message: a fetch and a post, two requests.
        lateinit var run: Job
        val network = Watched { answered -> if (answered == 2) run.cancel() }
        var outcome: Throwable? = null
        run = launch {
            try { RelaySyncJob(mum, network, relayUrl).run() } catch (e: CancellationException) { outcome = e; throw e }
        }
        run.join()
        assertTrue(outcome is CancellationException, "the run ended by cancellation: $outcome")
        // The exchange under way finishes on the core's thread; nothing after it starts.
        delay(1_000)
        assertEquals(2, network.requests.get(), "no later record was exchanged")

        // Every record on Mum's phone is whole, both its notes there and readable.
        names.zip(ids).forEach { (name, id) ->
            assertTrue(mum.hasNote(id, "$name: first week") && mum.hasNote(id, "$name: second week"), "$name's record intact")
        }
        assertEquals(0u, mum.childrenScreen("2026-11-23").damagedRecords)

        // What went before the cancellation reached the health visitor; the rest did not.
        assertEquals(JobResult.SUCCESS, hvJob.run().result)
        val arrived = names.zip(ids).filter { (name, id) -> hv.hasNote(id, "$name: second week") }.map { it.first }
        assertEquals(1, arrived.size, "one record's news had been posted: $arrived")

        // The next run carries on where this one stopped.
        rounds = 0
        while (names.zip(ids).any { (name, id) -> !hv.hasNote(id, "$name: second week") } && rounds < 4) {
            assertEquals(JobResult.SUCCESS, mumJob.run().result)
            assertEquals(JobResult.SUCCESS, hvJob.run().result)
            rounds++
        }
        names.zip(ids).forEach { (name, id) -> assertTrue(hv.hasNote(id, "$name: second week"), "$name's note arrived later") }
    }

    @Test
    fun `the sync screen's presenter runs on the caller's thread without holding it and says how it went`() = runBlocking<Unit> {
        val mum = open("mum.redbook", 44)
        mum.addChild(ChildDetails("Dan", "2026-03-01", Sex.MALE, Gestation(273u), null, null, null))
        // runBlocking's one thread stands for the app's main thread.
        val sync = SyncPresenter(RelaySyncJob(mum, UrlConnectionRelayHttp(), relayUrl), this)
        assertEquals("Not synced yet since the app opened", sync.state.value.text)
        sync.syncNow()
        assertTrue(sync.state.value.running)
        var ticks = 0
        while (sync.state.value.running) { ticks++; delay(5) }
        assertTrue(ticks > 1, "this thread went on while the exchange ran ($ticks)")
        assertEquals(SyncStatus.UpToDate(0u), sync.state.value.status)
        assertEquals("Up to date: nothing new from the family's other devices", sync.state.value.text)
    }

    @Test
    fun `no relay to reach means retry later and nothing changes`() = runBlocking<Unit> {
        val mum = open("mum.redbook", 33)
        val id = mum.addChild(ChildDetails("Bea", "2026-04-01", Sex.FEMALE, Gestation(273u), null, null, null))
        val before = mum.child(id).entries.size
        val run = RelaySyncJob(mum, UrlConnectionRelayHttp(2_000), "http://127.0.0.1:9").run()
        assertEquals(JobResult.RETRY, run.result)
        assertTrue(run.problems.single() is RedbookException.RelayUnreachable, "${run.problems}")
        assertEquals(before, mum.child(id).entries.size)
    }
}
