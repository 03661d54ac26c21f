import GRDB

/// Job state in an SQLite database (`<state-dir>/jobs.sqlite`, WAL mode), so that jobs and tags
/// survive a restart. Every write is one transaction. The server reads it once at start
/// (``loadAll()``) and then writes through: its own memory answers the API.
///
/// GRDB runs each access on its own serial queue (writes) or reader pool (reads), off the
/// server's event loops; a call costs one short transaction.
public final class JobStore: Sendable {
    private let pool: DatabasePool

    /// Opens (creating if needed) the database at `path`.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)  // WAL
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE job (
                        seq INTEGER PRIMARY KEY,
                        arn TEXT NOT NULL UNIQUE,
                        name TEXT NOT NULL,
                        predictor_name TEXT NOT NULL,
                        predictor_arn TEXT NOT NULL,
                        destination_path TEXT NOT NULL,
                        role_arn TEXT NOT NULL,
                        kms_key_arn TEXT,
                        format TEXT NOT NULL,
                        status TEXT NOT NULL,
                        message TEXT,
                        creation_time REAL NOT NULL,
                        last_modification_time REAL NOT NULL,
                        export_epoch_seconds INTEGER
                    );
                    CREATE TABLE tag (
                        resource_arn TEXT NOT NULL,
                        key TEXT NOT NULL,
                        value TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        PRIMARY KEY (resource_arn, key)
                    );
                    """
            )
        }
        try migrator.migrate(pool)
    }

    /// The journal mode in force (`wal`), for tests.
    public func journalMode() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// Every job in creation order, and every resource's tags in the order they were set.
    public func loadAll() throws -> (jobs: [JobRecord], tags: [String: [(key: String, value: String)]]) {
        try pool.read { db in
            let jobs = try Row.fetchAll(db, sql: "SELECT * FROM job ORDER BY seq").map(Self.record)
            var tags: [String: [(key: String, value: String)]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT resource_arn, key, value FROM tag ORDER BY seq") {
                tags[row["resource_arn"], default: []].append((key: row["key"], value: row["value"]))
            }
            return (jobs, tags)
        }
    }

    /// Inserts a new job (with its own sequence number) and its tags in one transaction.
    public func insert(_ job: JobRecord, tags: [(key: String, value: String)]) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO job (seq, arn, name, predictor_name, predictor_arn, destination_path, role_arn,
                        kms_key_arn, format, status, message, creation_time, last_modification_time,
                        export_epoch_seconds)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    job.sequence, job.arn, job.name, job.predictorName, job.predictorArn, job.destinationPath,
                    job.roleArn, job.kmsKeyArn, job.format, job.status.rawValue, job.message, job.creationTime,
                    job.lastModificationTime, job.exportEpochSeconds,
                ]
            )
            try Self.replaceTags(db, arn: job.arn, tags: tags)
        }
    }

    /// Writes a job's status, message, modification time and export timestamp.
    public func update(_ job: JobRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE job SET status = ?, message = ?, last_modification_time = ?, export_epoch_seconds = ?
                    WHERE arn = ?
                    """,
                arguments: [
                    job.status.rawValue, job.message, job.lastModificationTime, job.exportEpochSeconds, job.arn,
                ]
            )
        }
    }

    /// Removes a job and its tags.
    public func delete(arn: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM job WHERE arn = ?", arguments: [arn])
            try db.execute(sql: "DELETE FROM tag WHERE resource_arn = ?", arguments: [arn])
        }
    }

    /// Replaces a resource's tags with `tags` (in this order).
    public func setTags(arn: String, tags: [(key: String, value: String)]) async throws {
        try await pool.write { db in try Self.replaceTags(db, arn: arn, tags: tags) }
    }

    private static func replaceTags(_ db: Database, arn: String, tags: [(key: String, value: String)]) throws {
        try db.execute(sql: "DELETE FROM tag WHERE resource_arn = ?", arguments: [arn])
        for (index, tag) in tags.enumerated() {
            try db.execute(
                sql: "INSERT INTO tag (resource_arn, key, value, seq) VALUES (?, ?, ?, ?)",
                arguments: [arn, tag.key, tag.value, index]
            )
        }
    }

    private static func record(_ row: Row) -> JobRecord {
        JobRecord(
            arn: row["arn"],
            name: row["name"],
            predictorName: row["predictor_name"],
            predictorArn: row["predictor_arn"],
            destinationPath: row["destination_path"],
            roleArn: row["role_arn"],
            kmsKeyArn: row["kms_key_arn"],
            format: row["format"],
            status: JobStatus(rawValue: row["status"]) ?? .createFailed,
            message: row["message"],
            creationTime: row["creation_time"],
            lastModificationTime: row["last_modification_time"],
            exportEpochSeconds: row["export_epoch_seconds"],
            sequence: row["seq"]
        )
    }
}
