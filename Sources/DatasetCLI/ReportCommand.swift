import ArgumentParser
import Gates
import Report
import SQLiteSource

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Writes one self-contained HTML page: PCF coverage by day, coverage by month, the gates, snapshot drift.",
    discussion: """
      The page has no scripts and loads nothing from anywhere: open it offline, mail it, print it on A4.
      Example: dataset report --db league.sqlite --season 2022-23 --out report.html
      """)

  @Option(name: .long, help: "The SQLite database (player_game_summary, player_composite_factors).")
  var db: String

  @Option(name: .long, help: "Season: 2022-23 or 2022 (start year). Repeat for several seasons.")
  var season: [String] = []

  @Option(name: .long, help: "Where to write the HTML page.")
  var out: String

  func validate() throws {
    if season.isEmpty { throw ValidationError("--season is required (e.g. --season 2022-23 or --season 2022)") }
    for s in season where SeasonArgument.parse(s) == nil {
      throw ValidationError("--season '\(s)' is not a season; accepted: 2022-23 or 2022 (the start year)")
    }
  }

  func run() throws {
    let seasons = season.compactMap(SeasonArgument.parse)
    let source = try SourceReader(path: db).read(seasons: seasons)
    let breakdowns = CoverageBreakdown.compute(source: source)
    let lines = ReportBuilder.Lines(dateCoverage: 0.95, playerCoverage: 0.90, usageRate: 0.95, sourceField: 0.99)
    let input = ReportInput(
      title: baseName(db),
      facts: [
        ("Database", db), ("Seasons", source.seasons.map(Season.label).joined(separator: ", ")),
        ("Rows read", "\(Format.count(source.pgs.count)) PGS, \(Format.count(source.pcf.count)) PCF"),
      ],
      seasons: ReportBuilder.seasons(breakdowns, lines: lines), gates: [], snapshot: nil)
    let html = ReportRenderer.render(input)
    try writeFile(out, html)
    FileHandleOutput.standardOutput.write("wrote \(out) (\(html.utf8.count) bytes)\n")
  }
}

/// `--season` values: `2022-23` or `2022`.
enum SeasonArgument {
  static func parse(_ text: String) -> Int? {
    let parts = text.split(separator: "-", omittingEmptySubsequences: false)
    guard let first = parts.first, first.count == 4, let year = Int(first), year >= 1946, year < 2100 else { return nil }
    if parts.count == 1 { return year }
    guard parts.count == 2, parts[1].count == 2, let next = Int(parts[1]), next == (year + 1) % 100 else { return nil }
    return year
  }
}

func baseName(_ path: String) -> String {
  path.split(separator: "/").last.map(String.init) ?? path
}

/// Writes `text` to `path` through a temporary file and a rename, so a reader never sees half
/// a page.
func writeFile(_ path: String, _ text: String) throws {
  let temporary = path + ".tmp-\(getpid())"
  guard let file = fopen(temporary, "wb") else {
    throw CommandFailure(.unusableInput, "error: cannot write \(temporary): \(String(cString: strerror(errno)))")
  }
  let bytes = Array(text.utf8)
  let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
  let closed = fclose(file)
  guard written == bytes.count, closed == 0 else {
    unlink(temporary)
    throw CommandFailure(.unusableInput, "error: writing \(temporary) failed after \(written) of \(bytes.count) bytes")
  }
  guard rename(temporary, path) == 0 else {
    let reason = String(cString: strerror(errno))
    unlink(temporary)
    throw CommandFailure(.unusableInput, "error: cannot rename \(temporary) to \(path): \(reason)")
  }
}
