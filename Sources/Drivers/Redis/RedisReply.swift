internal import CHiredis

/// One RESP2 reply, copied out of hiredis as soon as it arrives (the C reply is freed at once).
///
/// Related hiredis documentation: <https://github.com/redis/hiredis/tree/v0.14.1#using-replies>
public enum RedisReply: Sendable, Hashable {
    /// A bulk string (binary safe).
    case string([UInt8])
    /// An integer reply.
    case integer(Int64)
    /// A multi-bulk reply.
    case array([RedisReply])
    /// A nil bulk string or nil multi-bulk.
    case null
    /// A status reply such as `OK` or `QUEUED`.
    case status(String)
    /// An error reply such as `WRONGTYPE Operation against a key holding the wrong kind of value`.
    case error(String)

    /// Copies a hiredis reply tree into Swift values; the caller still frees `reply`.
    init(copying reply: UnsafeMutablePointer<redisReply>) {
        let raw = reply.pointee
        switch raw.type {
        case REDIS_REPLY_STRING:
            self = .string(Self.bytes(raw.str, raw.len))
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(raw.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(Int(raw.elements))
            for index in 0..<Int(raw.elements) {
                if let element = raw.element?[index] {
                    elements.append(RedisReply(copying: element))
                } else {
                    elements.append(.null)
                }
            }
            self = .array(elements)
        case REDIS_REPLY_STATUS:
            self = .status(String(decoding: Self.bytes(raw.str, raw.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            self = .error(String(decoding: Self.bytes(raw.str, raw.len), as: UTF8.self))
        default:
            // REDIS_REPLY_NIL, and anything a RESP2 reader cannot produce.
            self = .null
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }
}

extension RedisReply {
    /// The bytes of a bulk string, `nil` for anything else.
    public var bytes: [UInt8]? {
        if case .string(let bytes) = self { return bytes }
        return nil
    }

    /// The value of an integer reply, `nil` for anything else.
    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// A `SCAN` reply's next cursor and keys (bulk strings; anything else in the list is passed
    /// over), `nil` when the reply is not a `SCAN` reply.
    public var scanStep: (cursor: String, keys: [[UInt8]])? {
        guard let parts = elements, parts.count == 2, let next = parts[0].text, let keys = parts[1].elements else { return nil }
        return (next, keys.compactMap { $0.bytes })
    }

    /// The elements of an array reply, `nil` for anything else.
    public var elements: [RedisReply]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// A bulk string or status decoded as UTF-8 (invalid bytes replaced), `nil` for anything else.
    public var text: String? {
        switch self {
        case .string(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    /// True for `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension RedisReply {
    /// Decodes complete RESP2 replies with hiredis' reader, through the same conversion as replies
    /// read from a connection; `nil` on a protocol error. Used by tests and diagnostics.
    static func decode(resp: [UInt8]) -> [RedisReply]? {
        guard let reader = redisReaderCreate() else { return nil }
        defer { redisReaderFree(reader) }
        let fed = resp.withUnsafeBytes { raw in
            redisReaderFeed(reader, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
        }
        guard fed == REDIS_OK else { return nil }
        var replies: [RedisReply] = []
        while true {
            var raw: UnsafeMutableRawPointer?
            guard redisReaderGetReply(reader, &raw) == REDIS_OK else { return nil }
            guard let raw else { return replies }
            defer { freeReplyObject(raw) }
            replies.append(RedisReply(copying: raw.assumingMemoryBound(to: redisReply.self)))
        }
    }
}
