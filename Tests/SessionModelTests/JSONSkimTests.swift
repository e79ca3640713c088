import Testing

@testable import SessionModel

/// ``JSONSkim`` finds members and elements where the parser does, and gives up where unsure.
@Suite struct JSONSkimTests {
    static func slices(_ text: String) -> [(String, String)]? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { raw in
            JSONSkim.members(raw)?.map {
                (
                    String(decoding: UnsafeRawBufferPointer(rebasing: raw[$0.key]), as: UTF8.self),
                    String(decoding: UnsafeRawBufferPointer(rebasing: raw[$0.value]), as: UTF8.self)
                )
            }
        }
    }

    @Test func membersAreTheParsersMembers() throws {
        let text = #" { "a" : 1 , "b":"x\"}]," ,"c":[1,{"d":"]"}], "e":{"f":[]}, "g":null, "h":-1.5e3 } "#
        let members = try #require(Self.slices(text))
        let parsed = try JSONValue.parseObject(text)
        #expect(members.map(\.0) == parsed.members.map(\.key))
        for (member, expected) in zip(members, parsed.members) { #expect(try JSONValue.parse(member.1) == expected.value) }
        #expect(Self.slices("{}")?.isEmpty == true)
    }

    @Test(arguments: [#"{"a":1"#, #"{"a" 1}"#, #"{"a":1,}"#, #"{"\u0061":1}"#, #"{"é":1}"#, #"{"a":1} x"#, "[1]", #"{"a":"x}"#, #"{"a":}"#, ""])
    func givesUpWhereUnsure(text: String) {
        #expect(Self.slices(text) == nil)
    }

    @Test func elementsAreTheParsersElements() throws {
        let text = #"[ {"a":[1,2]} , "s,]" ,3,[ ],null ]"#
        let bytes = Array(text.utf8)
        let elements = try #require(bytes.withUnsafeBytes { JSONSkim.elements($0, in: 0..<bytes.count) })
        let parsed = try #require(try JSONValue.parse(text).arrayValue)
        #expect(elements.count == parsed.count)
        for (range, expected) in zip(elements, parsed) {
            #expect(try JSONValue.parse(String(decoding: bytes[range], as: UTF8.self)) == expected)
        }
        for bad in ["[1,]", "[1 2]", "[", "{}", "[1]]"] {
            let badBytes = Array(bad.utf8)
            #expect(badBytes.withUnsafeBytes { JSONSkim.elements($0, in: 0..<badBytes.count) } == nil, "\(bad)")
        }
    }

    @Test func splittingAMemberFindsItsElements() throws {
        for text in [#"{"a": 1, "events": [ {"x": "]"}, [1], 2 ], "b": {}}"#, #"{"events":[]}"#, #"{"events": {"k": 1}, "z": 0}"#] {
            let bytes = Array(text.utf8)
            let (members, split) = try #require(bytes.withUnsafeBytes { JSONSkim.members($0, splitting: "events") })
            let plain = try #require(bytes.withUnsafeBytes { JSONSkim.members($0) })
            #expect(members.map(\.value) == plain.map(\.value))
            let events = try #require(members.first { String(decoding: bytes[$0.key], as: UTF8.self) == "events" })
            let expected = bytes.withUnsafeBytes { JSONSkim.elements($0, in: events.value) }
            #expect(split == expected, "\(text)")
        }
    }
}
