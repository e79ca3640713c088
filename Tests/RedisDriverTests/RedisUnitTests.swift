import DriverCore
import SessionModel
import Testing

@testable import RedisDriver

@Suite struct HashSlotTests {
    @Test func crc16MatchesTheClusterSpecTestVector() {
        #expect(RedisHashSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        #expect(RedisHashSlot.slot(of: "123456789") == 0x31C3 & 0x3FFF)
    }

    @Test func knownSlots() {
        // CLUSTER KEYSLOT values from a real server.
        #expect(RedisHashSlot.slot(of: "foo") == 12182)
        #expect(RedisHashSlot.slot(of: "hello") == 866)
        #expect(RedisHashSlot.slot(of: "") == 0)
    }

    @Test(arguments: [
        ("{user1000}.following", "user1000"),
        ("{user1000}.followers", "user1000"),
        ("foo{bar}{zap}", "bar"),
        ("foo{{bar}}zap", "{bar"),
        ("foo{}{bar}", "foo{}{bar}"),
        ("foo{bar", "foo{bar"),
        ("}{x}", "x"),
    ])
    func hashTags(key: String, hashed: String) {
        #expect(String(decoding: RedisHashSlot.hashedPart(of: Array(key.utf8)), as: UTF8.self) == hashed)
        #expect(RedisHashSlot.slot(of: key) == RedisHashSlot.slot(of: hashed))
    }
}

@Suite struct ReplyTests {
    @Test func decodesEveryRESP2Type() throws {
        let resp = "+OK\r\n-WRONGTYPE bad\r\n:-42\r\n$3\r\na\0b\r\n$-1\r\n*-1\r\n*3\r\n$0\r\n\r\n:1\r\n*1\r\n+x\r\n"
        let replies = try #require(RedisReply.decode(resp: Array(resp.utf8)))
        #expect(
            replies == [
                .status("OK"), .error("WRONGTYPE bad"), .integer(-42), .string([97, 0, 98]), .null, .null,
                .array([.string([]), .integer(1), .array([.status("x")])]),
            ])
        #expect(RedisReply.decode(resp: Array("?bad\r\n".utf8)) == nil)
    }

    @Test func accessors() {
        #expect(RedisReply.string(Array("hi".utf8)).text == "hi")
        #expect(RedisReply.status("OK").text == "OK")
        #expect(RedisReply.integer(3).integer == 3)
        #expect(RedisReply.null.isNull)
        #expect(RedisReply.error("ERR x").text == nil)
        #expect(RedisConnection.commandName([Array("pexpireat".utf8), Array("secret-key".utf8)]) == "PEXPIREAT")
    }

    @Test func serverVersionFromInfo() {
        let info = "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n"
        #expect(RedisServerVersion(info: info) == RedisServerVersion(major: 7, minor: 0, patch: 15))
        #expect(RedisServerVersion(major: 6, minor: 2, patch: 14) < RedisServerVersion(major: 7, minor: 0, patch: 0))
        #expect(RedisServerVersion(info: "# Server\r\n") == nil)
    }
}

@Suite struct ErrorTests {
    @Test(arguments: [
        ("WRONGPASS invalid username-password pair or user is disabled.", DriverErrorCode.authentication),
        ("NOAUTH Authentication required.", .authentication),
        ("ERR invalid password", .authentication),
        ("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?", .authentication),
        ("WRONGTYPE Operation against a key holding the wrong kind of value", .query),
        ("MOVED 3999 127.0.0.1:6381", .unsupported),
        ("LOADING Redis is loading the dataset in memory", .serverNotReady),
    ])
    func serverErrorsMapOntoCommonCodes(reply: String, code: DriverErrorCode) {
        #expect(RedisError.server(reply, context: "AUTH", secret: nil).code == code)
    }

    @Test func passwordsAreScrubbed() {
        let error = RedisError.server("ERR something hunter2-long said", context: "AUTH", secret: "hunter2-long")
        #expect(!error.description.contains("hunter2-long"))
        #expect(error.description.contains("***"))
        let config = RedisStoreConfig(host: "h", port: 1, database: 3, username: "u", password: "hunter2-long")
        #expect(config.description == "redis://u:***@h:1/3")
    }
}

