// The recovery kit (12 words a parent writes into the paper book) and the restore on a new
// phone from those words and the relay's backup. The core makes the words, seals the
// backup and words every outcome; this carries the screens' two actions.
package uk.nhs.redbook.demo.presentation

import uk.nhs.redbook.RedBook
import uk.nhs.redbook.RedbookException
import uk.nhs.redbook.RelayHttp
import uk.nhs.redbook.describeRestore
import uk.nhs.redbook.errorText
import uk.nhs.redbook.recoveryKitCaption

/** Words to show once, with the core's caption for the paper book. */
data class RecoveryKitWords(val words: String, val caption: List<String>)

sealed class RestoreResult {
    /** [lines]: the core's account of what came back; [newWords]: this phone's kit, to write down now. */
    data class Restored(val lines: List<String>, val newWords: RecoveryKitWords?) : RestoreResult()
    /** Wrong words, no backup, no relay: the core's reason. */
    data class Refused(val reason: String) : RestoreResult()
}

class Recovery(private val book: RedBook, private val http: RelayHttp, private val relayUrl: String) {
    /**
     * Makes this phone's kit and backs its records up to the relay (suspends while the core
     * seals and uploads on its own thread). The words are shown once and kept nowhere.
     */
    suspend fun makeKit(): RecoveryKitWords {
        val words = book.createRecoveryKit()
        book.backupToRelay(http, relayUrl)
        return RecoveryKitWords(words, recoveryKitCaption())
    }

    /** On a new phone: every record the kit covers, from the relay's backup; the lost phone removed. */
    suspend fun restore(words: String): RestoreResult = try {
        val restored = book.restoreFromRelay(words.trim(), http, relayUrl, true)
        RestoreResult.Restored(describeRestore(restored), restored.words?.let { RecoveryKitWords(it, recoveryKitCaption()) })
    } catch (e: RedbookException) {
        RestoreResult.Refused(errorText(e))
    }
}
