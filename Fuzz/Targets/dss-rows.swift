import DriverCore
import SessionModel

// DatabaseSessionService rows (MySQL and SQLite, schemas v1 and v0): `DatabaseV1Codec` and
// `DatabaseV0Codec` never crash or hang on any column values, and the events they build can be
// ordered, digested and written back. Input: a selector byte, then length-prefixed columns.

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    emitSeedsIfAsked {
        let v1: [[UInt8]] = FuzzSamples.sessions.flatMap(\.events).map { event in
            var bytes: [UInt8] = [0]
            for column in [event.id, event.invocationId, DatabaseV1Codec.datetimeText(event.timestamp), DatabaseV1Codec.eventDataText(event)] {
                let utf8 = Array(column.utf8.prefix(255))
                bytes += [UInt8(utf8.count)] + utf8
            }
            return bytes
        }
        let state: [[UInt8]] = [[1] + Array(#"{"a": [1, 2.5], "app:x": null}"#.utf8)]
        let v0: [[UInt8]] = [[2, 0xFF, 2, 2, UInt8(ascii: "e"), UInt8(ascii: "1")]]
        return v1 + state + v0
    }
    return 0
}

/// A column value for the v0 codec: NULL, an integer, text or bytes.
private func v0Value(_ input: inout FuzzInput) -> DatabaseV0Value {
    switch input.byte() % 4 {
    case 0: return .null
    case 1: return .integer(Int64(bitPattern: input.uint64()))
    case 2: return .text(String(decoding: input.chunk(), as: UTF8.self))
    default: return .bytes(input.chunk())
    }
}

private func text(_ input: inout FuzzInput) -> String { String(decoding: input.chunk(), as: UTF8.self) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(fuzzBytes(data, size))
    switch input.byte() % 3 {
    case 0:
        let (id, invocation, time, eventData) = (text(&input), text(&input), text(&input), String(decoding: input.rest(), as: UTF8.self))
        _ = try? DatabaseV1Codec.epoch(fromDatetime: time, store: "fuzz", location: "row")
        guard let event = try? DatabaseV1Codec.event(
            id: id, invocationId: invocation, timestampText: time, eventData: eventData, store: "fuzz", location: "row")
        else { return 0 }
        fuzzDownstream(Session(key: SessionKey(appName: "a", userId: "u", sessionId: "s"), events: [event], lastUpdateTime: event.timestamp))
    case 1:
        let text = String(decoding: input.rest(), as: UTF8.self)
        guard let state = try? DatabaseV1Codec.state(fromText: text, store: "fuzz", location: "row") else { return 0 }
        guard (try? DatabaseV1Codec.state(fromText: DatabaseV1Codec.stateText(state), store: "fuzz", location: "row")) != nil else {
            fuzzFailure("state text written from a read state does not read")
        }
    default:
        // Which of the optional columns the table has, then the row.
        let mask = input.uint16() << 8 | Int(input.byte())
        let optional = DatabaseV0Codec.allEventColumns.filter { !DatabaseV0Codec.requiredEventColumns.contains($0) }
        let present = DatabaseV0Codec.requiredEventColumns + optional.enumerated().filter { mask >> $0.offset & 1 == 1 }.map(\.element)
        guard let codec = try? DatabaseV0Codec(store: "fuzz", eventColumns: present, pickleProtocol: 4, errorMessageLimit: nil) else {
            fuzzFailure("a table with every required column is refused")
        }
        let id = text(&input)
        let values = codec.valueColumns.map { _ in v0Value(&input) }
        guard let event = try? codec.event(id: id, values: values, location: "row") else { return 0 }
        fuzzDownstream(Session(key: SessionKey(appName: "a", userId: "u", sessionId: "s"), events: [event], lastUpdateTime: event.timestamp))
        _ = try? codec.values(for: event, location: "row")
        _ = codec.unrepresentableFields(in: event)
    }
    return 0
}
