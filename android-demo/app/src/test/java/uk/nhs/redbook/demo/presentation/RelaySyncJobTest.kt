// The background sync job on the desktop JVM against a real relay (`redbook relay serve`,
// started by the test on a free loopback port) and the real library: two devices that
// are never run together share a child's record through it.
package uk.nhs.redbook.demo.presentation

import java.nio.file.Files
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertTrue
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

    private fun open(name: String, key: Int): RedBook = RedBook.openWithKeyProvider(
        Files.createTempDirectory("redbook-relay-job").resolve(name).toString(),
        RawKeyProvider(ByteArray(32) { key.toByte() }),
    )

    @Test
    fun `a parent and a health visitor share a record through the relay in background runs`() {
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
    fun `a lost phone comes back from its recovery kit through the relay`() {
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
    fun `after a restore the other parent's notes reach the new phone through the relay`() {
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
    fun `after a removal the remaining parent still gets notes and the removed phone is told`() {
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

    @Test
    fun `no relay to reach means retry later and nothing changes`() {
        val mum = open("mum.redbook", 33)
        val id = mum.addChild(ChildDetails("Bea", "2026-04-01", Sex.FEMALE, Gestation(273u), null, null, null))
        val before = mum.child(id).entries.size
        val run = RelaySyncJob(mum, UrlConnectionRelayHttp(2_000), "http://127.0.0.1:9").run()
        assertEquals(JobResult.RETRY, run.result)
        assertTrue(run.problems.single() is RedbookException.RelayUnreachable, "${run.problems}")
        assertEquals(before, mum.child(id).entries.size)
    }
}
