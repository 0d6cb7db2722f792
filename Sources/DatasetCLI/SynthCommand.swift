import ArgumentParser
import Columnar
import Pipeline
import Synth

/// `dataset synth`: a deterministic synthetic league for scale tests and benchmarks.
struct SynthCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "synth",
    abstract: "Write a deterministic synthetic league (PGS and PCF) for scale tests.",
    discussion: """
      30 teams, an NBA-shaped schedule (back-to-backs, four-in-five nights, All-Star break), \
      rosters of 13–17 drawn from distributions fitted on the real logs (scripts/fit_synth.py), \
      injuries, DNP rows and trades. The NBA.com-style logs go through the importer's own \
      pipeline, so PCF is derived exactly as `import` derives it. One season is about 27k PGS \
      rows; seasons count upward from --first-season. The same seed gives the same database. \
      See docs/SYNTH.md.
      """)

  @Option(name: .long, help: "SQLite database to create (must not exist).")
  var db: String

  @Option(name: .long, help: "Number of seasons (about 27k PGS rows each).")
  var seasons: Int

  @Option(name: .long, help: "Seed of the generator (an unsigned 64-bit integer).")
  var seed: UInt64

  @Option(name: .customLong("first-season"), help: "Start year of the first season.")
  var firstSeason = 2015

  @Option(
    name: .customLong("processed-at"),
    help: "processed_at of every row (ISO 8601 UTC); default July 1 after the last season, 12:00Z.")
  var processedAt: String?

  @Flag(name: .long, help: "Print nothing but errors.")
  var quiet = false

  func validate() throws {
    if seasons < 1 { throw ValidationError("--seasons must be at least 1, got \(seasons)") }
    if let processedAt, Timestamp.parseMicros(processedAt) == nil {
      throw ValidationError(
        "--processed-at \"\(processedAt)\" is not an ISO 8601 time (expected e.g. 2024-07-01T12:00:00Z)")
    }
    let last = firstSeason + seasons - 1
    if !SynthOptions.seasonRange.contains(firstSeason) || !SynthOptions.seasonRange.contains(last) {
      throw ValidationError(
        "--first-season \(firstSeason) with --seasons \(seasons) ends in \(last); start years must lie in \(SynthOptions.seasonRange.lowerBound)…\(SynthOptions.seasonRange.upperBound)"
      )
    }
  }

  func run() throws {
    // Stored as UTC with Z, as source-tables.md has processed_at, whatever offset was typed.
    let utc = processedAt.flatMap { Timestamp.parseMicros($0) }.map { Timestamp.format(micros: $0) }
    let options = SynthOptions(
      databasePath: db, seasons: seasons, firstSeason: firstSeason, seed: seed, processedAt: utc)
    let summary: SynthSummary
    let progress = ProgressReporter.standard(label: "synth", unit: "seasons", total: seasons, quiet: quiet)
    do {
      summary = try SynthDatabase.generate(options) { done, total in progress.update(done: done, total: total) }
    } catch {
      progress.finish(completed: false)
      throw CommandFailure(.unusableInput, "error: \(error.message)")
    }
    progress.finish()
    if !quiet { FileHandleOutput.standardOutput.write(Self.render(summary, db: db)) }
  }

  static func render(_ s: SynthSummary, db: String) -> String {
    let first = s.seasons.first.map(String.init) ?? "", last = s.seasons.last.map(String.init) ?? ""
    let seconds = (s.seconds * 100).rounded() / 100
    return """
      synthetic league written to \(db)
        seasons          \(s.seasons.count) (\(first)…\(last))
        games            \(s.games)
        PGS rows         \(s.pgsRows) (\(s.zeroMinuteRows) with 0 minutes, stored as is_dnp = 1; \(s.dnpRows) of them coach's decisions)
        PCF rows         \(s.pcfRows)
        injured games    \(s.injuredPlayerGames) player-games missed
        traded players   \(s.tradedPlayers)
        processed_at     \(s.processedAt)
        seconds          \(seconds)

      """
  }
}
