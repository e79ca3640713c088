import DriverCore
import SessionModel

extension SessionBlobCodec {
    /// ``decode(_:storageKey:layout:)`` with the events carried as their text in `style`
    /// (``SessionModel/Event/init(transcoding:from:style:)``): the blob's members are found by a skim
    /// (``SessionModel/JSONSkim``), the small ones parsed and each event transcoded from its slice,
    /// so the events never become one tree. Where the skim or any event declines, the whole blob is
    /// decoded as a tree, so a bad blob is refused with the same words either way.
    static func decode(_ bytes: [UInt8], storageKey: String, layout: RedisLayout, eventStyle: JSONStyle?) throws -> SessionBlob {
        if let eventStyle, let blob = try decodeCarryingText(bytes, storageKey: storageKey, layout: layout, style: eventStyle) { return blob }
        return try decode(bytes, storageKey: storageKey, layout: layout)
    }

    private static func decodeCarryingText(_ bytes: [UInt8], storageKey: String, layout: RedisLayout, style: JSONStyle) throws -> SessionBlob? {
        let parts = bytes.withUnsafeBytes { raw -> (JSONObject, [Event])? in
            guard let (members, split) = JSONSkim.members(raw, splitting: "events") else { return nil }
            var object: [(key: String, value: JSONValue)] = []
            var events: [Event]?
            for (index, member) in members.enumerated() {
                let key = String(decoding: UnsafeRawBufferPointer(rebasing: raw[member.key]), as: UTF8.self)
                // A repeated member: the tree keeps the last, which the skim does not decide.
                guard !members[..<index].contains(where: { raw[$0.key].elementsEqual(raw[member.key]) }) else { return nil }
                if key == "events" {
                    // The first `events` member (a repeated one declined above); not an array: the tree decides.
                    guard let slices = split else { return nil }
                    var carried: [Event] = []
                    carried.reserveCapacity(slices.count)
                    let transform: EventTransform = layout.blobEncoding == .community ? .toCanonical : .none
                    for slice in slices {
                        guard let event = Event(transcoding: UnsafeRawBufferPointer(rebasing: raw[slice]), from: transform, style: style) else {
                            return nil
                        }
                        carried.append(event)
                    }
                    events = carried
                    object.append((key, .array([])))
                } else {
                    let value = Result { () throws(JSONError) in try JSONValue.parse(utf8: UnsafeRawBufferPointer(rebasing: raw[member.value])) }
                    guard case .success(let parsed) = value else { return nil }
                    object.append((key, parsed))
                }
            }
            return events.map { (JSONObject(object), $0) }
        }
        guard let (object, events) = parts else { return nil }
        // The members other than the events, checked as the tree path checks them.
        var blob = try decode(object: object, storageKey: storageKey, layout: layout)
        var ids = Set<ExactString>()
        blob.events.reserveCapacity(events.count)
        for (index, event) in events.enumerated() {
            try StoredTime.check(event.timestamp, field: "event #\(index) timestamp", store: "redis", location: Printable.name(storageKey))
            try checkOrder(event, index: index, previous: blob.events.last, ids: &ids, storageKey: storageKey)
            blob.events.append(event)
        }
        return blob
    }
}
