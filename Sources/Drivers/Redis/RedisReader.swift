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

/// RESP2 multi-bulk requests, as hiredis' `redisFormatCommandArgv` writes them (`*<count>\r\n`, then
/// `$<length>\r\n<bytes>\r\n` per argument), written straight into the request: hiredis formats
/// the lengths with `sprintf` into a buffer of its own, a tenth of a time-bounded scan's client time.
enum RedisCommandFormat {
    /// Appends the RESP encoding of one command (non-empty `arguments`) to `buffer`.
    static func append(_ arguments: [[UInt8]], to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "*"))
        appendLine(arguments.count, to: &buffer)
        for argument in arguments {
            buffer.append(UInt8(ascii: "$"))
            appendLine(argument.count, to: &buffer)
            buffer.append(contentsOf: argument)
            buffer.append(UInt8(ascii: "\r"))
            buffer.append(UInt8(ascii: "\n"))
        }
    }

    /// `value` (not negative) in decimal, then CRLF.
    private static func appendLine(_ value: Int, to buffer: inout [UInt8]) {
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            buffer.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
        buffer.append(UInt8(ascii: "\r"))
        buffer.append(UInt8(ascii: "\n"))
    }
}
