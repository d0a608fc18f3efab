// The UniFFI bindings as an app uses them: generated Kotlin, JNA, the real library.
// Compiled and run by scripts/kotlin-tests.sh on the desktop JVM.

import java.nio.file.Files
import java.security.SecureRandom
import javax.crypto.Cipher
import javax.crypto.spec.GCMParameterSpec
import javax.crypto.spec.SecretKeySpec
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import uk.nhs.redbook.*

/** A keystore in Kotlin: AES-GCM with a key it never hands over, as Android Keystore does. */
class JvmKeystore(private val key: ByteArray) : KeyProvider {
    var calls = 0
        private set

    override fun wrapKey(databaseKey: ByteArray): ByteArray {
        calls++
        val iv = ByteArray(12).also { SecureRandom().nextBytes(it) }
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.ENCRYPT_MODE, SecretKeySpec(key, "AES"), GCMParameterSpec(128, iv))
        return iv + cipher.doFinal(databaseKey)
    }

    override fun unwrapKey(wrappedKey: ByteArray): ByteArray {
        calls++
        try {
            val cipher = Cipher.getInstance("AES/GCM/NoPadding")
            cipher.init(Cipher.DECRYPT_MODE, SecretKeySpec(key, "AES"), GCMParameterSpec(128, wrappedKey.copyOfRange(0, 12)))
            return cipher.doFinal(wrappedKey.copyOfRange(12, wrappedKey.size))
        } catch (e: javax.crypto.AEADBadTagException) {
            throw KeyProviderException.WrongKey()
        }
    }
}

fun keystore(byte: Int) = JvmKeystore(ByteArray(32) { byte.toByte() })

fun tempDb(name: String): String = Files.createTempDirectory("redbook-kotlin").resolve(name).toString()

fun ada() = ChildDetails(
    name = "Ada Lovelace",
    birthDate = "2026-01-01",
    sex = Sex.FEMALE,
    gestation = Gestation(totalDays = 274u),
    nhsNumber = "943 476 5919",
    address = null,
    gpPractice = null,
)

class RedBookBindingsTest {
    @Test
    fun openingWithAPassphraseLeavesTheCallersThreadFree() = runBlocking<Unit> {
        // runBlocking's one thread stands for an app's main thread: while the core runs
        // 600,000 rounds of PBKDF2 on a thread of its own, this one carries on.
        var ticks = 0
        val ticker = launch { while (true) { ticks++; delay(5) } }
        val book = RedBook.openWithPassphrase(tempDb("family.redbook"), "correct horse battery")
        ticker.cancel()
        assertTrue(ticks > 3, "the caller's thread ran only $ticks times while the database opened")
        book.use { assertTrue(it.children().children.isEmpty()) }
    }

    @Test
    fun entriesOfEveryKindAreWrittenAndReadBack() = runBlocking<Unit> {
        val path = tempDb("family.redbook")
        val provider = keystore(1)
        RedBook.openWithKeyProvider(path, provider).use { book ->
            val id = book.addChild(ada())
            val entries = listOf(
                EntryBody.BirthDetails(BirthDetails(Gestation(274u), 3.41, 34.5, 50.5, "Homerton", DeliveryMode.SPONTANEOUS_VAGINAL, 9u, 10u)),
                EntryBody.Measurement(Measurement("2026-03-01", 5.2, 58.4, null, 39.1, MeasuredBy.PROFESSIONAL)),
                EntryBody.Immunisation(Immunisation("2026-02-26", "6-in-1", 1u, "Infanrix hexa", "A21CB123", "left thigh", "intramuscular", "Nurse Patel")),
                EntryBody.NewbornScreening(NewbornScreening.Hearing("2026-01-03", HearingEarResult.CLEAR_RESPONSE, HearingEarResult.CLEAR_RESPONSE, HearingOutcome.DISCHARGED)),
                EntryBody.NewbornScreening(NewbornScreening.BloodSpot("2026-01-06", listOf(BloodSpotResult(BloodSpotCondition.PKU, BloodSpotOutcome.NOT_SUSPECTED)))),
                EntryBody.Review(Review("2026-02-12", ReviewKind.SIX_TO_EIGHT_WEEKS, "Thriving", listOf(AsqScore("communication", 50u)), null)),
                EntryBody.HealthEvent(HealthEvent("2026-04-10", HealthEventKind.ILLNESS, "Bronchiolitis", null, null)),
                EntryBody.Medicine(Medicine("Paracetamol", "2.5 ml", "2026-04-10", "2026-04-12", null)),
                EntryBody.Allergy(Allergy("Peanut", "Hives", AllergySeverity.MODERATE, "2026-06-01")),
                EntryBody.Contact(Contact(ContactRole.HEALTH_VISITOR, "Jo Bloggs", "020 7946 0000")),
                EntryBody.Note(Note("2026-05-01", NoteKind.DEVELOPMENTAL_FIRST, "First smile")),
            )
            for (entry in entries) {
                val view = book.addEntry(id, entry)
                assertEquals(Verification.VERIFIED, view.verification)
            }
            val record = book.child(id)
            assertEquals("Ada Lovelace", record.details.name)
            assertEquals("9434765919", record.details.nhsNumber)
            assertEquals(entries, record.entries.map { it.entry.body })
            assertTrue(record.entries.all { it.status is EntryStatus.Current })
            assertEquals("6-in-1 dose 1 (batch A21CB123)", describeEntry(entries[2]))
        }
        assertTrue(provider.calls >= 1, "the Kotlin keystore was asked to wrap the key")
        // Reopened with the same keystore: all there.
        RedBook.openWithKeyProvider(path, keystore(1)).use { book ->
            assertEquals(11uL, book.children().children.single().entryCount)
        }
    }

