import ArgumentParser
import ArrowIPC
import Columnar
import Pipeline

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Hidden debug command behind the Python interop tests: proves that files written by pyarrow
/// and polars go through the project's reader and writer unchanged.
struct ArrowRoundTripCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "arrow-roundtrip",
    abstract: "debug: read an Arrow IPC file with the project's reader and write it back",
    shouldDisplay: false)

  @Option(name: .customLong("in"), help: "Arrow IPC file to read.") var input: String
  @Option(name: .customLong("out"), help: "Where to write the file back.") var output: String
  @Option(help: "Compression of the written file: lz4-frame or none.") var compression: String = "lz4-frame"
  @Option(help: "Rows per record batch of the written file.") var batchRows: Int = 65_536

  func validate() throws {
    guard ArrowCompression(rawValue: compression) != nil else {
      throw ValidationError("--compression \(compression) is not one of: lz4-frame, none")
    }
    guard batchRows > 0 else { throw ValidationError("--batch-rows must be positive, got \(batchRows)") }
  }

  func run() throws {
    let bytes = try ArrowDebugIO.read(input)
    let table: Table
    let reader: ArrowFileReader
    do {
      reader = try ArrowFileReader(bytes: bytes)
      table = try reader.readAll()
    } catch {
      throw CommandFailure(.unusableInput, "error: \(input): \(error)")
    }
    let out: [UInt8]
    do {
      out = try ArrowFile.encode(
        table, schemaMetadata: reader.schemaMetadata, compression: ArrowCompression(rawValue: compression) ?? .lz4Frame,
        batchRows: batchRows)
    } catch {
      throw CommandFailure(.unusableInput, "error: \(output): \(error)")
    }
    try ArrowDebugIO.write(out, to: output)
    let columns = zip(reader.fields, table.columns).map { "\($0.name): \($0.type) (\($1.nullCount) nulls)" }
    var text =
      "read \(input): \(reader.rowCount) rows in \(reader.batchCount) record batch\(reader.batchCount == 1 ? "" : "es"), \(reader.fields.count) columns\n"
    for c in columns { text += "  \(c)\n" }
    text += "wrote \(output): \(out.count) bytes, \(compression)\n"
    FileHandleOutput.standardOutput.write(text)
  }
}

/// Hidden debug command: writes a fixed table covering every supported type with NULLs, for
/// the interop tests to read with pyarrow and polars.
struct ArrowSampleCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "arrow-sample",
    abstract: "debug: write a fixed Arrow IPC file covering every supported type, with nulls",
    shouldDisplay: false)

  @Option(name: .customLong("out"), help: "Where to write the file.") var output: String
  @Option(help: "Compression: lz4-frame or none.") var compression: String = "lz4-frame"
  @Option(help: "Rows per record batch.") var batchRows: Int = 4

  func validate() throws {
    guard ArrowCompression(rawValue: compression) != nil else {
      throw ValidationError("--compression \(compression) is not one of: lz4-frame, none")
    }
    guard batchRows > 0 else { throw ValidationError("--batch-rows must be positive, got \(batchRows)") }
  }

  /// Ten rows; NULLs at the first and last row and in between, an all-NULL column, empty and
  /// multi-byte strings, extreme integers, ±inf and -0.0.
  static func sampleTable() -> Table {
    var t = Table(rowCount: 10)
    t.append(
      Field(name: "i32", type: .int32, meaning: "int32 with nulls"),
      .int32(Column(optionals: [nil, 1, -1, Int32.max, Int32.min, 0, nil, 7, 8, nil])))
    t.append(
      Field(name: "i64", type: .int64, nullable: false),
      .int64(Column([0, 1, -1, Int64.max, Int64.min, 42, 1 << 40, -(1 << 40), 9, 10])))
    t.append(
      Field(name: "f64", type: .float64),
      .float64(Column(optionals: [1.5, nil, -0.0, .infinity, -.infinity, 1e-300, 3.25, nil, 1e300, 0.1])))
    t.append(
      Field(name: "flag", type: .bool),
      .bool(Column(optionals: [true, false, nil, true, true, false, nil, false, true, true])))
    t.append(
      Field(name: "text", type: .utf8, meaning: "strings"),
      .utf8(StringColumn(["a", "", nil, "héllo", "日本語", "🏀", "", nil, "x y", "last"])))
    t.append(
      Field(name: "day", type: .date32),
      .date32(
        Column(optionals: [
          Date32(iso: "2023-10-24"), nil, Date32(iso: "1970-01-01"), Date32(iso: "1969-12-31"),
          Date32(iso: "2000-02-29"), Date32(iso: "2024-06-17"), nil, Date32(iso: "1900-01-01"),
          Date32(iso: "2099-12-31"), Date32(iso: "2023-04-09"),
        ])))
    t.append(Field(name: "all_null", type: .float64), .float64(Column(optionals: [Double?](repeating: nil, count: 10))))
    return t
  }

  func run() throws {
    let bytes: [UInt8]
    do {
      bytes = try ArrowFile.encode(
        Self.sampleTable(), compression: ArrowCompression(rawValue: compression) ?? .lz4Frame, batchRows: batchRows)
    } catch {
      throw CommandFailure(.unusableInput, "error: \(error)")
    }
    try ArrowDebugIO.write(bytes, to: output)
    FileHandleOutput.standardOutput.write("wrote \(output): \(bytes.count) bytes, 10 rows, 7 columns, \(compression)\n")
  }
}

/// Whole-file reads and writes for the debug commands, with errno in the message.
enum ArrowDebugIO {
  static func read(_ path: String) throws -> [UInt8] {
    guard let f = fopen(path, "rb") else {
      throw CommandFailure(.unusableInput, "error: cannot open \(path): \(String(cString: strerror(errno)))")
    }
    defer { fclose(f) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
      if n > 0 { out.append(contentsOf: chunk[0..<n]) }
      if n < chunk.count {
        if ferror(f) != 0 {
          throw CommandFailure(.unusableInput, "error: cannot read \(path): \(String(cString: strerror(errno)))")
        }
        return out
      }
    }
  }

  static func write(_ bytes: [UInt8], to path: String) throws {
    guard let f = fopen(path, "wb") else {
      throw CommandFailure(.unusableInput, "error: cannot create \(path): \(String(cString: strerror(errno)))")
    }
    let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    let closed = fclose(f)
    guard written == bytes.count, closed == 0 else {
      throw CommandFailure(.unusableInput, "error: cannot write \(path): \(String(cString: strerror(errno)))")
    }
  }
}
