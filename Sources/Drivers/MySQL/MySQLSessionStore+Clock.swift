import DriverCore

extension MySQLSessionStore {
    /// `UNIX_TIMESTAMP(NOW(6))`: the server's clock in epoch seconds, whatever its time zone.
    public func serverTime() throws -> Double? {
        let rows = try connection.query("SELECT UNIX_TIMESTAMP(NOW(6))", buffered: true).collect()
        return rows.first?.first.flatMap { $0 }.flatMap(Double.init)
    }
}
