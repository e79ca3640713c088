import DriverCore

/// `diff A B` and `verify A B`: opens both stores read-only, runs the ``DiffEngine``, closes both.
public struct DiffJob {
    public var a: StoreAddress
    public var b: StoreAddress
    public var engine: DiffEngine
    public var opener = StoreOpener()

    public init(a: StoreAddress, b: StoreAddress, engine: DiffEngine) {
        self.a = a
        self.b = b
        self.engine = engine
    }

    /// Runs the comparison; each difference goes to `report` as it is found.
    public func run(report: (SessionDifference) -> Void) throws -> (DiffSummary, StoreLayout, StoreLayout) {
        let storeA = try opener.open(a, forWriting: false)
        defer { try? storeA.close() }
        let storeB = try opener.open(b, forWriting: false)
        defer { try? storeB.close() }
        let summary = try engine.run(storeA, storeB, report: report)
        return (summary, storeA.layout, storeB.layout)
    }
}
