import DriverCore
import SessionModel

/// What a key's Redis type says about the layouts, for messages.
enum RedisKeyTypes {
    /// ` (…)`: what a key of type `found` under this name is in the layouts that use that type.
    static func hint(found: String, name: String) -> String {
        switch found {
        case "set" where name.hasPrefix("app::"): " (google-adk-community's index set: mixed layouts?)"
        case "set" where name.hasPrefix("app:"): " (a community-set1 index set: mixed layouts?)"
        case "string" where name.hasPrefix("app:"): " (a google-adk-redis 0.1.4 user string: mixed layouts?)"
        case "hash" where name.hasPrefix("app:") || name.hasPrefix("user:"): " (a state hash)"
        default: ""
        }
    }
}

/// Evidence of the layouts found by sampling a database's keys.
struct RedisLayoutEvidence {
    /// The first key seen of each layout.
    var blobs: [RedisLayout: String] = [:]
    /// A community index set with a double colon (`app::…`), and one with a single colon.
    var doubleColonSet: String?
    var singleColonSet: String?
    /// A google-adk-redis 0.1.4 user string.
    var userString: String?
    /// A blob that fits no layout.
    var unknown: (name: String, key: SessionKey)?

    /// True when data with this evidence may be read or written as `given`: the layout found, or a
    /// community variant where only community blobs (no index set of the other variant) were seen.
    func allows(_ given: RedisLayout) -> Bool {
        guard case .known(let found)? = try? conclusion(unknownIsError: false) else { return true }
        if found == given { return true }
        if given == .communitySet1 { return found == .community && doubleColonSet == nil }
        return false
    }

    /// The layout, or the error naming two keys of different layouts.
    func conclusion(unknownIsError: Bool) throws -> RedisLayoutState {
        func mixed(_ first: String, _ firstWhat: String, _ second: String, _ secondWhat: String) -> RedisError {
            RedisError(
                code: .unsupported,
                message:
                    "mixed layouts: \(Printable.name(first)) is \(firstWhat) but \(Printable.name(second)) is \(secondWhat); refusing to guess (name the layout with ?layout=, after separating the data)",
                context: "layout detection")
        }
        if let community = blobs[.community], let adkRedis = blobs[.adkRedis] {
            throw mixed(community, "google-adk-community (session:{id})", adkRedis, "google-adk-redis (session:{app}:{user}:{id})")
        }
        if let double = doubleColonSet, let single = singleColonSet {
            throw mixed(double, "a community index set (set app::{app}:{user})", single, "a community-set1 index set (set app:{app}:{user})")
        }
        if let string = userString {
            let other =
                blobs[.community].map { ($0, "google-adk-community (string session:{id})") }
                ?? blobs[.adkRedis].map { ($0, "google-adk-redis 0.1.5 (string session:{app}:{user}:{id})") }
                ?? singleColonSet.map { ($0, "a community-set1 index set (set app:{app}:{user})") }
                ?? doubleColonSet.map { ($0, "a community index set (set app::{app}:{user})") }
            if let (key, what) = other { throw mixed(string, "google-adk-redis 0.1.4 (string app:{app}:{user})", key, what) }
            return .known(.adkRedis014)
        }
        if blobs[.adkRedis] != nil { return .known(.adkRedis) }
        if blobs[.community] != nil || doubleColonSet != nil || singleColonSet != nil {
            return .known(singleColonSet != nil ? .communitySet1 : .community)
        }
        if unknownIsError, let unknown {
            throw SessionDataError(
                store: "redis", location: Printable.name(unknown.name),
                message: "unknown layout: the key matches neither layout for the blob's app_name/user_id/id (\(unknown.key))")
        }
        return .empty
    }
}

extension RedisSessionStore {
    /// Number of blobs sampled by layout detection.
    static let detectionSampleSize = 16

    /// Looks at the first `session:*` blobs and `app:*` keys to tell the layouts apart, scanning at
    /// most `maxScanSteps` `SCAN` steps of ``sampleScanCount`` keys per pattern when given (all of them otherwise):
    /// `session:{id}` → community, `session:{app}:{user}:{id}` → adk-redis (compared with the
    /// blob's own ids), a set `app::…` → community, a set `app:…` (one colon) → community-set1, a
    /// string `app:{app}:{user}` holding sessions → adk-redis-014 (`TYPE` tells the last two
    /// apart). Two layouts → an error naming a key of each. Blobs that cannot be read are left to
    /// the scan; when nothing fits a layout and a blob fits neither, the layout is unknown: an
    /// error unless `unknownIsError` is false (a layout was given).
    static func detectLayout(_ keyspace: any RedisKeyspace, maxScanSteps: Int = .max, unknownIsError: Bool = true) throws -> RedisLayoutState {
        try detectEvidence(keyspace, maxScanSteps: maxScanSteps).conclusion(unknownIsError: unknownIsError)
    }