    @Test
    fun aWrongKeyIsATypedException() = runBlocking<Unit> {
        val path = tempDb("family.redbook")
        RedBook.openWithKeyProvider(path, keystore(1)).use { it.addChild(ada()) }
        // The Kotlin keystore says "wrong key"; the app sees WrongKey, as for a passphrase.
        assertFailsWith<RedbookException.WrongKey> { RedBook.openWithKeyProvider(path, keystore(2)) }
        assertFailsWith<RedbookException.WrongKey> { RedBook.openWithPassphrase(path, "guess") }
        val raw = RawKeyProvider(ByteArray(32) { 7 })
        assertFailsWith<RedbookException.WrongKey> { RedBook.openWithKeyProvider(path, raw) }
        // Any other keystore failure stays distinct, with its reason.
        val locked = object : KeyProvider {
            override fun wrapKey(databaseKey: ByteArray) = throw KeyProviderException.Failed("keystore locked")
            override fun unwrapKey(wrappedKey: ByteArray) = throw KeyProviderException.Failed("keystore locked")
        }
        val error = assertFailsWith<RedbookException.KeyProvider> { RedBook.openWithKeyProvider(path, locked) }
        assertContains(error.reason, "keystore locked")
    }

    @Test
    fun badInputNamesTheFieldAndNeverTheValue() = runBlocking<Unit> {
        RedBook.openWithKeyProvider(tempDb("family.redbook"), keystore(1)).use { book ->
            val id = book.addChild(ada())
            val impossible = assertFailsWith<RedbookException.InvalidInput> {
                book.addEntry(id, EntryBody.Measurement(Measurement("2026-03-01", 900.0, null, null, null, MeasuredBy.PARENT)))
            }
            assertEquals("weight_kg", impossible.field)
            val future = assertFailsWith<RedbookException.InvalidInput> {
                book.addEntry(id, EntryBody.Note(Note("2099-01-01", NoteKind.OBSERVATION, "from the future")))
            }
            assertEquals("date", future.field)
            val badDate = assertFailsWith<RedbookException.InvalidInput> {
                book.addEntry(id, EntryBody.Note(Note("1 March", NoteKind.OBSERVATION, "x")))
            }
            assertEquals("date", badDate.field)
            val nhs = assertFailsWith<RedbookException.InvalidInput> { book.addChild(ada().copy(nhsNumber = "1234567890")) }
            assertEquals("nhs_number", nhs.field)
            assertTrue(!nhs.toString().contains("1234567890"))
            assertTrue(book.child(id).entries.isEmpty(), "nothing was written")
        }
    }

