import Gates
import SQLiteSource

// How a run of the pipeline ends when it does not succeed, in the terms gates.md gives every
// command: an exit status, a message written for a person, and for `--json` callers a reason.
// They live here, not in the CLI, because the build's refusals are decided here; the CLI only
// maps them to the process's exit code and prints them.

/// Exit codes, the same for every command (gates.md).
public enum ExitStatus: Int32, Sendable {
  case ok = 0
  /// The command line was wrong.
  case usage = 1
  /// A gate failed, or verify found a mismatch.
  case gateFailed = 2
  /// The input could not be used.
  case unusableInput = 3
}

/// An error the CLI maps to an exit status, with the message already written for a person.
public struct CommandFailure: Error, CustomStringConvertible {
  public var status: ExitStatus
  public var message: String
  /// For `--json` callers: why, as a word a scheduler can branch on without reading the message
  /// (`FailureReason`); nil for the rest.
  public var reason: FailureReason?
  public init(_ status: ExitStatus, _ message: String, reason: FailureReason? = nil) {
    self.status = status
    self.message = message
    self.reason = reason
  }
  public var description: String { message }
}

/// Exit-3 outcomes a scheduler treats otherwise than broken input (a review: on about 200 days a
/// year a daily window holds no game, and the envelope gave a DAG nothing but text to match).
public enum FailureReason: String, Encodable, Sendable {
  /// The window or season holds no player_game_summary row (the All-Star break, the off-season,
  /// the current season or a later one before its rows arrived).
  case noRowsInWindow = "no_rows_in_window"
  /// The rows there are all bootstrap days or inactive: nothing to compute features for.
  case noFeatureRows = "no_feature_rows"
  /// The database holds no row of a season asked for that began before the current one.
  case seasonNotInDatabase = "season_not_in_database"
  /// Another build of the dataset still held its lock after `--lock-timeout`: retry later.
  case lockTimeout = "lock_timeout"
  /// A writer holds the source database locked: retry when it is done.
  case databaseLocked = "database_locked"
  /// The source database changed while the build read and hashed it: run the build again.
  case sourceChanged = "source_changed"
}

extension FailureReason {
  /// A season the database lacks that has not ended by the clock (the current one before its
  /// first rows arrived, or a later one) has no rows yet: the same outcome as an empty window.
  /// An earlier season missing is the export's gap.
  public init?(_ error: SourceError, clock: WallClock = .system) {
    if case .locked = error {
      self = .databaseLocked
      return
    }
    guard case .seasonsWithoutRows(_, let requested, _) = error else { return nil }
    let current = SeasonSelector.current.resolve(clock: clock)
    self = requested.allSatisfy { $0 >= current } ? .noRowsInWindow : .seasonNotInDatabase
  }
}