@Suite struct CommunityFormTests {
    @Test(arguments: [
        (1.0, "1.0"), (1e-7, "1e-7"), (2.5e-5, "0.000025"), (1e-5, "0.00001"), (-2.5e-5, "-0.000025"),
        (9.99e-5, "0.0000999"), (1e16, "1e+16"), (0.0001, "0.0001"), (1.5e300, "1.5e+300"),
        (1e-100, "1e-100"), (Double.leastNonzeroMagnitude, "5e-324"), (1700000000.123456, "1700000000.123456"),
        (1.23456789123e-05, "0.0000123456789123"), (-0.0, "-0.0"),
    ])
    func orjsonFloats(value: Double, text: String) {
        // Expected texts are `orjson.dumps(value)` (orjson 3.13).
        #expect(CommunityForm.orjsonFloat(value) == text)
    }

    @Test func nonFiniteFloatsBecomeNull() throws {
        #expect(CommunityForm.orjsonFloat(.nan) == nil)
        #expect(CommunityForm.communityValue(try JSONValue.parse("[NaN, 1.5]")) == (try JSONValue.parse("[null, 1.5]")))
    }

    @Test func communityEventsBecomeTheCanonicalEventData() throws {
        let blob = try SessionBlobCodec.decode(Array(ADKFixtures.communityBlob.utf8), storageKey: "session:s1", layout: .community)
        let expected = [ADKFixtures.expectedEvent1, ADKFixtures.expectedEvent2, ADKFixtures.expectedEvent3]
        #expect(blob.events.map { $0.data.serialized(.python) } == expected)
        #expect(blob.key == SessionKey(appName: "app1", userId: "u1", sessionId: "s1"))
        #expect(blob.lastUpdateTime == 1700000002.0)
        #expect(
            JSONValue.object(blob.state).serialized(.python)
                == #"{"app:theme": "light", "user:name": "Zo\u00eb", "count": 1, "user:lang": "de", "nul": null, "f": 1e-07, "g": 2.5e-05}"#)
    }

    @Test func adkRedisBlobsAlreadyHoldTheCanonicalEventData() throws {
        let blob = try SessionBlobCodec.decode(Array(ADKFixtures.adkRedisBlob.utf8), storageKey: "session:app1:u1:s1", layout: .adkRedis)
        let expected = [ADKFixtures.expectedEvent1, ADKFixtures.expectedEvent2, ADKFixtures.expectedEvent3]
        #expect(blob.events.map { $0.data.serialized(.python) } == expected)
    }

    @Test func canonicalEventsGoBackToCommunityBytesAndFloats() throws {
        let event = try JSONValue.parseObject(ADKFixtures.expectedEvent1)
        let text = JSONValue.object(CommunityForm.communityEvent(event)).serialized(.compact)
        #expect(text.contains(#""data":"+//+AA==""#))
        #expect(text.contains(#""f":1e-7,"g":0.000025"#))
        #expect(text.contains(#""nul":null"#))
        let thought = JSONValue.object(CommunityForm.communityEvent(try JSONValue.parseObject(ADKFixtures.expectedEvent2))).serialized(.compact)
        #expect(thought.contains(#""thought_signature":"++++""#))
        #expect(thought.contains(#""z":1e+16"#))
        // And back again.
        #expect(CommunityForm.canonicalEvent(CommunityForm.communityEvent(event)) == event)
    }