    @Test
    fun centilesAndDueVaccinesComeFromTheCore() = runBlocking<Unit> {
        val charts = GrowthCharts.whoOnly()
        val assessment = charts.assess(
            CentileQuery(Sex.MALE, "2026-01-01", Gestation(280u), "2026-05-01", Measure.WEIGHT_KG, 7.2),
            Correction.RCPCH_DIGITAL,
        )
        assertEquals(Reference.WHO2006_INFANT, assessment.reference)
        assertEquals(0.2873, assessment.z, 1e-4)
        assertEquals("between the 50th and 75th centile", assessment.description)
        val preterm = assertFailsWith<RedbookException.InvalidInput> {
            charts.assess(CentileQuery(Sex.FEMALE, "2026-01-01", Gestation(210u), "2026-01-20", Measure.WEIGHT_KG, 1.5), Correction.RCPCH_DIGITAL)
        }
        assertContains(preterm.reason, "UK90")

        val due = dueForBirthDate("2025-01-01", "2026-01-10", Eligibility(false, false, false, false))
        val mmrv = due.immunisations.first { it.vaccine == "MMRV" && it.dose.toInt() == 1 }
        assertEquals("2026-01-01", mmrv.dueDate)
        assertEquals(DueStatus.DUE, mmrv.status)
        assertTrue(due.reminders.isNotEmpty())
    }

    @Test
    fun aRecordGoesToAProfessionalAsFhirAndAsAPrintableSummary() = runBlocking<Unit> {
        RedBook.openWithKeyProvider(tempDb("family.redbook"), keystore(1)).use { book ->
            val id = book.addChild(ada())
            book.addEntry(id, EntryBody.Measurement(Measurement("2026-03-01", 5.2, 58.4, null, 39.1, MeasuredBy.PROFESSIONAL)))
            book.addEntry(id, EntryBody.Allergy(Allergy("Peanut", "Hives", AllergySeverity.MODERATE, "2026-06-01")))
            val bundle = book.exportFhir(id)
            assertContains(bundle, "\"resourceType\": \"Bundle\"")
            assertContains(bundle, "https://fhir.nhs.uk/Id/nhs-number")
            // Read back into a new record on the same phone: every signature still checks.
            val report = book.importFhir(bundle)
            val copy = report.record
            assertTrue(copy != id)
            assertEquals(2u, report.entriesAdded)
            assertTrue(report.notImported.isEmpty())
            val entries = book.child(copy).entries
            // Ids commit to their record, so the copy's entries have new ones; all else is kept.
            assertEquals(book.child(id).entries.map { it.entry.copy(id = "") }, entries.map { it.entry.copy(id = "") })
            assertTrue(entries.all { it.verification == Verification.VERIFIED })
            val bad = assertFailsWith<RedbookException.InvalidInput> { book.importFhir("{\"resourceType\": \"Patient\"}") }
            assertEquals("fhir Patient.name", bad.field)

            val html = book.summaryHtml(id, GrowthCharts.whoOnly(), Correction.RCPCH_DIGITAL, "2026-11-23", false)
            assertContains(html, "Ada Lovelace")
            assertContains(html, "Peanut")
            assertContains(html, "data:image/svg+xml;base64,")
            // The printout's QR code text verifies on this device, in the core's words.
            val code = Regex("data-code=\"([^\"]+)\"").find(html)!!.groupValues[1]
            val check = book.verifyPrintout(id, code)
            assertTrue(check.unchanged)
            assertEquals(Role.PARENT, check.signerRole)
            assertTrue(describePrintoutCheck(check)[0].startsWith("Genuine: printed by "))
            val garbled = assertFailsWith<RedbookException.InvalidInput> { book.verifyPrintout(id, code.dropLast(4)) }
            assertEquals("printout code", garbled.field)
            assertEquals(3, printoutCodeCaption().size)
        }
    }

