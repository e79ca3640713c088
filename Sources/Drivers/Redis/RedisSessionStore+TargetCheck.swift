import DriverCore
import SessionModel

extension RedisSessionStore {
    /// Refuses to become a copy target when the database holds keys under ADK's names that are not
    /// ADK data of this store's layout: a `session:*` key that is not a session blob of the layout
    /// (another program's sessions, a hash, the other layout), an `app:*` or `user:*` key that is
    /// not a state hash (or, for `app::…`, the community index set). Reading skips or reports such
    /// keys one by one; writing among them would mix two programs' data, so it is refused before
    /// anything is written. Other keys (the bot's caches, counters) are left alone and allowed.
    ///
    /// Checks a sample: up to `sampleSize` keys of each pattern within `maxScanSteps` `SCAN` steps of
    /// ``sampleScanCount`` keys (the first 20,000 keys), `app:*` and `user:*` in one walk.
    public func checkRecognisedForWriting(sampleSize: Int = 64, maxScanSteps: Int = 20) throws {
        guard case .known(let layout) = layoutState else { return }  // Writes to an undetected layout are refused anyway.
        let sessions =
            layout.sharesKeys
            ? [] : try Self.sampleKeys(keyspace, pattern: RedisKeys.sessionPattern, maxScanSteps: maxScanSteps, sampleSize: sampleSize)
        let blobs = try keyspace.execute(sessions.map { RedisCommand([Array("GET".utf8), $0], key: $0) })
        for (key, reply) in zip(sessions, blobs) {
            let name = String(decoding: key, as: UTF8.self)
            do {
                guard let bytes = try RedisSessionLoader.blobBytes(reply, storageKey: name) else { continue }
                let sessionKey = try SessionBlobCodec.decodeKey(bytes, storageKey: name)
                guard layout.holds(storageKey: name, key: sessionKey) else {
                    throw SessionDataError(
                        store: "redis", location: Printable.name(name), message: "not where the \(layout.rawValue) layout keeps \(sessionKey)")
                }
            } catch {
                throw foreign(name, "\(error)")
            }
        }
        for (key, found) in try sampleStateKeys(sampleSize: sampleSize, maxScanSteps: maxScanSteps) {
            let name = String(decoding: key, as: UTF8.self)
            let (allowed, expected) = Self.allowedTypes(name, layout: layout)
            if !allowed.contains(found) && found != "none" {
                throw foreign(name, "wrong key type: expected \(expected), found a \(found)\(RedisKeyTypes.hint(found: found, name: name))")
            }
        }
    }

    /// Up to `sampleSize` `app:*` keys and as many `user:*` keys with their types, in one walk of at most
    /// `maxScanSteps` steps: `MATCH [au][ps][pe]*` lists both (and the few other keys so spelt, passed
    /// over), where a walk per pattern crossed the keyspace twice.
    func sampleStateKeys(sampleSize: Int, maxScanSteps: Int) throws -> [(key: [UInt8], type: String)] {
        var counts = (app: 0, user: 0)
        let appPrefix = Array("app:".utf8)
        let userPrefix = Array("user:".utf8)
        var typed: [(key: [UInt8], type: String)] = []
        _ = try Self.sampleKeys(keyspace, pattern: "[au][ps][pe]*", maxScanSteps: maxScanSteps, sampleSize: .max) { keys in
            var wanted: [[UInt8]] = []
            for key in keys {
                if key.starts(with: appPrefix), counts.app < sampleSize {
                    counts.app += 1
                    wanted.append(key)
                } else if key.starts(with: userPrefix), counts.user < sampleSize {
                    counts.user += 1
                    wanted.append(key)
                }
            }
            typed += try Self.types(of: wanted, keyspace: keyspace)
            return counts.app >= sampleSize && counts.user >= sampleSize
        }
        return typed
    }

    /// The types `layout` keeps under `name` (an `app:*` or `user:*` key), and how to say so.
    static func allowedTypes(_ name: String, layout: RedisLayout) -> (Set<String>, String) {
        if name.hasPrefix("user:") { return (["hash"], "a hash (user state)") }
        switch layout {
        case .community where name.hasPrefix("app::"), .adkRedis where name.hasPrefix("app::"):
            return (["set"], "a set (google-adk-community's index of a user's sessions)")
        case .communitySet1:
            return (["set", "hash"], "a set (index of a user's sessions) or a hash (app state)")
        case .adkRedis014:
            return (["string", "hash"], "a string (a user's sessions) or a hash (app state)")
        default:
            return (["hash"], "a hash (app state)")
        }
    }

    private func foreign(_ key: String, _ reason: String) -> RedisError {
        RedisError(
            code: .unsupported,
            message:
                "the target database holds \(Printable.name(key)), which is not ADK data (\(reason)); refusing to write into a database whose keys sessmigrate does not recognise",
            context: "target check")
    }
}
