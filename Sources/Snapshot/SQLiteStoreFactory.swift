import DriverCore
import SQLiteDriver

/// Opens a SQLite file with the store that matches the layout found in it.
public enum SQLiteStoreFactory {
    /// The layout a new or empty file receives when opened for writing.
    public enum NewFileLayout: Sendable, Hashable {
        /// ADK's SqliteSessionService layout (the default, and the snapshot format).
        case sqliteSessionService
        /// DatabaseSessionService schema v1.
        case databaseV1
    }

    /// Opens `path`, detects its layout and returns the matching store.
    ///
    /// An existing ADK layout always wins over `newFileLayout`, which only decides what a new or
    /// empty file becomes. Reading never creates a file: a missing file is
    /// ``DriverErrorCode/notFound``, and an empty one reads as no sessions.
    ///
    /// - Throws: ``DriverErrorCode/notFound``, ``DriverErrorCode/corrupt`` for a file that is not
    ///   SQLite, ``DriverErrorCode/unsupported`` for a schema this tool does not know.
    public static func open(path: String, forWriting: Bool, newFileLayout: NewFileLayout = .sqliteSessionService) throws -> any SessionStore {
        let connection = try SQLiteConnection.open(path: path, mode: forWriting ? .create : .readOnly)
        do {
            switch try SQLiteLayout.detect(connection) {
            case .sqliteSessionService:
                return try SqliteSessionServiceStore(connection: connection, detected: .sqliteSessionService, forWriting: forWriting)
            case let detected where detected == .databaseV1 || detected == .databaseV0:
                return try SQLiteDatabaseStore(connection: connection, detected: detected, forWriting: forWriting)
            default:
                switch newFileLayout {
                case .sqliteSessionService:
                    return try SqliteSessionServiceStore(connection: connection, detected: .empty, forWriting: forWriting)
                case .databaseV1:
                    return try SQLiteDatabaseStore(connection: connection, detected: .empty, forWriting: forWriting)
                }
            }
        } catch {
            try? connection.close()  // The detection error is the one to report.
            throw error
        }
    }
}