    @Test
    fun aGpSystemsImmunisationComesInSignedByTheImporterAndWhatIsLeftOutIsListed() = runBlocking<Unit> {
        RedBook.openWithKeyProvider(tempDb("clinic.redbook"), keystore(2)).use { book ->
            val id = book.addChild(ada())
            // A UK Core Immunization as a GP system writes it: dm+d product, SNOMED CT
            // procedure, and a manufacturer the red book has no place for.
            val immunization = """
                {"resourceType": "Immunization", "id": "gp-1", "status": "completed",
                 "vaccineCode": {"coding": [{"system": "https://dmd.nhs.uk", "code": "23584211000001109"}]},
                 "patient": {"reference": "Patient/ada"},
                 "occurrenceDateTime": "2026-03-01",
                 "protocolApplied": [{"doseNumberPositiveInt": 1}],
                 "manufacturer": {"display": "GSK"}}
            """
            val report = book.importForeignFhir(id, immunization)
            assertEquals(1u, report.entriesAdded)
            assertEquals(listOf("Immunization/gp-1 manufacturer"), report.notImported.map { it.what })
            val entry = book.child(id).entries.single()
            // Signed by the phone that brought it in, saying where it came from.
            assertEquals(Verification.VERIFIED, entry.verification)
            assertEquals(book.deviceId(), entry.entry.author.deviceId)
            assertTrue(entry.entry.source != null)
            val given = entry.entry.body as EntryBody.Immunisation
            assertEquals("MenB", given.v1.vaccine)
            assertEquals("Bexsero", given.v1.product)
        }
    }

    class Changes : RecordObserver {
        val seen = java.util.concurrent.CopyOnWriteArrayList<String>()
        override fun recordChanged(recordId: String) {
            seen.add(recordId)
        }
    }

    @Test
    fun twoDevicesSyncThroughMessagesPassedInKotlin() = runBlocking<Unit> {
        val mumHeard = Changes()
        RedBook.openWithKeyProvider(tempDb("mum.redbook"), keystore(1)).use { mum ->
            mum.addObserver(mumHeard)
            RedBook.openWithKeyProvider(tempDb("clinic.redbook"), keystore(2)).use { clinic ->
                clinic.setDeviceProfile(DeviceProfile(Role.HEALTH_VISITOR, "HV Jo", "RQX"))
                val id = mum.addChild(ada())
                val invitation = mum.share(id, clinic.deviceCard(), Access.WRITER)
                assertTrue(invitation.size < 1024)
                assertEquals(id, clinic.accept(invitation))
                clinic.addEntry(id, EntryBody.Immunisation(Immunisation("2026-02-26", "6-in-1", 1u, null, null, null, null, null)))
                mum.addEntry(id, EntryBody.Note(Note("2026-02-27", NoteKind.OBSERVATION, "Slept well")))
                var rounds = 0
                while (rounds < 20) {
                    val toClinic = mum.syncMessage(id, clinic.deviceId())
                    val toMum = clinic.syncMessage(id, mum.deviceId())
                    if (toClinic == null && toMum == null) break
                    toClinic?.let { clinic.receive(it) }
                    toMum?.let { mum.receive(it) }
                    rounds++
                }
                assertTrue(rounds < 20, "sync settled")
                val seenByMum = mum.child(id)
                assertEquals(clinic.child(id).entries, seenByMum.entries)
                val jab = seenByMum.entries.first { it.entry.body is EntryBody.Immunisation }
                assertEquals(Role.HEALTH_VISITOR, jab.entry.author.role)
                assertEquals(Verification.VERIFIED, jab.verification)
                assertEquals(2, mum.members(id).size)
                assertTrue(mumHeard.seen.isNotEmpty() && mumHeard.seen.all { it == id }, "the observer heard of the clinic's entry")
                val tampered = mum.exportBundle(id, null).also { it[it.size / 2] = (it[it.size / 2].toInt() xor 1).toByte() }
                assertFailsWith<RedbookException.SyncRefused> { clinic.receive(tampered) }
            }
        }
    }

