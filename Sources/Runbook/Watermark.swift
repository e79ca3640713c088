import DriverCore
import Foundation
import SessMigrate
import SessionModel

/// `watermark`: records a time from which later steps read changes (`${steps.ID.time}`).
///
/// With `store`, the time is that store's own clock (MySQL `NOW(6)`, Redis `TIME`; a file store has the
/// local clock), the clock the bot's writes to it are stamped against rather than this host's, minus
/// `margin_seconds` (default 60) for the skew between the bot's hosts and the server and for writes
/// stamped before they were committed (an event's timestamp is taken when it is made, its transaction
/// commits later). Taken before the copy reads anything, it is never recomputed: a resumed run uses the
/// recorded value.
enum Watermark {
    static let defaultMarginSeconds = 60

    static func run(_ context: StepContext) throws -> JSONObject {
        let margin = Double(try context.integer("margin_seconds", in: 0...86_400, default: defaultMarginSeconds))
        var clock = "local"
        var now = context.now()
        if let text = try context.value("store") {
            if let server = try serverTime(context, address: try context.address(text: text)) {
                now = server
                clock = "server"
            }
        }
        let time = now - margin
        return [
            "time": .string(PythonFloat.repr(time)), "time_utc": .string(PythonTime.naiveUTC(fromEpoch: time)),
            "clock": .string(clock), "clock_time": .string(PythonFloat.repr(now)), "margin_seconds": .number(JSONNumber(margin)),
        ]
    }

    /// The store's clock, or `nil` when it has none of its own (a file).
    static func serverTime(_ context: StepContext, address: StoreAddress) throws -> Double? {
        if address.isFile { return nil }
        let store = try context.opener.open(address, forWriting: false)
        defer { try? store.close() }
        return try store.serverTime()
    }
}
