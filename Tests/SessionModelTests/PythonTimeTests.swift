import Testing

@testable import SessionModel

@Suite struct PythonTimeTests {
    @Test(arguments: pythonTimeCases)
    func matchesPythonDatetime(bits: UInt64, naive: String, back: UInt64) throws {
        let epoch = Double(bitPattern: bits)
        #expect(PythonTime.naiveUTC(fromEpoch: epoch) == naive)
        #expect(try PythonTime.epoch(fromNaiveUTC: naive) == Double(bitPattern: back))
    }

    @Test func acceptsShortFractionsAndTSeparator() throws {
        #expect(try PythonTime.epoch(fromNaiveUTC: "2023-11-14 22:13:21") == 1_700_000_001)
        #expect(try PythonTime.epoch(fromNaiveUTC: "2023-11-14T22:13:21.5") == 1_700_000_001.5)
    }

    @Test(arguments: ["2023-11-14", "2023/11/14 22:13:21", "2023-11-14 22:13:21.1234567", "2023-11-14 22:13:2x"])
    func rejectsMalformedText(text: String) {
        #expect(throws: SessionModelError.self) { try PythonTime.epoch(fromNaiveUTC: text) }
    }
}
