import Testing
@testable import Importer

@Suite struct CSVRecordReaderTests {
  func records(_ text: [UInt8]) throws -> [[String]] {
    var reader = CSVRecordReader(bytes: text)
    var out: [[String]] = []
    while try reader.next() {
      out.append((0..<reader.fieldCount).map { String(decoding: reader.field($0), as: UTF8.self) })
    }
    return out
  }

  @Test func quotedCommasDoubledQuotesAndLineBreaks() throws {
    let text = "a,\"b, c\",\"say \"\"hi\"\"\"\n\"two\nlines\",,x\n"
    #expect(try records(Array(text.utf8)) == [["a", "b, c", "say \"hi\""], ["two\nlines", "", "x"]])
  }

  @Test func crlfLfLoneCrAndBomAreLineEnds() throws {
    let text: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("h1,h2\r\n1,2\n3,4\r5,6".utf8)
    #expect(try records(text) == [["h1", "h2"], ["1", "2"], ["3", "4"], ["5", "6"]])
  }

  @Test func lineNumbersCountLinesInsideQuotes() throws {
    var reader = CSVRecordReader(bytes: Array("h\n\"a\nb\"\nc\n".utf8))
    var lines: [Int] = []
    while try reader.next() { lines.append(reader.line) }
    #expect(lines == [1, 2, 4])
  }

  @Test(arguments: [
    ("a,b\n\"open,c\n", CSVRecordReader.SyntaxError(line: 2, problem: "quoted field opened on line 2 is never closed")),
    (
      "a,b\nx\"y,c\n",
      CSVRecordReader.SyntaxError(
        line: 2, problem: "quote inside an unquoted field (quote the whole field and double the quote)")
    ),
    (
      "a,b\n\"x\"y,c\n", CSVRecordReader.SyntaxError(line: 2, problem: "text after the closing quote of a quoted field")
    ),
  ])
  func malformedQuotesAreRefusedWithTheLine(text: String, expected: CSVRecordReader.SyntaxError) {
    #expect(throws: expected) { try records(Array(text.utf8)) }
  }
}

@Suite struct PlayerLookupTests {
  @Test(arguments: [
    ("Dāvis Bertāns", "davisbertans"),
    ("Jaren Jackson Jr.", "jarenjacksonjr"),
    ("Nikola Jokić", "nikolajokic"),
    ("Luka Dončić", "lukadoncic"),
    ("Jonas Valančiūnas", "jonasvalanciunas"),
    ("Karl-Anthony Towns", "karlanthonytowns"),
    ("D'Angelo Russell", "dangelorussell"),
    ("Gary Payton II", "garypaytonii"),
    ("P.J. Tucker", "pjtucker"),
    ("Ｋｅｌｌｙ　Ｏｕｂｒｅ", "kellyoubre"),  // full-width compatibility forms fold under NFKD
    ("Şerif 3", "serif3"),
  ])
  func normalises(name: String, lookup: String) {
    #expect(PlayerLookup.normalise(name) == lookup)
  }
}