    @Test func nullsInsideModelsAreDroppedButKeptInUserData() throws {
        let raw = try JSONValue.parseObject(
            #"""
            {"custom_metadata": {"a": null}, "actions": {"state_delta": {"k": null, "n": {"x": null}},
             "requested_auth_configs": {"fc": {"exchanged_auth_credential": null, "credential_key": "c"}},
             "requested_tool_confirmations": {"fc": {"hint": null, "payload": {"p": null}}}},
             "grounding_metadata": {"grounding_chunks": [{"retrieved_context": {"custom_metadata": [{"key": "k", "string_value": null}]}}],
                                    "search_entry_point": {"sdk_blob": "+/8=", "rendered_content": null}},
             "content": {"parts": [{"function_response": {"parts": [{"inline_data": {"data": "+/8=", "display_name": null}}],
                                    "response": {"r": null, "data": "+/8="}}}, null]},
             "branch": null, "id": "e", "timestamp": 1.0}
            """#)
        let canonical = JSONValue.object(CommunityForm.canonicalEvent(raw)).serialized(.compact)
        #expect(
            canonical == #"""
                {"custom_metadata":{"a":null},"actions":{"state_delta":{"k":null,"n":{"x":null}},"requested_auth_configs":{"fc":{"credential_key":"c"}},"requested_tool_confirmations":{"fc":{"payload":{"p":null}}}},"grounding_metadata":{"grounding_chunks":[{"retrieved_context":{"custom_metadata":[{"key":"k"}]}}],"search_entry_point":{"sdk_blob":"-_8="}},"content":{"parts":[{"function_response":{"parts":[{"inline_data":{"data":"-_8="}}],"response":{"r":null,"data":"+/8="}}},null]},"id":"e","timestamp":1.0}
                """#)
    }
}

@Suite struct UserSessionSetExpiryTests {
    private func plan(ttl: Int64, latest: Int64?, gt: Bool) -> [String]? {
        RedisSessionStore.setExpiryCommand(set: Array("app::a:u".utf8), ttl: ttl, latest: latest, supportsGT: gt, now: 1_000)
            .map { $0.arguments.map { String(decoding: $0, as: UTF8.self) } }
    }

    @Test func neverShortensTheSet() {
        #expect(plan(ttl: 500, latest: nil, gt: true) == ["PERSIST", "app::a:u"])
        #expect(plan(ttl: -2, latest: 9_000, gt: true) == ["PEXPIREAT", "app::a:u", "9000"])
        #expect(plan(ttl: -1, latest: 9_000, gt: true) == nil)
        #expect(plan(ttl: 500, latest: 9_000, gt: true) == ["PEXPIREAT", "app::a:u", "9000", "GT"])
        #expect(plan(ttl: 500, latest: 9_000, gt: false) == ["PEXPIREAT", "app::a:u", "9000"])
        #expect(plan(ttl: 9_000, latest: 9_000, gt: false) == nil)
    }
}

/// Requests are written as hiredis' `redisFormatCommandArgv` writes them (RESP2 multi-bulk).
@Suite struct CommandFormatTests {
    @Test func requestsAreRESPMultiBulk() {
        var buffer: [UInt8] = []
        RedisCommandFormat.append([Array("GETRANGE".utf8), Array("session:k".utf8), Array("-64".utf8), Array("-1".utf8)], to: &buffer)
        RedisCommandFormat.append([Array("SET".utf8), [], [0, 13, 10, 255]], to: &buffer)
        let expected = "*4\r\n$8\r\nGETRANGE\r\n$9\r\nsession:k\r\n$3\r\n-64\r\n$2\r\n-1\r\n*3\r\n$3\r\nSET\r\n$0\r\n\r\n$4\r\n"
        #expect(buffer == Array(expected.utf8) + [0, 13, 10, 255, 13, 10])
    }

    @Test(arguments: [0, 1, 9, 10, 11, 99, 100, 1_000, 9_999, 10_000, 123_456, 1 << 20])
    func lengthsAreDecimal(length: Int) {
        var buffer: [UInt8] = []
        RedisCommandFormat.append([Array(repeating: UInt8(ascii: "x"), count: length)], to: &buffer)
        let head = Array("*1\r\n$\(length)\r\n".utf8)
        #expect(Array(buffer.prefix(head.count)) == head && buffer.count == head.count + length + 2)
    }
}

/// A blob's key belongs to its session only when the bytes match: `session:café` (U+00E9) does not hold
/// the session `cafe` + U+0301, though Swift's `==` calls the two keys equal.
@Suite struct ExactKeyTests {
    @Test func aKeyHoldsOnlyTheSessionOfItsBytes() {
        let decomposed = SessionKey(appName: "a", userId: "u", sessionId: "cafe\u{301}")
        let composed = SessionKey(appName: "a", userId: "u", sessionId: "caf\u{E9}")
        for layout in [RedisLayout.community, .adkRedis] {
            let key = layout.sessionKey(composed)
            #expect(layout.holds(storageKey: key, key: composed))
            #expect(!layout.holds(storageKey: key, key: decomposed))
            #expect(RedisLayout.matching(storageKey: key, key: composed) == layout)
            #expect(RedisLayout.matching(storageKey: key, key: decomposed) == nil)
        }
    }
}
