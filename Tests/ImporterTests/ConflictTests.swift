import Foundation
import Testing

@testable import DatasetCLI
@testable import Importer

/// The rules of docs/IMPORT.md, "What import refuses": each refusal names what disagrees and
/// how to repair it, and leaves the database exactly as it was.
@Suite struct ImportConflictTests {

  // The same file given twice was refused as "line 2 … first at <the same path>: line 2".
  @Test func fileGivenTwiceIsAUsageError() throws {
    let s = Scratch()
    defer { s.remove() }
    let a = s.write("a.csv", handMadeGame())
    let db = s.path("l.sqlite")
    let other = s.dir + "/./a.csv"
    #expect(throws: ImportError("\(a) is given twice: give each file once")) {
      try Importer(databasePath: db).run(files: [a, a])
    }
    #expect(throws: ImportError("\(a) is given twice (the second time as \(other)): give each file once")) {
      try Importer(databasePath: db).run(files: [a, other])
    }
    #expect(DatasetCommand.run(["import", "--db", db, "--quiet", a, other]) == 1)
    #expect(!FileManager.default.fileExists(atPath: db))
  }
}
