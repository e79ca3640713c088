import DriverCore
import Foundation
import SessionModel
import Testing

@testable import MySQLDriver

/// The test server from `SESSMIGRATE_MYSQL_URL` (`mysql://user:password@host:port/database`).
enum MySQLTestServer {
    static let url = ProcessInfo.processInfo.environment["SESSMIGRATE_MYSQL_URL"]

    /// The URL's parts; the path names the database the admin connection uses.
    static var base: MySQLStoreConfig? {
        guard let url, url.hasPrefix("mysql://") else { return nil }
        var rest = Substring(url.dropFirst("mysql://".count))
        var database = "mysql"
        if let slash = rest.lastIndex(of: "/") {
            database = String(rest[rest.index(after: slash)...])
            rest = rest[..<slash]
        }
        var user = "root", password = ""
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = String(credentials[..<colon])
                password = String(credentials[credentials.index(after: colon)...]).removingPercentEncoding ?? ""
            } else {
                user = String(credentials)
            }
        }
        var host = String(rest), port = 3306
        if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            port = Int(rest[rest.index(after: colon)...]) ?? 3306
        }
        return MySQLStoreConfig(host: host, port: port, user: user, password: password, database: database)
    }

    static func connect(_ config: MySQLStoreConfig) throws -> MySQLConnection {
        try MySQLConnection.open(
            host: config.host, port: config.port, user: config.user, password: config.password,
            database: config.database, unixSocket: config.unixSocket)
    }

    /// Creates the database `smt_mysql_<name>_<pid>`, runs `body` with its config and a connection
    /// to it, then drops it (also when `body` throws).
    static func withDatabase<R>(
        _ name: String, collation: String? = nil, _ body: (MySQLStoreConfig, MySQLConnection) throws -> R
    ) throws -> R {
        let base = try #require(base)
        let database = "smt_mysql_\(name)_\(getpid())"
        let admin = try connect(base)
        defer { admin.close() }
        try admin.execute("DROP DATABASE IF EXISTS `\(database)`")
        let charset = collation.map { " CHARACTER SET utf8mb4 COLLATE \($0)" } ?? ""
        try admin.execute("CREATE DATABASE `\(database)`\(charset)")
        defer { _ = try? admin.execute("DROP DATABASE IF EXISTS `\(database)`") }
        var config = base
        config.database = database
        let connection = try connect(config)
        defer { connection.close() }
        return try body(config, connection)
    }

    /// Opens a store, runs `body`, closes it.
    static func withStore<R>(
        _ config: MySQLStoreConfig, forWriting: Bool = true, _ body: (MySQLSessionStore) throws -> R
    ) throws -> R {
        let store = try MySQLSessionStore.open(config, forWriting: forWriting)
        defer { try? store.close() }
        return try body(store)
    }

    /// Every row of ADK's tables as text, in primary-key order, for byte-for-byte comparisons.
    static func dump(_ connection: MySQLConnection) throws -> [String: [[String?]]] {
        let tables = [
            "adk_internal_metadata": "`key`",
            "app_states": "app_name",
            "user_states": "app_name, user_id",
            "sessions": "app_name, user_id, id",
            "events": "app_name, user_id, session_id, id",
        ]
        var dump: [String: [[String?]]] = [:]
        for (table, order) in tables {
            dump[table] = try connection.query("SELECT * FROM \(table) ORDER BY \(order)", buffered: true).collect()
        }
        return dump
    }

    static func all(_ store: MySQLSessionStore, batchSize: Int = 200) throws -> [Session] {
        let cursor = try store.scanSessions(SessionQuery(batchSize: batchSize))
        var sessions: [Session] = []
        while let session = try cursor.next() { sessions.append(session) }
        return sessions
    }
}

/// Test data builders.
enum Fixture {
    static func object(_ json: String) throws -> JSONObject {
        try JSONValue.parseObject(json)
    }

    /// An event as ADK 2.13 stores it in `event_data`.
    static func event(_ id: String, at timestamp: Double, text: String = "hi", delta: String = "{}") throws -> Event {
        let json = """
            {"content": {"parts": [{"text": \(JSONValue.string(text).serialized(.python))}], "role": "user"}, \
            "invocation_id": "inv-\(id)", "author": "user", "actions": {"state_delta": \(delta), \
            "artifact_delta": {}, "requested_auth_configs": {}, "requested_tool_confirmations": {}}, \
            "id": \(JSONValue.string(id).serialized(.python)), "timestamp": \(JSONNumber(timestamp).literal)}
            """
        return try Event(data: try object(json))
    }

    static func session(
        _ app: String, _ user: String, _ id: String, state: String = "{}", app appState: String = "{}",
        user userState: String = "{}", events: [Event] = [], created: Double? = 1_700_000_000.25,
        updated: Double? = nil
    ) throws -> Session {
        Session(
            key: SessionKey(appName: app, userId: user, sessionId: id), state: try object(state),
            appState: try object(appState), userState: try object(userState), events: events,
            createTime: created, lastUpdateTime: updated ?? events.last?.timestamp ?? 1_700_000_000.5)
    }
}
