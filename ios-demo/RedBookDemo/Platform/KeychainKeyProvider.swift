// The database key's wrapper on iOS: a random AES-256 key kept in the Keychain (this
// device only, after first unlock; never in backups) and AES-GCM from CryptoKit. The core
// hands over its random database key to wrap once, and the wrapped bytes to unwrap at
// each open (docs/architecture.md, "Keys"). Mirrors android-demo's AndroidKeystoreKeyProvider.kt.
import CryptoKit
import Foundation
import Security

final class KeychainKeyProvider: KeyProvider, @unchecked Sendable {
    private let service = "uk.nhs.redbook"
    private let account = "database-key-wrapper"

    private func wrappingKey() throws -> SymmetricKey {
        let query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecReturnData as String: true,
        ]
        var item: CFTypeRef?
        let found = SecItemCopyMatching(query as CFDictionary, &item)
        if found == errSecSuccess, let data = item as? Data {
            return SymmetricKey(data: data)
        }
        guard found == errSecItemNotFound else {
            throw KeyProviderError.Failed(reason: "the Keychain could not be read (status \(found))")
        }
        let key = SymmetricKey(size: .bits256)
        let add: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
            kSecValueData as String: key.withUnsafeBytes { Data($0) },
        ]
        let added = SecItemAdd(add as CFDictionary, nil)
        guard added == errSecSuccess else {
            throw KeyProviderError.Failed(reason: "the Keychain could not store the key (status \(added))")
        }
        return key
    }

    /// Nonce, sealed key and tag (CryptoKit's combined form).
    func wrapKey(databaseKey: Data) throws -> Data {
        do {
            guard let combined = try AES.GCM.seal(databaseKey, using: try wrappingKey()).combined else {
                throw KeyProviderError.Failed(reason: "AES-GCM gave no combined form")
            }
            return combined
        } catch let error as KeyProviderError {
            throw error
        } catch {
            throw KeyProviderError.Failed(reason: "the key could not be wrapped")
        }
    }

    func unwrapKey(wrappedKey: Data) throws -> Data {
        let key = try wrappingKey()
        do {
            return try AES.GCM.open(try AES.GCM.SealedBox(combined: wrappedKey), using: key)
        } catch {
            // Another key (e.g. restored to a new phone, where this Keychain item is new).
            throw KeyProviderError.WrongKey
        }
    }
}
