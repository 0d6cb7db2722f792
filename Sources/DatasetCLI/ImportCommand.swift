import ArgumentParser
import Importer
import SQLiteSource

/// `dataset import`: NBA.com player game logs → PGS, then PCF derived from them.
struct ImportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Load NBA.com player game logs (.csv or .csv.lz4) into PGS and derive PCF.",
    discussion: """
      Rows are matched by (game_date, player_lookup, game_id): importing the same file twice \
      changes nothing; a corrected file updates only the rows whose content changed. One \
      transaction per import: any bad line exits 3 and writes nothing. See docs/IMPORT.md.
      """)

  @Option(name: .long, help: "SQLite database to write (created when missing).")
  var db: String

  @Option(name: .customLong("team-logs"), help: "NBA.com team game logs giving team totals for usage_rate.")
  var teamLogs: String?

  @Flag(name: .long, help: "Print nothing but errors.")
  var quiet = false

  @Argument(help: "Player game log files (.csv or .csv.lz4).")
  var files: [String]

  func validate() throws {
    if files.isEmpty { throw ValidationError("give at least one player game log file (.csv or .csv.lz4)") }
  }

  func run() throws {
    let summary: ImportSummary
    var importer = Importer(databasePath: db, teamLogsPath: teamLogs)
    let progress = PhasedProgress(command: "import", quiet: quiet) { phase in
      switch phase {
      case "reading": "files"
      case "deriving PCF": "seasons"
      default: "rows"
      }
    }
    importer.progress = progress.update
    do {
      summary = try importer.run(files: files)
    } catch {
      progress.finish(completed: false)
      throw CommandFailure(.unusableInput, "error: \(error.message)")
    }
    progress.finish()
    if !quiet { FileHandleOutput.standardOutput.write(Self.render(summary, db: db)) }
  }

  static func render(_ s: ImportSummary, db: String) -> String {
    let seasons = s.seasons.map(Season.label).joined(separator: ", ")
    let seconds = (s.seconds * 100).rounded() / 100
    return """
      imported into \(db)
        files            \(s.files)
        rows read        \(s.rowsRead)
        PGS rows         \(s.pgsInserted) inserted, \(s.pgsUpdated) updated, \(s.pgsUnchanged) unchanged
        PCF rows         \(s.pcfInserted) inserted, \(s.pcfUpdated) updated, \(s.pcfRestamped) re-stamped, \(s.pcfUnchanged) unchanged, \(s.pcfDeleted) deleted
        team totals      \(s.teamTotals)
        seasons          \(seasons)
        game dates       \(s.gameDates)
        processed_at     \(s.processedAt)
        seconds          \(seconds)

      """
  }
}
