import DriverCore
import SessionModel

/// `mirror`: what the copy deletes once it is done.
extension CopyEngine {
    /// The keys of every source session in scope (a whole scan), including those of bad sessions
    /// passed over, and whether a bad session had no readable key.
    func scanKeys(of source: any SessionStore) throws -> (Set<SessionKey>, unkeyedSkips: Bool) {
        let cursor = try source.scanSessions(SessionQuery(scope: request.scope, batchSize: request.batchSize, skipBad: request.skipBad))
        var keys = Set<SessionKey>()
        var unkeyed = false
        func takeSkipped() {
            for item in cursor.takeSkipped() {
                if let key = item.key { keys.insert(key) } else { unkeyed = true }
            }
        }
        while let session = try cursor.next() {
            takeSkipped()
            if request.scope.matches(session) { keys.insert(session.key) }
        }
        takeSkipped()
        return (keys, unkeyed)
    }

    /// `mirror`: deletes target sessions in scope that the source does not have.
    func deleteAbsent(from target: any SessionStore, keeping sourceKeys: Set<SessionKey>, summary: inout CopySummary) throws {
        let cursor = try target.scanSessions(SessionQuery(scope: request.scope, batchSize: request.batchSize))
        var doomed: [SessionKey] = []
        func flush() throws {
            if !request.dryRun { try target.deleteSessions(doomed) }
            doomed.removeAll(keepingCapacity: true)
        }
        while let session = try cursor.next() {
            guard request.scope.matches(session), !sourceKeys.contains(session.key) else { continue }
            summary.apps[session.key.appName, default: CopyCounts()].deleted += 1
            doomed.append(session.key)
            if doomed.count == request.batchSize { try flush() }
        }
        if !doomed.isEmpty { try flush() }
    }
}

/// `mirror` with `skipBad` met a source session so bad its key could not be read: the copy cannot
/// tell whether a target session is absent from the source, so it deletes nothing.
public struct MirrorRefusedError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String {
        "--mirror deleted nothing: a skipped source session has no readable key, so target sessions absent"
            + " from the source cannot be told apart from it (the copy itself completed; fix or remove that session)"
    }
}
