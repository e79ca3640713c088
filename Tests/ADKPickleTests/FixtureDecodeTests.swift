import ADKPickle
import SessionModel
import Testing

@Suite struct FixtureDecodeTests {
    /// The JSON ADK 2.13 produces from this pickle; for pickles 2.13's restricted unpickler
    /// refuses (protocol 2/3 globals), what it produces from the protocol 4 pickle of the same case.
    static func expected(_ fixture: PickleFixture) -> PickleFixture.Outcome? {
        guard fixture.refusedByRestrictedUnpickler else { return fixture.adk213 }
        return PickleFixture.all.first { $0.writer == fixture.writer && $0.name == fixture.caseName + "_p4" }?.adk213
    }

    @Test(arguments: PickleFixture.all)
    func decodesToWhatADK213Reads(_ fixture: PickleFixture) throws {
        switch Self.expected(fixture) {
        case .json(let text)?:
            let expected = try JSONValue.parseObject(text)
            let actual = try EventActionsPickle.decode(fixture.bytes)
            #expect(actual.serialized(.python) == expected.serialized(.python))
        case .error?:
            #expect(throws: PickleError.self) { try EventActionsPickle.decode(fixture.bytes) }
        case nil:
            Issue.record("fixture \(fixture.name) has no ADK 2.13 outcome")
        }
    }

    @Test(arguments: PickleFixture.all)
    func decodesEveryProtocolAlike(_ fixture: PickleFixture) throws {
        let sameCase = PickleFixture.all.first { $0.writer == fixture.writer && $0.name == fixture.caseName + "_p4" }
        guard fixture.protocol != 4, let p4 = sameCase else { return }
        // Compared as text: NaN (in rich_state) is not == to itself.
        let value = try PickleDecoder.decode(fixture.bytes)
        #expect(String(describing: value) == String(describing: try PickleDecoder.decode(p4.bytes)))
    }
}
