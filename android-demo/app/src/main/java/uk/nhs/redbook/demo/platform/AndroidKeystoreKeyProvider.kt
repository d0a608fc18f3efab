// The database key's wrapper on Android: an AES-256-GCM key generated inside the Android
// Keystore (hardware-backed where the phone has it) that never leaves it. The core hands
// over its random database key to wrap once, at creation, and the wrapped bytes to unwrap
// at each open (docs/architecture.md, "Keys").
package uk.nhs.redbook.demo.platform

import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import java.security.KeyStore
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import uk.nhs.redbook.KeyProvider
import uk.nhs.redbook.KeyProviderException

class AndroidKeystoreKeyProvider(private val alias: String = "uk.nhs.redbook.database-key-wrapper") : KeyProvider {
    private fun wrappingKey(): SecretKey {
        val store = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }
        (store.getEntry(alias, null) as? KeyStore.SecretKeyEntry)?.let { return it.secretKey }
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE)
        generator.init(
            KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                .build(),
        )
        return generator.generateKey()
    }

    /** IV (12 bytes, chosen by the keystore) followed by the sealed key and its tag. */
    override fun wrapKey(databaseKey: ByteArray): ByteArray = try {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, wrappingKey())
        cipher.iv + cipher.doFinal(databaseKey)
    } catch (e: Exception) {
        throw KeyProviderException.Failed("the Android Keystore could not wrap the key (${e.javaClass.simpleName})")
    }

    override fun unwrapKey(wrappedKey: ByteArray): ByteArray {
        if (wrappedKey.size <= IV_BYTES) throw KeyProviderException.WrongKey()
        return try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, wrappingKey(), GCMParameterSpec(TAG_BITS, wrappedKey, 0, IV_BYTES))
            cipher.doFinal(wrappedKey, IV_BYTES, wrappedKey.size - IV_BYTES)
        } catch (e: AEADBadTagException) {
            // Another key (e.g. the app was reinstalled and the keystore entry is new).
            throw KeyProviderException.WrongKey()
        } catch (e: KeyPermanentlyInvalidatedException) {
            throw KeyProviderException.Failed("the keystore key was invalidated (lock screen removed?)")
        } catch (e: Exception) {
            throw KeyProviderException.Failed("the Android Keystore could not unwrap the key (${e.javaClass.simpleName})")
        }
    }

    private companion object {
        const val ANDROID_KEYSTORE = "AndroidKeyStore"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_BYTES = 12
        const val TAG_BITS = 128
    }
}
