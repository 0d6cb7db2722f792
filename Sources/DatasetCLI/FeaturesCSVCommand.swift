import ArgumentParser
import Columnar
import Features
import Pipeline
import SQLiteSource

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Hidden: writes one season's computed feature table as CSV, for the Python interop test
/// (Tests/interop/test_features_interop.py): a second, text path to the same values, so a
/// defect of the Arrow writer cannot hide one of the features.
/// Floats use Swift's shortest round-trip form, so the file carries every bit; NULL is empty.
struct FeaturesCSVCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "features-csv",
    abstract: "Write one season's feature table as CSV (for interop tests).",
    shouldDisplay: false)

  @Option(help: "SQLite database holding player_game_summary and player_composite_factors.")
  var db: String

  @Option(help: "Season: 2022-23 or 2022 (start year).")
  var season: String

  @Option(help: "Output CSV file.")
  var out: String

  @Option(
    name: .customLong("feature-set"),
    help: "Feature set: a name under Schemas/features/ (or built in) or a path to a .json spec.")
  var featureSet: String = "props_v1"

  @Flag(name: .customLong("include-bootstrap"), help: "Keep rows dated on bootstrap days.")
  var includeBootstrap = false

  func validate() throws {
    guard Self.parseSeason(season) != nil else {
      throw ValidationError(
        "--season: \"\(season)\" is not a season; expected YYYY-YY (2022-23) or a start year (2022)")
    }
  }

  static func parseSeason(_ text: String) -> Int? {
    let u = Array(text.utf8)
    if u.count == 4, let y = Int(text), y >= 1900 { return y }
    guard u.count == 7, u[4] == UInt8(ascii: "-"), let y = Int(text.prefix(4)), let n = Int(text.suffix(2)) else {
      return nil
    }
    return (y + 1) % 100 == n ? y : nil
  }

  func run() throws {
    guard let start = Self.parseSeason(season) else {
      throw CommandFailure(.usage, "--season: bad value \"\(season)\"")
    }
    let spec: FeatureSetSpec
    spec = try FeatureSetLocation.load(featureSet)
    let source = try SourceReader(path: db).read(seasons: [start])
    let result: [SeasonFeatures]
    do {
      result = try FeatureEngine(spec: spec).compute(
        source: source, options: FeatureOptions(includeBootstrap: includeBootstrap))
    } catch {
      throw CommandFailure(.unusableInput, "error: \(error)")
    }
    guard let table = result.first?.table else { throw CommandFailure(.unusableInput, "error: no rows computed") }
    let text = FeatureCSV.render(table)
    guard let file = fopen(out, "wb") else {
      throw CommandFailure(.unusableInput, "error: cannot open \(out) for writing")
    }
    defer { fclose(file) }
    let bytes = Array(text.utf8)
    guard fwrite(bytes, 1, bytes.count, file) == bytes.count else {
      throw CommandFailure(.unusableInput, "error: short write to \(out)")
    }
    FileHandleOutput.standardOutput.write(
      "\(spec.name): \(table.rowCount) rows × \(table.fields.count) columns for \(Season.label(start)) → \(out)\n")
  }
}

enum FeatureCSV {
  static func render(_ table: Table) -> String {
    var s = table.fields.map(\.name).joined(separator: ",") + "\n"
    for r in 0..<table.rowCount {
      var cells: [String] = []
      cells.reserveCapacity(table.columns.count)
      for c in table.columns {
        switch c {
        case .float64(let col): cells.append(col[r].map { "\($0)" } ?? "")
        case .int32(let col): cells.append(col[r].map { "\($0)" } ?? "")
        case .int64(let col): cells.append(col[r].map { "\($0)" } ?? "")
        case .bool(let col): cells.append(col[r].map { $0 ? "true" : "false" } ?? "")
        case .date32(let col): cells.append(col[r].map { "\($0)" } ?? "")
        case .utf8(let col): cells.append(col[r].map(quote) ?? "")
        }
      }
      s += cells.joined(separator: ",") + "\n"
    }
    return s
  }

  static func quote(_ v: String) -> String {
    guard v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return v }
    return "\"" + v.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
  }
}
