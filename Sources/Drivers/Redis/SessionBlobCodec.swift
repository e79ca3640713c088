import DriverCore
import SessionModel

/// A session blob decoded from either layout; state is the blob's `state` minus `temp:` keys.
struct SessionBlob {
    var key: SessionKey
    var state: JSONObject
    var events: [Event]
    var lastUpdateTime: Double
}

/// Reads and writes the session blob (`session:…` string) of each layout.
///
/// Both services store the whole pydantic `Session`: members `id`, `app_name`, `user_id`,
/// `state`, `events`, `last_update_time`, in that order. All six are required when reading.
enum SessionBlobCodec {
    /// The identity of a blob (for layout detection) without decoding its events.
    static func decodeKey(_ bytes: [UInt8], storageKey: String) throws -> SessionKey {
        try key(of: parseObject(bytes, storageKey: storageKey), storageKey: storageKey)
    }

    /// Decodes a blob; community events and state are brought to canonical form.
    static func decode(_ bytes: [UInt8], storageKey: String, layout: RedisLayout) throws -> SessionBlob {
        try decode(object: try parseObject(bytes, storageKey: storageKey), storageKey: storageKey, layout: layout)
    }

    /// Decodes one session's JSON object (a blob, or a member of an `adk-redis-014` user string).
    static func decode(object: JSONObject, storageKey: String, layout: RedisLayout) throws -> SessionBlob {
        let layout = layout.blobEncoding
        let key = try key(of: object, storageKey: storageKey)
        guard case .object(var state)? = object["state"] else {
            throw bad(storageKey, "\"state\" is missing or not an object")
        }
        guard case .array(let rawEvents)? = object["events"] else {
            throw bad(storageKey, "\"events\" is missing or not an array")
        }
        guard let lastUpdateTime = object["last_update_time"]?.doubleValue else {
            throw bad(storageKey, "\"last_update_time\" is missing or not a number")
        }
        try StoredTime.check(lastUpdateTime, field: "last_update_time", store: "redis", location: Printable.name(storageKey))
        if layout == .community, case .object(let canonical) = CommunityForm.canonicalValue(.object(state)) {
            state = canonical
        }
        var events: [Event] = []
        events.reserveCapacity(rawEvents.count)
        var ids = Set<ExactString>()
        for (index, rawEvent) in rawEvents.enumerated() {
            guard case .object(var data) = rawEvent else { throw bad(storageKey, "event #\(index) is not an object") }
            if layout == .community { data = CommunityForm.canonicalEvent(data) }
            let event: Event
            do {
                event = try Event(data: data)
            } catch {
                throw bad(storageKey, "event #\(index): \(error)")
            }
            try StoredTime.check(event.timestamp, field: "event #\(index) timestamp", store: "redis", location: Printable.name(storageKey))
            try checkOrder(event, index: index, previous: events.last, ids: &ids, storageKey: storageKey)
            events.append(event)
        }
        return SessionBlob(key: key, state: StateScopes.droppingTemp(state), events: events, lastUpdateTime: lastUpdateTime)
    }

    /// ADK finds events by id: a blob that repeats an id was not written by ADK and would be misread
    /// by it. Events out of time order are ADK's own data and are kept in the order stored:
    /// google-adk-redis appends each event to the blob it finds, stamped when the bot made it, so two
    /// bot instances (a rollout) can store an older-stamped event after a newer one.
    static func checkOrder(_ event: Event, index: Int, previous: Event?, ids: inout Set<ExactString>, storageKey: String) throws {
        guard ids.insert(ExactString(event.id)).inserted else {
            throw bad(storageKey, "event #\(index) repeats the id '\(Printable.name(event.id))' of an earlier event")
        }
    }

