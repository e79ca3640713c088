/// Timestamp conversions that match Python's `datetime` exactly, so values written here read back
/// in ADK to the microsecond.
///
/// DatabaseSessionService stores naive UTC `DATETIME(6)` text (`2023-11-14 22:13:21.500000`);
/// ADK ≥ 2.7 writes it with `datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)` and reads it
/// back with `.replace(tzinfo=UTC).timestamp()`.
public enum PythonTime {
    /// Microseconds since the epoch as Python's `datetime.fromtimestamp` rounds them
    /// (`round(frac * 1e6)`, half to even, after `math.modf`).
    ///
    /// Times a stored row or blob may hold but `Int64` microseconds cannot (NaN, infinities,
    /// |seconds| ≥ 9.2e12, about 290,000 years; Python's `datetime` refuses them too) saturate to
    /// `Int64.min`/`Int64.max` instead of trapping: they digest alike, and a database refuses the
    /// DATETIME text made of them.
    public static func microseconds(fromEpoch seconds: Double) -> Int64 {
        guard seconds.magnitude < 9.2e12 else { return seconds.isNaN || seconds < 0 ? .min : .max }
        var whole = seconds.rounded(.towardZero)
        let frac = seconds - whole
        var micros = (frac * 1e6).rounded(.toNearestOrEven)
        if micros >= 1_000_000 {
            whole += 1
            micros -= 1_000_000
        } else if micros < 0 {
            whole -= 1
            micros += 1_000_000
        }
        return Int64(whole) * 1_000_000 + Int64(micros)
    }

    /// `timedelta / timedelta(seconds=1)`: the correctly rounded quotient of microseconds by 10⁶.
    public static func epoch(fromMicroseconds micros: Int64) -> Double {
        Double(micros) / 1e6
    }

    /// Naive UTC text `YYYY-MM-DD HH:MM:SS.ffffff` for an epoch time.
    public static func naiveUTC(fromEpoch seconds: Double) -> String {
        naiveUTC(fromMicroseconds: microseconds(fromEpoch: seconds))
    }

    /// Naive UTC text `YYYY-MM-DD HH:MM:SS.ffffff` for microseconds since the epoch.
    public static func naiveUTC(fromMicroseconds micros: Int64) -> String {
        let (days, dayMicros) = floorDivide(micros, 86_400_000_000)
        let (year, month, day) = civil(fromDays: days)
        let secondOfDay = dayMicros / 1_000_000
        let fraction = dayMicros % 1_000_000
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + " "
            + pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
            + "." + pad(fraction, 6)
    }

    /// Parses naive UTC text (`YYYY-MM-DD HH:MM:SS[.f…]`, `T` separator accepted) into
    /// microseconds since the epoch. Fractions longer than 6 digits are refused, and so are dates
    /// and times that do not exist: MySQL's zero date `0000-00-00 00:00:00` (which a non-strict
    /// `sql_mode` stores for an invalid value), a month or day of 0, February 30, hour 24.
    public static func microseconds(fromNaiveUTC text: String) throws(SessionModelError) -> Int64 {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) throws(SessionModelError) -> Int64 {
            guard range.upperBound <= bytes.count else { throw .invalidTimestamp("'\(text)' is too short") }
            var value: Int64 = 0
            for index in range {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { throw .invalidTimestamp("'\(text)' is not YYYY-MM-DD HH:MM:SS[.ffffff]") }
                value = value * 10 + Int64(digit)
            }
            return value
        }
        guard bytes.count >= 19, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: " ") || bytes[10] == UInt8(ascii: "T"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":")
        else { throw .invalidTimestamp("'\(text)' is not YYYY-MM-DD HH:MM:SS[.ffffff]") }
        let (year, month, day) = (try number(0..<4), try number(5..<7), try number(8..<10))
        let (hour, minute, second) = (try number(11..<13), try number(14..<16), try number(17..<19))
        if year == 0, month == 0, day == 0 {
            throw .invalidTimestamp("'\(text)' is MySQL's zero date (stored under a non-strict sql_mode), not a time")
        }
        guard (1...12).contains(month), (1...daysInMonth(month, of: year)).contains(day) else {
            throw .invalidTimestamp("'\(text)' is not a valid date")
        }
        guard hour < 24, minute < 60, second < 60 else { throw .invalidTimestamp("'\(text)' is not a valid time of day") }
        var micros = days(fromCivil: year, month, day) * 86_400_000_000
        micros += (hour * 3600 + minute * 60 + second) * 1_000_000
        if bytes.count > 19 {
            let digits = bytes.count - 20
            guard bytes[19] == UInt8(ascii: "."), (1...6).contains(digits) else {
                throw .invalidTimestamp("'\(text)' has a bad fractional part")
            }
            var fraction = try number(20..<bytes.count)
            for _ in digits..<6 { fraction *= 10 }
            micros += fraction
        }
        return micros
    }

    /// Parses naive UTC text into epoch seconds (see ``microseconds(fromNaiveUTC:)``).
    public static func epoch(fromNaiveUTC text: String) throws(SessionModelError) -> Double {
        epoch(fromMicroseconds: try microseconds(fromNaiveUTC: text))
    }

    /// Days in `month` (1–12) of the proleptic Gregorian `year`.
    static func daysInMonth(_ month: Int64, of year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Howard Hinnant's `civil_from_days`.
    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Howard Hinnant's `days_from_civil`.
    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a / b, r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
