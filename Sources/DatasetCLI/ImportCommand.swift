import ArgumentParser
import Importer
import Pipeline
import SQLiteSource

/// `dataset import`: NBA.com player game logs → PGS, then PCF derived from them.
struct ImportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Load NBA.com player game logs (.csv or .csv.lz4) into PGS and derive PCF.",
    discussion: """
      Rows are matched by (game_date, player_lookup, game_id): importing the same file twice \
      changes nothing; a corrected file updates only the rows whose content changed. A file \
      that contradicts the stored rows (a game under another id or date, a player its game \
      lacks, one player_lookup for two PLAYER_IDs) is refused with the SQL that repairs it. One \
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
    // A mistake in the command, not in the file: exit 1 (README, "Exit codes").
    if let repeated = Importer.repeatedFile(in: files) { throw ValidationError(repeated) }
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
    // Printed under --quiet too: a scheduler runs quiet, and these change the training data.
    for warning in summary.warnings { FileHandleOutput.standardError.write("warning: \(warning)\n") }
    if !quiet { FileHandleOutput.standardOutput.write(Self.render(summary, db: db)) }
  }

  static func render(_ s: ImportSummary, db: String) -> String {
    let seasons = s.seasons.map(Season.label).joined(separator: ", ")
    let seconds = (s.seconds * 100).rounded() / 100
    var lines = [
      ("files", "\(s.files)"),
      ("rows read", "\(s.rowsRead)"),
      ("PGS rows", "\(s.pgsInserted) inserted, \(s.pgsUpdated) updated, \(s.pgsUnchanged) unchanged"),
      (
        "PCF rows",
        "\(s.pcfInserted) inserted, \(s.pcfUpdated) updated, \(s.pcfRestamped) re-stamped, \(s.pcfUnchanged) unchanged, \(s.pcfDeleted) deleted"
      ),
      ("team totals", s.teamTotals),
    ]
    // What the import decided about rows, which otherwise surfaces only as fewer feature rows
    // or NULL keys in a build.
    if s.zeroMinuteRows > 0 {
      lines.append(
        ("0-minute rows", "\(s.zeroMinuteRows) stored as is_dnp = 1: not active (no usage_rate, no feature row)"))
    }
    if s.gamesWithoutHomeTeam > 0 {
      let games = "\(s.gamesWithoutHomeTeam) game\(s.gamesWithoutHomeTeam == 1 ? "" : "s")"
      lines.append(
        (
          "home team",
          "unknown in \(games) (their MATCHUPs disagree, or name a team not in the game): is_home NULL on their rows"
        ))
    }
    lines += [
      ("seasons", seasons), ("game dates", "\(s.gameDates)"), ("processed_at", s.processedAt),
      ("seconds", "\(seconds)"),
    ]
    return "imported into \(db)\n"
      + lines.map { "  \($0.0.padding(toLength: 17, withPad: " ", startingAt: 0))\($0.1)\n" }.joined()
  }
}
