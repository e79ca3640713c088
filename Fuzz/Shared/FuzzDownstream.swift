import DriverCore
import SessionModel

/// What the engine and the writers do with a session a decoder produced: digest it (diff,
/// verify, snapshots), order its events and write its times and JSON as DatabaseSessionService
/// does, split and merge its state. A decoder that returns a session these trap on is a finding.
func fuzzDownstream(_ session: Session) {
    _ = session.digest(includingCreateTime: true)
    let ordered = DatabaseV1Codec.ordered(session)
    _ = DatabaseV1Codec.datetimeText(DatabaseV1Codec.createTime(of: ordered))
    _ = DatabaseV1Codec.datetimeText(session.lastUpdateTime)
    for event in ordered.events {
        _ = DatabaseV1Codec.datetimeText(event.timestamp)
        _ = DatabaseV1Codec.eventDataText(event)
        _ = event.data.serialized(.compact)
    }
    _ = DatabaseV1Codec.stateText(session.mergedState)
    _ = StateScopes.split(session.mergedState)
}