    /// The blob `layout`'s service would hold for `session`.
    ///
    /// Community: the merged state (as the service writes after `append_event`), events with
    /// standard base64 bytes, compact orjson text. adk-redis: session-scoped state only,
    /// canonical events, Python `json.dumps` text.
    ///
    /// The same bytes as ``encodeObject(_:layout:)`` serialized, with each event's text spliced in
    /// as the event carries or transcodes it (``SessionModel/Event/communityText()``), not re-built
    /// as a tree.
    static func encode(_ session: Session, layout: RedisLayout) -> [UInt8] {
        let community = layout.isCommunity
        let style: JSONStyle = community ? .compact : .python
        var object = JSONObject()
        object["id"] = .string(session.key.sessionId)
        object["app_name"] = .string(session.key.appName)
        object["user_id"] = .string(session.key.userId)
        object["state"] = community ? CommunityForm.communityValue(.object(session.mergedState)) : .object(session.state)
        let lastUpdate = JSONValue.number(JSONNumber(session.lastUpdateTime))
        object["last_update_time"] = community ? CommunityForm.communityValue(lastUpdate) : lastUpdate
        // `{"id": …, "state": …, "last_update_time": …}` is opened after `state` for the events.
        var head = JSONValue.object(object).serializedBytes(style)
        let tail = JSONValue.object(["last_update_time": object["last_update_time"] ?? .null]).serializedBytes(style)
        head.removeLast(tail.count - 1)  // back to the separator after `state`
        var output = head
        output.reserveCapacity(head.count + tail.count + session.events.count * 1024)
        output.append(contentsOf: style == .python ? Array(#""events": ["#.utf8) : Array(#""events":["#.utf8))
        for (index, event) in session.events.enumerated() {
            if index > 0 { output.append(contentsOf: style == .python ? [0x2C, 0x20] : [0x2C]) }
            output.append(contentsOf: (community ? event.communityText() : event.serializedData(.python)).utf8)
        }
        output.append(contentsOf: style == .python ? [0x5D, 0x2C, 0x20] : [0x5D, 0x2C])
        output.append(contentsOf: tail.dropFirst())
        return output
    }

    /// The session's JSON as `layout`'s service dumps it (see ``encode(_:layout:)``).
    static func encodeObject(_ session: Session, layout: RedisLayout) -> JSONValue {
        var object = JSONObject()
        object["id"] = .string(session.key.sessionId)
        object["app_name"] = .string(session.key.appName)
        object["user_id"] = .string(session.key.userId)
        if layout.isCommunity {
            object["state"] = CommunityForm.communityValue(.object(session.mergedState))
            object["events"] = .array(session.events.map { .object(CommunityForm.communityEvent($0.data)) })
            object["last_update_time"] = CommunityForm.communityValue(.number(JSONNumber(session.lastUpdateTime)))
        } else {
            object["state"] = .object(session.state)
            object["events"] = .array(session.events.map { .object($0.data) })
            object["last_update_time"] = .number(JSONNumber(session.lastUpdateTime))
        }
        return .object(object)
    }

    /// A state hash field value as `layout`'s service writes it (`orjson.dumps` / `json.dumps`).
    static func encodeStateValue(_ value: JSONValue, layout: RedisLayout) -> [UInt8] {
        layout.isCommunity ? CommunityForm.communityValue(value).serializedBytes(.compact) : value.serializedBytes(.python)
    }

    /// A state hash (`HGETALL` reply) as an object of parsed values, in reply order.
    static func decodeStateHash(_ reply: RedisReply, hashKey: String, layout: RedisLayout) throws -> JSONObject {
        if case .error(let message) = reply {
            throw SessionDataError(store: "redis", location: Printable.name(hashKey), message: "cannot read the state hash (\(message.prefix { $0 != " " }))")
        }
        guard let flat = reply.elements, flat.count % 2 == 0 else {
            throw SessionDataError(store: "redis", location: Printable.name(hashKey), message: "unexpected HGETALL reply")
        }
        var members: [(key: String, value: JSONValue)] = []
        members.reserveCapacity(flat.count / 2)
        for index in stride(from: 0, to: flat.count, by: 2) {
            let fieldBytes = flat[index].bytes ?? []
            guard let field = String(validating: fieldBytes, as: UTF8.self) else {
                throw SessionDataError(store: "redis", location: Printable.name(hashKey), message: "a field name is not valid UTF-8")
            }
            let bytes = flat[index + 1].bytes ?? []
            let parsed: JSONValue
            do {
                parsed = try bytes.withUnsafeBytes { raw throws(JSONError) in try JSONValue.parse(utf8: raw) }
            } catch {
                throw SessionDataError(
                    store: "redis", location: "\(Printable.name(hashKey)) field \"\(Printable.name(field))\"", message: "value is not JSON (\(error))")
            }
            members.append((key: field, value: layout.isCommunity ? CommunityForm.canonicalValue(parsed) : parsed))
        }
        return JSONObject(members)
    }

    static func parseObject(_ bytes: [UInt8], storageKey: String) throws -> JSONObject {
        let value: JSONValue
        do {
            value = try bytes.withUnsafeBytes { raw throws(JSONError) in try JSONValue.parse(utf8: raw) }
        } catch {
            throw bad(storageKey, "not JSON (\(error))")
        }
        guard case .object(let object) = value else { throw bad(storageKey, "not a JSON object") }
        return object
    }

    static func key(of object: JSONObject, storageKey: String) throws -> SessionKey {
        guard let id = object["id"]?.stringValue, let app = object["app_name"]?.stringValue,
            let user = object["user_id"]?.stringValue
        else { throw bad(storageKey, "\"id\", \"app_name\" or \"user_id\" is missing or not a string") }
        return SessionKey(appName: app, userId: user, sessionId: id)
    }

    static func bad(_ storageKey: String, _ message: String) -> SessionDataError {
        SessionDataError(store: "redis", location: Printable.name(storageKey), message: message)
    }

    // MARK: - google-adk-redis ≤ 0.1.4 user strings

    /// One member of a user string: the session id it is stored under and its JSON.
    struct UserStringMember {
        var id: String
        var object: JSONObject
    }

    /// The members of an `adk-redis-014` user string (`json.dumps({id: session, …})`), in order.
    static func userStringMembers(_ bytes: [UInt8], storageKey: String) throws -> [UserStringMember] {
        try parseObject(bytes, storageKey: storageKey).members.map { member in
            guard case .object(let object) = member.value else {
                throw bad(storageKey, "the member \"\(Printable.name(member.key))\" is not a session object")
            }
            return UserStringMember(id: member.key, object: object)
        }
    }

    /// A user string member as a session; its id, app and user must be those of the member name and the key.
    static func decodeUserStringMember(_ member: UserStringMember, storageKey: String, layout: RedisLayout) throws -> SessionBlob {
        let location = "\(storageKey) session \"\(member.id)\""
        let blob = try decode(object: member.object, storageKey: location, layout: layout)
        guard blob.key.sessionId.isExactly(member.id), layout.holds(storageKey: storageKey, key: blob.key) else {
            throw bad(location, "the session is \(blob.key), which does not belong under this key and member name")
        }
        return blob
    }

    /// The user string with `sessions` put in (replacing members of the same id, others kept as
    /// they are) and the members named in `removing` taken out, as `json.dumps` writes it.
    static func mergedUserString(_ current: [UInt8]?, storageKey: String, sessions: [Session], removing: Set<String> = []) throws -> [UInt8] {
        var members: [(key: String, value: JSONValue)] = []
        if let current {
            for member in try userStringMembers(current, storageKey: storageKey) where !removing.containsExactly(member.id) {
                members.append((member.id, .object(member.object)))
            }
        }
        for session in sessions { members.append((session.key.sessionId, encodeObject(session, layout: .adkRedis014))) }
        // A repeated id keeps its first place and takes the last value, as a Python dict does.
        return JSONValue.object(JSONObject(members)).serializedBytes(.python)
    }
}
