import DriverCore

/// `copy SRC DST`: opens both stores, runs the ``CopyEngine``, closes both.
public struct CopyJob {
    public var source: StoreAddress
    public var target: StoreAddress
    public var options: CopyOptions
    public var opener = StoreOpener()

    public init(source: StoreAddress, target: StoreAddress, options: CopyOptions) {
        self.source = source
        self.target = target
        self.options = options
    }

    /// Runs the copy and returns its summary.
    public func run(progress: (CopySummary) -> Void = { _ in }) throws -> CopySummary {
        guard source != target else { throw AddressError("source and target are the same store (\(source))") }
        let from = try opener.open(source, forWriting: false)
        defer { try? from.close() }
        let to = try opener.open(target, forWriting: true)
        defer { try? to.close() }
        do {
            return try CopyEngine(options: options).run(from: from, to: to, progress: progress)
        } catch let error as any DriverError {
            throw CopyError(source: source.description, target: target.description, underlying: error)
        }
    }
}

/// A failure during a copy, naming both stores (redacted).
public struct CopyError: Error, CustomStringConvertible {
    public var source: String
    public var target: String
    public var underlying: any DriverError

    public var description: String { "copy \(source) -> \(target) failed: \(underlying.description)" }
}
