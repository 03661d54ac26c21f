import ExportSinks
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@Suite struct DirectoryEntryNameTests {
    /// Names of every length from 1 to 255 bytes (the longest a name can be), some not ASCII: the
    /// kernel's records are as short as their names, so a reader that copies the whole 256-byte
    /// `d_name` reads past the last record of a buffer (caught by `scripts/sanitize address`).
    @Test func readsEveryNameOfEveryLengthExactly() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dirent-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var expected: Set<String> = []
        for length in 1...255 {
            let name =
                length % 3 == 0 && length < 255
                ? String(repeating: "é", count: length / 2) : String(repeating: "n", count: length)
            if expected.insert(name).inserted {
                #expect(FileManager.default.createFile(atPath: folder + "/" + name, contents: nil))
            }
        }
        let directory = try #require(opendir(folder))
        defer { closedir(directory) }
        var names: Set<String> = []
        while let entry = readdir(directory) {
            let name = DirectoryEntryName.of(entry)
            if name != "." && name != ".." { names.insert(name) }
        }
        #expect(names == expected)
    }
}
