import DriverCore
import SessionModel
import Testing

@testable import RedisDriver

/// Blobs `scripts/fuzz redis-blob` (docs/FUZZING.md) runs into: times no Int64 microsecond count
/// holds decode without trapping. Since issue 13 (item 1) they are refused as bad data of their blob
/// (outside the years 1000–9999 every store can hold); digesting and DATETIME text of such times
/// are covered by `SessionModelTests.FuzzRegressionTests`.
@Suite struct BlobFuzzRegressionTests {
    static let blobs = [
        #"{"id":"s","app_name":"a","user_id":"u","state":{},"events":[],"last_update_time":1e13}"#,
        #"{"id":"s","app_name":"a","user_id":"u","state":{},"events":[],"last_update_time":-Infinity}"#,
        #"{"id":"s","app_name":"a","user_id":"u","state":{},"events":[{"id":"e","timestamp":NaN}],"last_update_time":1.5}"#,
        #"{"id":"s","app_name":"a","user_id":"u","state":{},"events":[{"id":"e","timestamp":1e300}],"last_update_time":1e300}"#,
    ]

    @Test(arguments: blobs, RedisLayout.allCases)
    func outOfRangeTimesAreRefusedWithoutTrapping(blob: String, layout: RedisLayout) throws {
        let error = try #require(throws: SessionDataError.self) {
            try SessionBlobCodec.decode(Array(blob.utf8), storageKey: "session:s", layout: layout)
        }
        #expect(error.location == "session:s" && error.message.contains(StoredTime.rangeText), "\(error)")
    }

    @Test(arguments: RedisLayout.allCases)
    func theLimitsOfTheRangeDecode(layout: RedisLayout) throws {
        for (time, storable) in [("-30610224000", true), ("-30610224000.001", false), ("253402300799.99", true), ("253402300800", false)] {
            let blob = #"{"id":"s","app_name":"a","user_id":"u","state":{},"events":[],"last_update_time":\#(time)}"#
            let decoded = try? SessionBlobCodec.decode(Array(blob.utf8), storageKey: "session:s", layout: layout)
            #expect((decoded != nil) == storable, "\(time)")
        }
    }
}
