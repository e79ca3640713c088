import Foundation

/// Wall-clock time as epoch seconds, the one place the engine reads the clock.
public enum Clock {
    /// Seconds since the Unix epoch.
    @Sendable public static func epochSeconds() -> Double { Date().timeIntervalSince1970 }
}
