import Foundation
import Gates
import Importer
import SQLiteSource
import Testing

/// Each gate's verdict per season, which the tables use to fold long season lists: the real
/// 2021-22 and 2022-23 seasons, with 2021-22's usage_rate emptied on half its active rows.
@Suite struct SeasonVerdictTests {
  @Test func eachSeasonCarriesItsOwnVerdict() throws {
    let csv2122 = URL(fileURLWithPath: RealFixture.csvPath).deletingLastPathComponent()
      .appendingPathComponent("player_logs_2021-22.csv").path
    guard FileManager.default.fileExists(atPath: csv2122) else { throw FixtureError.missing(csv2122) }
    let db = try RealFixture.copy("two-seasons")
    _ = try Importer(databasePath: db, processedAt: RealFixture.importedAt).run(files: [csv2122])
    let writer = try Connection(path: db, mode: .readWriteCreate)
    try writer.execute("UPDATE player_game_summary SET usage_rate = NULL WHERE season_year = 2021 AND rowid % 2 = 0")
    let data = try SourceReader(path: db).read(seasons: [2021, 2022])
    let report = GateRunner.run(source: data, config: .defaults, window: .all, overrides: [])
    let usage = try #require(report.gates.first { $0.name == "usage_rate_coverage" })
    #expect(usage.status == .fail)
    #expect(usage.seasons.map(\.season) == ["2021-22", "2022-23"])
    #expect(usage.seasons.map(\.status) == [.fail, .pass])
    // The figures are the joined figure's parts, in season order.
    #expect(usage.figure == usage.seasons.map { "\($0.season): \($0.figure)" }.joined(separator: "; "))
    // Every gate judges both seasons, and no season is worse than its gate.
    for gate in report.gates {
      #expect(gate.seasons.count == 2, "\(gate.name)")
      #expect(gate.seasons.allSatisfy { $0.status <= gate.status }, "\(gate.name)")
      #expect(gate.status == .pass || gate.seasons.contains { $0.status == gate.status }, "\(gate.name)")
    }
  }
}
