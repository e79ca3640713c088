import DriverCore
import Foundation
@testable import RedisDriver
import SessionModel
import Testing

/// Copies sessions between test databases so the real ADK services can read what this store
/// wrote (see Tests/Interop/adk_io.py). Runs only when `SESSMIGRATE_REDIS_INTEROP_COPY` is set to
/// `SRC:DST:LAYOUT[,SRC:DST:LAYOUT…]`, e.g. `49:48:community,49:47:adk-redis`; DST is emptied.
@Suite(.enabled(if: TestRedis.isAvailable && ProcessInfo.processInfo.environment["SESSMIGRATE_REDIS_INTEROP_COPY"] != nil))
struct RedisInteropCopyTests {
    @Test func copyForTheRealServices() throws {
        let spec = ProcessInfo.processInfo.environment["SESSMIGRATE_REDIS_INTEROP_COPY"] ?? ""
        for step in spec.split(separator: ",") {
            let parts = step.split(separator: ":").map(String.init)
            guard parts.count == 3, let source = Int(parts[0]), let target = Int(parts[1]), (40...49).contains(target),
                let layout = RedisLayout(rawValue: parts[2])
            else { throw TestFailure("bad copy step \(step)") }
            try TestRedis.withEmptyDatabase(target) { _ in }
            try TestRedis.withStore(source) { reader in
                try TestRedis.withStore(target, layout: layout) { writer in
                    let cursor = try reader.scanSessions(SessionQuery(batchSize: 7))
                    var batch: [Session] = []
                    while let session = try cursor.next() {
                        batch.append(session)
                        if batch.count == 7 { try writer.writeSessions(batch); batch = [] }
                    }
                    try writer.writeSessions(batch)
                }
            }
        }
    }
}