    @Test
    fun aBloodSpotResultAndTheSpecialistTeamsScidFindingAreWrittenAndTheScheduleFollowsThem() = runBlocking<Unit> {
        RedBook.openWithKeyProvider(tempDb("mum.redbook"), keystore(1)).use { mum ->
            RedBook.openWithKeyProvider(tempDb("hv.redbook"), keystore(2)).use { hv ->
                hv.setDeviceProfile(DeviceProfile(Role.HEALTH_VISITOR, "HV Jo", "X99TEST"))
                hv.setAttestation(testOrganisationAttest(hv.deviceCard()))
                listOf(mum, hv).forEach { it.setTrustedOrganisations(listOf(testOrganisation())) }
                val id = mum.addChild(ada())
                hv.accept(mum.share(id, hv.deviceCard(), Access.WRITER))
                fun sync() {
                    repeat(20) {
                        val toHv = mum.syncMessage(id, hv.deviceId())
                        val toMum = hv.syncMessage(id, mum.deviceId())
                        if (toHv == null && toMum == null) return
                        toHv?.let { hv.receive(it) }
                        toMum?.let { mum.receive(it) }
                    }
                }
                // The health visitor's entries count once Mum's grant of access reaches it.
                sync()
                val spot = EntryBody.NewbornScreening(NewbornScreening.BloodSpot("2026-01-06", listOf(
                    BloodSpotResult(BloodSpotCondition.SCID, BloodSpotOutcome.SUSPECTED),
                    BloodSpotResult(BloodSpotCondition.CF, BloodSpotOutcome.DECLINED),
                )))
                assertEquals(spot, hv.addEntry(id, spot).entry.body)
                fun rotavirus() = hv.due(id, "2026-02-26").immunisations.first { it.vaccine == "Rotavirus" }
                assertEquals(DueStatus.NOT_APPLICABLE, rotavirus().status)
                // Only a professional records the specialist team's word.
                val ruledOut = EntryBody.RiskFactor(RiskFactor("2026-01-20", RiskFactorKind.SCID, false))
                val refused = assertFailsWith<RedbookException.InvalidInput> { mum.addEntry(id, ruledOut) }
                assertEquals("factor", refused.field)
                hv.addEntry(id, ruledOut)
                sync()
                val offered = rotavirus()
                assertEquals(DueStatus.DUE, offered.status)
                assertContains(offered.note!!, "ruled out by the specialist team on 2026-01-20")
                // A correction keeps the kind of what it corrects, and says both kinds if not.
                val jab = hv.addEntry(id, EntryBody.Immunisation(Immunisation("2026-02-26", "6-in-1", 1u, null, null, null, null, null)))
                val wrong = assertFailsWith<RedbookException.InvalidInput> {
                    hv.amendEntry(id, jab.entry.id, EntryBody.Measurement(Measurement("2026-02-26", 5.2, null, null, null, MeasuredBy.PROFESSIONAL)))
                }
                assertContains(wrong.reason, "this is a measurement, the entry is a vaccination")
                val fixed = hv.amendEntry(id, jab.entry.id, EntryBody.Immunisation(Immunisation("2026-02-26", "6-in-1", 1u, null, "A21CB123", null, null, null)))
                assertEquals(EntryStatus.Amended(fixed.entry.id), hv.child(id).entries.first { it.entry.id == jab.entry.id }.status)
            }
        }
    }

    @Test
    fun riskFactorsAndAClosureComeFromTheRecordOnEveryDevice() = runBlocking<Unit> {
        RedBook.openWithKeyProvider(tempDb("mum.redbook"), keystore(1)).use { mum ->
            RedBook.openWithKeyProvider(tempDb("hv.redbook"), keystore(2)).use { hv ->
                // A professional's fact counts only from a role an organisation confirms.
                hv.setDeviceProfile(DeviceProfile(Role.HEALTH_VISITOR, "HV Jo", "X99TEST"))
                hv.setAttestation(testOrganisationAttest(hv.deviceCard()))
                listOf(mum, hv).forEach { it.setTrustedOrganisations(listOf(testOrganisation())) }
                val id = mum.addChild(ada())
                hv.accept(mum.share(id, hv.deviceCard(), Access.WRITER))
                fun sync() {
                    repeat(20) {
                        val toHv = mum.syncMessage(id, hv.deviceId())
                        val toMum = hv.syncMessage(id, mum.deviceId())
                        if (toHv == null && toMum == null) return
                        toHv?.let { hv.receive(it) }
                        toMum?.let { mum.receive(it) }
                    }
                }
                // A parent's app cannot record a professional's risk factor.
                val refused = assertFailsWith<RedbookException.InvalidInput> {
                    mum.addEntry(id, EntryBody.RiskFactor(RiskFactor("2025-10-01", RiskFactorKind.MATERNAL_HEPATITIS_B, true)))
                }
                assertEquals("factor", refused.field)
                hv.addEntry(id, EntryBody.RiskFactor(RiskFactor("2025-10-01", RiskFactorKind.MATERNAL_HEPATITIS_B, true)))
                sync()
                val due = mum.due(id, "2026-01-10")
                assertEquals(due, hv.due(id, "2026-01-10"))
                assertTrue(due.immunisations.any { it.vaccine == "HepB" && it.dose == 1u.toUByte() })
                assertTrue(due.riskFactors.single().used)
                // The health visitor closes the record: read-only on Mum's phone.
                hv.addEntry(id, EntryBody.RecordClosed(RecordClosure("2026-01-09", ClosureReason.PARENTAL_RESPONSIBILITY_CHANGED)))
                sync()
                assertNotNull(mum.child(id).closed)
                assertFailsWith<RedbookException.RecordClosed> {
                    mum.addEntry(id, EntryBody.Note(Note("2026-01-10", NoteKind.OBSERVATION, "after")))
                }
                assertTrue(mum.due(id, "2026-01-10").reminders.isEmpty())
            }
        }
    }