    /// The sample behind ``detectLayout(_:maxScanSteps:unknownIsError:)``.
    ///
    /// `indexKeys`: how many index keys the `app:*` walk stops at. Checking a layout that was given
    /// needs one: data all of another layout shows it in any index key, and mixed evidence is left to
    /// the reads anyway (``RedisLayoutEvidence/allows(_:)``); the rest of the walk cost a time-bounded
    /// pass over 100,000 sessions 15 `SCAN` steps.
    static func detectEvidence(
        _ keyspace: any RedisKeyspace, maxScanSteps: Int = .max, indexKeys: Int = detectionSampleSize
    ) throws -> RedisLayoutEvidence {
        var evidence = RedisLayoutEvidence()
        let sample = try sampleKeys(keyspace, pattern: RedisKeys.sessionPattern, maxScanSteps: maxScanSteps)
        let replies = try keyspace.execute(sample.map { RedisCommand([Array("GET".utf8), $0], key: $0) })
        for (key, reply) in zip(sample, replies) {
            let name = String(decoding: key, as: UTF8.self)
            // A blob that cannot be read is no evidence of a layout; the scan reports it (stop or --skip-bad).
            guard let bytes = try? RedisSessionLoader.blobBytes(reply, storageKey: name),
                let sessionKey = try? SessionBlobCodec.decodeKey(bytes, storageKey: name)
            else { continue }
            guard let layout = RedisLayout.matching(storageKey: name, key: sessionKey) else {
                evidence.unknown = evidence.unknown ?? (name, sessionKey)
                continue
            }
            evidence.blobs[layout] = evidence.blobs[layout] ?? name
        }
        // Index keys (sets, 0.1.4 strings) tell the layouts apart; app state hashes do not. Among many
        // sessions and few users both are rare, so the walk stops at a sample of index keys.
        let appKeys = try sampleTypedKeys(keyspace, pattern: "app:*", maxScanSteps: maxScanSteps, sampleSize: 64) { types in
            types.count { $0 == "set" || $0 == "string" } >= indexKeys
        }
        var strings: [[UInt8]] = []
        for (key, type) in appKeys {
            let name = String(decoding: key, as: UTF8.self)
            switch type {
            case "set" where name.hasPrefix("app::"): evidence.doubleColonSet = evidence.doubleColonSet ?? name
            case "set": evidence.singleColonSet = evidence.singleColonSet ?? name
            case "string": strings.append(key)
            default: break
            }
        }
        // A string under app:* is a 0.1.4 user string only if it holds sessions of that user.
        let values = try keyspace.execute(strings.prefix(detectionSampleSize).map { RedisCommand([Array("GET".utf8), $0], key: $0) })
        for (key, reply) in zip(strings, values) {
            let name = String(decoding: key, as: UTF8.self)
            guard let bytes = reply.bytes, let members = try? SessionBlobCodec.userStringMembers(bytes, storageKey: name),
                members.contains(where: { (try? SessionBlobCodec.decodeUserStringMember($0, storageKey: name, layout: .adkRedis014)) != nil })
            else { continue }
            evidence.userString = evidence.userString ?? name
        }
        return evidence
    }

    /// Keys each sampling `SCAN` step asks for (`COUNT`): samples of rare keys (the `app:*` keys among
    /// 100,000 sessions) walk much of the keyspace, in a tenth of the round trips of Redis's default
    /// step; a step of 1,000 keys holds the server for well under a millisecond.
    static let sampleScanCount = 1000

    /// Up to `sampleSize` distinct keys matching `pattern`, node by node, within `maxScanSteps` steps
    /// of ``sampleScanCount`` keys; `afterStep`, given each step's new keys, ends the walk early by
    /// returning true.
    static func sampleKeys(
        _ keyspace: any RedisKeyspace, pattern: String, maxScanSteps: Int, sampleSize: Int = detectionSampleSize,
        afterStep: ([[UInt8]]) throws -> Bool = { _ in false }
    ) throws -> [[UInt8]] {
        var sample: [[UInt8]] = []
        var seen = Set<[UInt8]>()
        var position: RedisScanPosition? = .start
        var steps = 0
        while sample.count < sampleSize, steps < maxScanSteps, let current = position {
            let (cursor, keys) = try keyspace.scan(node: current.node, cursor: current.cursor, match: pattern, count: sampleScanCount)
            let new = Array(keys.filter { seen.insert($0).inserted }.prefix(sampleSize - sample.count))
            sample += new
            steps += 1
            if try afterStep(new) { break }
            if cursor != "0" {
                position = RedisScanPosition(node: current.node, cursor: cursor)
            } else {
                position = current.node + 1 < keyspace.nodeCount ? RedisScanPosition(node: current.node + 1, cursor: "0") : nil
            }
        }
        return sample
    }

    /// ``sampleKeys(_:pattern:maxScanSteps:sampleSize:afterStep:)`` with each key's type (`TYPE`,
    /// pipelined after each step), ending early once `enough` holds for the types so far.
    static func sampleTypedKeys(
        _ keyspace: any RedisKeyspace, pattern: String, maxScanSteps: Int, sampleSize: Int, enough: ([String]) -> Bool
    ) throws -> [(key: [UInt8], type: String)] {
        var typed: [(key: [UInt8], type: String)] = []
        _ = try sampleKeys(keyspace, pattern: pattern, maxScanSteps: maxScanSteps, sampleSize: sampleSize) { keys in
            typed += try types(of: keys, keyspace: keyspace)
            return enough(typed.map(\.type))
        }
        return typed
    }

    /// Each key with its type (`TYPE`, one pipeline; `none` for a key gone since it was listed).
    static func types(of keys: [[UInt8]], keyspace: any RedisKeyspace) throws -> [(key: [UInt8], type: String)] {
        guard !keys.isEmpty else { return [] }
        let replies = try keyspace.execute(keys.map { RedisCommand([Array("TYPE".utf8), $0], key: $0) })
        return zip(keys, replies).map { ($0, $1.text ?? $1.kind) }
    }
}
