import DriverCore
@testable import RedisDriver
import SessionModel
import Testing

/// Blobs `scripts/fuzz redis-blob` (docs/FUZZING.md) runs into: times no Int64 microsecond count
/// holds decode, and digesting or writing the session as DATETIME text no longer traps.
@Suite struct BlobFuzzRegressionTests {
    static let blobs = [
        #"{"id":"s","app_name":"a","user_id":"u","state":{},"events":[],"last_update_time":1e13}"#,
        #"{"id":"s","app_name":"a","user_id":"u","state":{},"events":[],"last_update_time":-Infinity}"#,
        #"{"id":"s","app_name":"a","user_id":"u","state":{},"events":[{"id":"e","timestamp":NaN}],"last_update_time":1.5}"#,
        #"{"id":"s","app_name":"a","user_id":"u","state":{},"events":[{"id":"e","timestamp":1e300}],"last_update_time":1e300}"#,
    ]

    @Test(arguments: blobs, RedisLayout.allCases)
    func outOfRangeTimesDoNotTrap(blob: String, layout: RedisLayout) throws {
        let decoded = try SessionBlobCodec.decode(Array(blob.utf8), storageKey: "session:s", layout: layout)
        let session = Session(key: decoded.key, state: decoded.state, events: decoded.events, lastUpdateTime: decoded.lastUpdateTime)
        #expect(session.digest(includingCreateTime: true).count == 32)
        let ordered = DatabaseV1Codec.ordered(session)
        #expect(!DatabaseV1Codec.datetimeText(DatabaseV1Codec.createTime(of: ordered)).isEmpty)
        for event in ordered.events { #expect(!DatabaseV1Codec.datetimeText(event.timestamp).isEmpty) }
        // orjson writes NaN and infinities as null, which no reader takes as a time (ADK neither).
        let finiteTimes = session.lastUpdateTime.isFinite && session.events.allSatisfy { $0.timestamp.isFinite }
        for target in RedisLayout.allCases where finiteTimes || target == .adkRedis {
            _ = try SessionBlobCodec.decode(SessionBlobCodec.encode(session, layout: target), storageKey: "session:s", layout: target)
        }
    }
}
