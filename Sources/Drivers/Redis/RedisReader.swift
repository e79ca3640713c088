internal import CHiredis
import DriverCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// hiredis' RESP2 reply parser (`redisReader`), fed the bytes the transport receives: the same
/// proven parser for plaintext and TLS. Owns the reader and frees it in `deinit`.
///
/// Related hiredis documentation: <https://github.com/redis/hiredis/tree/v0.14.1#reply-parsing-api>
final class RedisReader {
    private let reader: UnsafeMutablePointer<redisReader>

    init() throws {
        guard let reader = redisReaderCreate() else {
            throw RedisError(code: .io, hiredisError: REDIS_ERR_OOM, message: "hiredis could not allocate a reply reader")
        }
        self.reader = reader
    }

    deinit { redisReaderFree(reader) }

    /// Appends received bytes (copied into the reader's buffer).
    func feed(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        guard redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count) == REDIS_OK else {
            throw error(context: "read reply")
        }
    }

    /// The next complete reply, or `nil` until more bytes arrive; a protocol error throws (the
    /// stream cannot be resynchronised).
    func next(context: String) throws -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw error(context: context) }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return RedisReply(copying: raw.assumingMemoryBound(to: redisReply.self))
    }

    /// True when bytes of an unfinished reply are buffered.
    var hasPendingBytes: Bool { reader.pointee.len > reader.pointee.pos }

    private func error(context: String) -> RedisError {
        let message = withUnsafeBytes(of: &reader.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        // Not transient, as before: a server that speaks something else will not start speaking RESP.
        return RedisError(
            code: .query, hiredisError: reader.pointee.err,
            message: message.isEmpty ? "protocol error in a reply" : "protocol error: \(message)", context: context)
    }
}

@available(*, unavailable)
extension RedisReader: Sendable {}

/// hiredis' command formatter (`redisFormatCommandArgv`): RESP2 multi-bulk requests.
enum RedisCommandFormat {
    /// Appends the RESP encoding of one command (non-empty `arguments`) to `buffer`.
    static func append(_ arguments: [[UInt8]], to buffer: inout [UInt8]) throws {
        let formatted: Int32? = RedisArgv.with(arguments) { argc, argv, lengths in
            var target: UnsafeMutablePointer<CChar>?
            let length = redisFormatCommandArgv(&target, argc, argv, lengths)
            defer { if let target { redisFreeCommand(target) } }
            if length > 0, let target {
                buffer.append(contentsOf: UnsafeRawBufferPointer(start: target, count: Int(length)))
            }
            return length
        }
        guard let formatted, formatted > 0 else {
            throw RedisError(code: .query, message: "cannot format the command", context: RedisConnection.commandName(arguments))
        }
    }
}
