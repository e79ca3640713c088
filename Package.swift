// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "sessmigrate",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "sessmigrate", targets: ["sessmigrate"]),
        .library(name: "SessMigrate", targets: ["SessMigrate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // No pkgConfig for hiredis: Debian's hiredis.pc carries -D_FILE_OFFSET_BITS=64, which SwiftPM refuses
        // with a warning on every build. The shim includes <hiredis/hiredis.h> from the standard include path
        // and the module map links libhiredis, so pkg-config adds nothing (hiredis structs have no off_t).
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CMariaDB", pkgConfig: "libmariadb", providers: [.apt(["libmariadb-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // The git commit the build was given (-Xcc -DSESSMIGRATE_COMMIT="…"), or "unknown". See docs/DESIGN.md.
        .target(name: "CBuildInfo"),
        // Debian's OpenSSL 3 for the Redis TLS transport (hiredis 0.14 has none): libssl-dev to build, libssl3 to run.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // The lossless ADK session model and its JSON codec. No I/O (OpenSSL only for SHA-256).
        .target(name: "SessionModel", dependencies: ["COpenSSL"]),
        // A restricted pickle VM for ADK v0 `events.actions` (pickled EventActions): decode to JSON, encode back.
        .target(name: "ADKPickle", dependencies: ["SessionModel"]),
        // Common vocabulary of the drivers: the SessionStore protocol, errors, DatabaseSessionService v1 rows.
        .target(name: "DriverCore", dependencies: ["SessionModel", "ADKPickle"], path: "Sources/Drivers/Core"),
        // One target per backend, each the only importer of its C library.
        .target(name: "RedisDriver", dependencies: ["DriverCore", "SessionModel", "CHiredis", "COpenSSL"], path: "Sources/Drivers/Redis"),
        .target(name: "MySQLDriver", dependencies: ["DriverCore", "SessionModel", "CMariaDB"], path: "Sources/Drivers/MySQL"),
        .target(name: "SQLiteDriver", dependencies: ["DriverCore", "SessionModel", "CSQLite"], path: "Sources/Drivers/SQLite"),
        // Snapshot files: the manifest, the checked reader and the crash-safe writer (the sessions in them are
        // SQLiteDriver's SqliteSessionService layout).
        .target(name: "Snapshot", dependencies: ["DriverCore", "SessionModel", "SQLiteDriver"]),
        // Orchestration the commands call: addresses, store factory, copy, inspect. Never prints.
        .target(name: "SessMigrate", dependencies: ["CBuildInfo", "SessionModel", "DriverCore", "RedisDriver", "MySQLDriver", "SQLiteDriver", "Snapshot"]),
        // The append-only run journal (a SQLite file) and the pure state machine that decides what runs next.
        .target(name: "Journal", dependencies: ["SessionModel", "DriverCore", "SQLiteDriver"]),
        // Runbooks: readable YAML files of steps, and the runner that executes them against a journal.
        .target(name: "Runbook", dependencies: ["SessMigrate", "Journal", "SessionModel", "DriverCore", "Snapshot", .product(name: "Yams", package: "Yams")]),
        // Test helpers shared by several test targets (the real ADK, resume checks). Never linked into sessmigrate.
        .target(name: "SessMigrateTestSupport", dependencies: ["DriverCore", "SessionModel"]),
        // The command-line options shared by several commands, in a library so tests parse them in process.
        .target(name: "CommandOptions", dependencies: ["SessMigrate", "DriverCore", "SessionModel", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // The CLI links jemalloc (libjemalloc-dev to build, libjemalloc2 to run) in place of glibc's malloc: a
        // verify allocates and frees a JSON tree per event, and glibc's fastbin consolidation and free-list walks
        // took about a fifth of its CPU (docs/DESIGN.md, "The model and ADK's formats").
        .executableTarget(
            name: "sessmigrate",
            dependencies: ["SessMigrate", "CommandOptions", "DriverCore", "Snapshot", "SessionModel", "Journal", "Runbook", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            linkerSettings: [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]
        ),
        .testTarget(name: "SessionModelTests", dependencies: ["SessionModel"]),
        .testTarget(name: "ADKPickleTests", dependencies: ["ADKPickle", "SessionModel"], exclude: ["Fixtures"]),
        .testTarget(name: "RedisDriverTests", dependencies: ["SessMigrateTestSupport", "RedisDriver", "DriverCore", "SessionModel"]),
        .testTarget(name: "MySQLDriverTests", dependencies: ["SessMigrateTestSupport", "MySQLDriver", "DriverCore", "SessionModel"]),
        .testTarget(name: "SQLiteDriverTests", dependencies: ["SessMigrateTestSupport", "SQLiteDriver", "Snapshot", "DriverCore", "SessionModel"]),
        .testTarget(name: "JournalTests", dependencies: ["Journal", "SessionModel", "DriverCore"]),
        .testTarget(name: "RunbookTests", dependencies: ["Runbook", "Journal", "SessMigrate", "CommandOptions", "SessionModel", "DriverCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "SessMigrateTests", dependencies: ["SessMigrateTestSupport", "SessMigrate", "Snapshot", "SQLiteDriver", "MySQLDriver", "RedisDriver", "DriverCore", "SessionModel"]),
    ]
)
