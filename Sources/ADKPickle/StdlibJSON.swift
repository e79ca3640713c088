/// JSON text of the stdlib values ADK's allowlist admits into `state_delta`, as pydantic's json
/// mode writes them: `datetime` `2024-01-02T03:04:05.000006`, `...Z`, `...+05:30`; `date`
/// `1999-12-31`; `time` `03:04:05.000006`; `Decimal` its `str`; `UUID` `8-4-4-4-12` hex.
/// Other instances (timedelta, complex, paths) are refused: their JSON forms are not verified.
enum StdlibJSON {
    static func text(_ className: String, args: [PickleValue], state: PickleValue?, path: String, view: PydanticView) throws(PickleError) -> String {
        let unsupported = view.failure(path, "cannot convert a \(className) to JSON")
        switch (className, args.first) {
        case ("datetime.datetime", .bytes(let b)?) where b.count == 10:
            let zone = try args.count > 1 ? offset(args[1], view.failure(path, "unsupported tzinfo")) : ""
            return date(b) + "T" + time(Array(b[4...])) + zone
        case ("datetime.date", .bytes(let b)?) where b.count == 4:
            return date(b)
        case ("datetime.time", .bytes(let b)?) where b.count == 6:
            let zone = try args.count > 1 ? offset(args[1], view.failure(path, "unsupported tzinfo")) : ""
            return time(b) + zone
        case ("decimal.Decimal", .string(let text)?):
            return text
        case ("uuid.UUID", nil):
            guard case .dict(let entries)? = state, let value = entries.first(where: { $0.key == .string("int") })?.value,
                let hex = uuidHex(value)
            else { throw unsupported }
            return hex
        default:
            throw unsupported
        }
    }

    /// `YYYY-MM-DD` from the first 4 bytes of CPython's pickled date state.
    private static func date(_ b: [UInt8]) -> String {
        pad(Int(b[0]) << 8 | Int(b[1]), 4) + "-" + pad(Int(b[2] & 0x7F), 2) + "-" + pad(Int(b[3]), 2)
    }

    /// `HH:MM:SS[.ffffff]` from 6 bytes (hour carries the `fold` bit).
    private static func time(_ b: [UInt8]) -> String {
        let micro = Int(b[3]) << 16 | Int(b[4]) << 8 | Int(b[5])
        let base = pad(Int(b[0] & 0x7F), 2) + ":" + pad(Int(b[1]), 2) + ":" + pad(Int(b[2]), 2)
        return micro == 0 ? base : base + "." + pad(micro, 6)
    }

    /// `Z` or `±HH:MM[:SS]` of a pickled `datetime.timezone(timedelta(...))`.
    private static func offset(_ zone: PickleValue, _ error: PickleError) throws(PickleError) -> String {
        guard case .object("datetime.timezone", let zoneArgs, nil) = zone,
            case .object("datetime.timedelta", let delta, nil)? = zoneArgs.first,
            delta.count == 3, case .int(let days) = delta[0], case .int(let seconds) = delta[1], case .int(0) = delta[2],
            (-1...0).contains(days), (0..<86_400).contains(seconds)
        else { throw error }
        let total = days * 86_400 + seconds
        if total == 0 { return "Z" }
        let magnitude = abs(total)
        let text = (total < 0 ? "-" : "+") + pad(magnitude / 3600, 2) + ":" + pad(magnitude / 60 % 60, 2)
        return magnitude % 60 == 0 ? text : text + ":" + pad(magnitude % 60, 2)
    }

    private static func uuidHex(_ value: PickleValue) -> String? {
        var bytes: [UInt8]
        switch value {
        case .int(let number) where number >= 0: bytes = PickleInteger.bytes(of: number)
        case .bigInt(let big) where (big.last ?? 0) & 0x80 == 0: bytes = big
        default: return nil
        }
        while bytes.count > 16, bytes.last == 0 { bytes.removeLast() }
        guard bytes.count <= 16 else { return nil }
        bytes += [UInt8](repeating: 0, count: 16 - bytes.count)
        let hex = bytes.reversed().map { pad(Int($0), 2, radix: 16) }.joined()
        let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
            String(hex.dropFirst(range.lowerBound).prefix(range.count))
        }
        return parts.joined(separator: "-")
    }

    private static func pad(_ value: Int, _ width: Int, radix: Int = 10) -> String {
        let digits = String(value, radix: radix)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
