import Columnar
import Foundation
import Importer
import SQLiteSource

/// What `dataset synth` asks for.
public struct SynthOptions: Sendable {
  public var databasePath: String
  public var seasons: Int
  public var firstSeason: Int
  public var seed: UInt64
  /// `processed_at` of every row; fixed so that the database is identical for a given seed.
  public var processedAt: String
  /// Seasons handed to the importer per transaction (about 26k PGS rows each).
  public var seasonsPerTransaction: Int

  public init(
    databasePath: String, seasons: Int, firstSeason: Int = 2015, seed: UInt64, processedAt: String? = nil,
    seasonsPerTransaction: Int = 8
  ) {
    self.databasePath = databasePath
    self.seasons = seasons
    self.firstSeason = firstSeason
    self.seed = seed
    self.processedAt = processedAt ?? Self.defaultProcessedAt(firstSeason: firstSeason, seasons: seasons)
    self.seasonsPerTransaction = seasonsPerTransaction
  }

  /// July 1 after the last season, noon UTC: after every game, and independent of the clock.
  public static func defaultProcessedAt(firstSeason: Int, seasons: Int) -> String {
    "\(firstSeason + seasons)-07-01T12:00:00.000000Z"
  }

  /// Four-digit start years keep dates and labels in the formats every reader expects.
  public static let seasonRange = 1900...9000
}

/// What was written, for the CLI summary.
public struct SynthSummary: Sendable, Equatable {
  public var seasons: [Int] = []
  public var pgsRows = 0
  public var pcfRows = 0
  public var games = 0
  /// Rows for a healthy player the coach did not use.
  public var dnpRows = 0
  /// Every row with 0 minutes (the DNP rows, and players whose minutes rounded to 0): what
  /// the importer stores with is_dnp = 1.
  public var zeroMinuteRows = 0
  public var injuredPlayerGames = 0
  public var tradedPlayers = 0
  public var processedAt = ""
  public var seconds = 0.0
}

public struct SynthError: Error, Equatable, CustomStringConvertible, Sendable {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// Generates the league season by season and loads it through the importer's own pipeline
/// (`Importer.run(inputs:)`: CSV text in memory, the same parsing, usage rates, PGS rows and
/// PCF derivation as `dataset import`), several seasons per transaction so memory stays
/// bounded by one batch however many seasons are asked for.
public enum SynthDatabase {
  public static func generate(
    _ options: SynthOptions, progress: ((Int, Int) -> Void)? = nil
  ) throws(SynthError) -> SynthSummary {
    let start = Date()
    guard options.seasons >= 1 else { throw SynthError("--seasons must be at least 1, got \(options.seasons)") }
    let last = options.firstSeason + options.seasons - 1
    guard SynthOptions.seasonRange.contains(options.firstSeason), SynthOptions.seasonRange.contains(last) else {
      throw SynthError(
        "seasons \(options.firstSeason)…\(last) leave the supported start years \(SynthOptions.seasonRange.lowerBound)…\(SynthOptions.seasonRange.upperBound)"
      )
    }
    guard Timestamp.parseMicros(options.processedAt) != nil else {
      throw SynthError(
        "--processed-at \"\(options.processedAt)\" is not an ISO 8601 UTC time (expected e.g. 2024-07-01T12:00:00Z)")
    }
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: options.databasePath, isDirectory: &isFolder), isFolder.boolValue {
      throw SynthError("\(options.databasePath) is a folder: expected the path of a new SQLite file")
    }
    if FileManager.default.fileExists(atPath: options.databasePath) {
      throw SynthError("\(options.databasePath) already exists; synth writes a new database (remove the file first)")
    }
    var league = SynthLeague(seed: options.seed)
    let importer = Importer(databasePath: options.databasePath, processedAt: options.processedAt)
    var summary = SynthSummary()
    summary.processedAt = options.processedAt
    var year = options.firstSeason
    while year <= last {
      let batchEnd = min(last, year + max(1, options.seasonsPerTransaction) - 1)
      var inputs: [(name: String, csv: [UInt8])] = []
      while year <= batchEnd {
        let season = league.season(year)
        summary.seasons.append(year)
        summary.games += season.games.count
        summary.dnpRows += season.dnpRows
        summary.zeroMinuteRows += season.records.reduce(0) { $0 + ($1.minutes == 0 ? 1 : 0) }
        summary.injuredPlayerGames += season.injuredPlayerGames
        summary.tradedPlayers += season.tradedPlayerIds.count
        inputs.append(("synthetic season \(Season.label(year)) (seed \(options.seed))", csv(season.records)))
        year += 1
      }
      do {
        let s = try importer.run(inputs: inputs)
        summary.pgsRows += s.pgsInserted
        summary.pcfRows += s.pcfInserted
      } catch {
        throw SynthError("importing the synthetic seasons into \(options.databasePath) failed: \(error.message)")
      }
      progress?(year - options.firstSeason, options.seasons)
    }
    summary.seconds = Date().timeIntervalSince(start)
    return summary
  }

  /// The records as a CSV file of the real logs' layout, header first.
  public static func csv(_ records: [PlayerLogRecord]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(records.count * 170)
    out += PlayerLogRecord.csvHeader.utf8
    out.append(0x0A)
    for r in records {
      r.appendCSV(to: &out)
      out.append(0x0A)
    }
    return out
  }
}
