/// The hidden name a part has while it is written, and how a later run recognises one that a
/// dead process left behind.
///
/// Form: `.<final name>.<job tag>.<pid>.<random hex>.tmp`, where the job tag is
/// `<job name>_<yyyy-MM-ddTHH-mm-ssZ>`. The job name cannot hold a `.` (JobName's rule) and the
/// timestamp holds none, so the name parses from its end.
public enum TemporaryName {
    /// The temporary name of `finalName` for the job tag `jobTag`, written by process `pid`.
    public static func make(finalName: String, jobTag: String, pid: Int32, random: UInt32) -> String {
        ".\(finalName).\(jobTag).\(pid).\(String(random, radix: 16)).tmp"
    }

    /// The process that wrote `fileName`, if `fileName` is a temporary name of a run of job
    /// `jobName` (any timestamp); `nil` for every other name, including other jobs whose name
    /// starts with `jobName`.
    public static func ownerProcess(of fileName: String, jobName: String) -> Int32? {
        guard fileName.hasPrefix("."), fileName.hasSuffix(".tmp") else { return nil }
        let fields = fileName.utf8.dropFirst().dropLast(4).split(
            separator: UInt8(ascii: "."),
            omittingEmptySubsequences: false
        )
        // final name (one or more fields), job tag, pid, random.
        guard fields.count >= 4 else { return nil }
        let random = fields[fields.count - 1]
        let pid = fields[fields.count - 2]
        let tag = fields[fields.count - 3]
        guard !random.isEmpty, random.allSatisfy(isHexDigit) else { return nil }
        guard !pid.isEmpty, pid.count <= 10, pid.allSatisfy(isDigit) else { return nil }
        // `<job>_` + a 20-character timestamp starting with a digit.
        let job = Array(jobName.utf8)
        guard tag.count == job.count + 21, tag.starts(with: job) else { return nil }
        let rest = tag.dropFirst(job.count)
        guard rest.first == UInt8(ascii: "_"), rest.dropFirst().first.map(isDigit) == true else { return nil }
        let value = pid.reduce(0) { $0 * 10 + Int64($1 - 0x30) }
        guard value > 0, value <= Int64(Int32.max) else { return nil }
        return Int32(value)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 0x61 && byte <= 0x66) || (byte >= 0x41 && byte <= 0x46)
    }
}