    @Test
    fun aProfessionalsRoleIsConfirmedOnlyByATrustedOrganisation() = runBlocking<Unit> {
        RedBook.openWithKeyProvider(tempDb("mum.redbook"), keystore(1)).use { mum ->
            RedBook.openWithKeyProvider(tempDb("hv.redbook"), keystore(2)).use { hv ->
                RedBook.openWithKeyProvider(tempDb("gp.redbook"), keystore(3)).use { gp ->
                    hv.setDeviceProfile(DeviceProfile(Role.HEALTH_VISITOR, "HV Jo", "X99TEST"))
                    hv.setAttestation(testOrganisationAttest(hv.deviceCard()))
                    gp.setDeviceProfile(DeviceProfile(Role.GP, "Dr Mensah", "F84001"))
                    val id = mum.addChild(ada())
                    hv.accept(mum.share(id, hv.deviceCard(), Access.WRITER))
                    gp.accept(mum.share(id, gp.deviceCard(), Access.READER))
                    // Until the deployer's trust list is set, nobody is confirmed.
                    assertTrue(mum.members(id).all { it.confirmedBy == null })
                    mum.setTrustedOrganisations(listOf(testOrganisation()))
                    val members = mum.members(id).associateBy { it.deviceId }
                    assertEquals("X99TEST", members.getValue(hv.deviceId()).confirmedBy)
                    assertContains(members.getValue(hv.deviceId()).standing, "confirmed by X99TEST")
                    val gpStanding = members.getValue(gp.deviceId()).standing
                    assertContains(gpStanding, "as GP (F84001)")
                    assertContains(gpStanding, "not confirmed by an organisation")
                    assertContains(gpStanding, "can read")
                    // A reader cannot invite; a wrong attestation is refused at the door.
                    assertFailsWith<RedbookException.SyncRefused> { gp.share(id, hv.deviceCard(), Access.READER) }
                    assertFailsWith<RedbookException.InvalidInput> { gp.setAttestation(testOrganisationAttest(hv.deviceCard())) }
                }
            }
        }
    }

    @Test
    fun closeReleasesTheNativeObject() = runBlocking<Unit> {
        val book = RedBook.openWithKeyProvider(tempDb("family.redbook"), keystore(1))
        book.close()
        assertFailsWith<IllegalStateException> { book.children() }
    }

    @Test
    fun formsAndTheSyncJobsPolicyAreTheCores() = runBlocking<Unit> {
        assertTrue(!measuredStanding("2024-02-29", "2026-02-27"))
        assertTrue(measuredStanding("2024-02-29", "2026-02-28"))
        val height = readMeasurementForm("2024-02-29", "2026-03-01", "", "86,5", "", true) as EntryBody.Measurement
        assertEquals(86.5, height.v1.heightCm)
        val bad = assertFailsWith<FormException.Invalid> { readMeasurementForm(null, "2026-03-01", "five", "", "", true) }
        assertEquals("weight_kg", bad.field)
        assertEquals("Weight must be between 0.2 and 250 kg", inputProblem("weight_kg", "must be between 0.2 and 250 kg"))
        assertEquals(listOf<Byte>(1, 2, 3), invitationFromQr(invitationQr(byteArrayOf(1, 2, 3))).toList())

        // The job's errors go back to the plan as they came: it says what they mean.
        val record = "0123456789abcdef0123456789abcdef"
        val plan = RelaySyncPlan(listOf(record))
        assertEquals(SyncStep.Exchange(record), plan.nextStep())
        assertEquals(FailureHandling.PROBLEM, plan.failed(RedbookException.RelayRefused(503u, "down")))
        assertEquals(SyncStep.Done(JobResult.RETRY), plan.nextStep(), "no backup after a failed exchange")
    }
}
