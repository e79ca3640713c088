import Foundation

/// The one clock every layer reads: wall-clock time as epoch seconds, and waiting. Injected, so a
/// test can run a copy, a retry loop or a runbook on a clock it controls.
///
/// Not `Sendable`: a test's clock may record what it was asked; each thread that needs a clock
/// gets its own copy of the system clock.
public struct Clock {
    /// Seconds since the Unix epoch.
    public var now: () -> Double
    /// Waits this many seconds.
    public var sleep: (Double) -> Void

    public init(now: @escaping () -> Double, sleep: @escaping (Double) -> Void) {
        self.now = now
        self.sleep = sleep
    }

    /// The system's clock.
    public static var system: Clock { Clock(now: { Date().timeIntervalSince1970 }, sleep: { Thread.sleep(forTimeInterval: $0) }) }

    /// Seconds since the Unix epoch on the system clock.
    @Sendable public static func epochSeconds() -> Double { Date().timeIntervalSince1970 }
}
