// The typed gate report (gates.md): per gate the status, the measured figure, the threshold and
// the evidence, capped with a total. Field names are stable: Schemas/gate-report.schema.json.
import Columnar
import Foundation

public enum GateStatus: String, Codable, Sendable, Comparable {
  case pass, warn, fail

  var rank: Int {
    switch self {
    case .pass: 0
    case .warn: 1
    case .fail: 2
    }
  }
  public static func < (a: GateStatus, b: GateStatus) -> Bool { a.rank < b.rank }
}

public struct GateResult: Codable, Equatable, Sendable {
  /// Evidence lists keep at most this many entries; `evidenceTotal` counts them all.
  public static let evidenceCap = 20

  public var name: String
  public var status: GateStatus
  /// The measured figure as an operator says it: "PCF covers 146 of 150 expected dates (97.3 %)".
  public var figure: String
  /// The figure as a number the threshold compares against (a percentage or a count); nil when
  /// nothing could be measured (no expected date in the window).
  public var value: Double?
  public var threshold: String
  /// One line for the table: "missing: 2023-01-04, 2023-01-05, … (4 in all)".
  public var summary: String
  /// The first `evidenceCap` findings, worst or earliest first.
  public var evidence: [String]
  public var evidenceTotal: Int
  /// True when the gate failed and the run was told to go on anyway; status stays `fail`.
  public var overridden: Bool
  public var overrideReason: String?
  /// Each season's figure and verdict when the gate judged several, for the text tables, which
  /// fold the passing seasons of a long list. Not written to JSON: reports and manifests keep
  /// the joined `figure`, whose form their readers know.
  public var seasons: [SeasonVerdict] = []

  public struct SeasonVerdict: Equatable, Sendable {
    public var season: String
    public var status: GateStatus
    public var figure: String

    public init(season: String, status: GateStatus, figure: String) {
      self.season = season
      self.status = status
      self.figure = figure
    }
  }

  func with(_ verdicts: [SeasonVerdict]) -> GateResult {
    var copy = self
    copy.seasons = verdicts
    return copy
  }

  enum CodingKeys: String, CodingKey {
    case name, status, figure, value, threshold, summary, evidence, overridden
    case evidenceTotal = "evidence_total"
    case overrideReason = "override_reason"
  }

  public init(
    name: String, status: GateStatus, figure: String, value: Double?, threshold: String, summary: String,
    evidence: [String], evidenceTotal: Int? = nil
  ) {
    self.name = name
    self.status = status
    self.figure = figure
    self.value = value
    self.threshold = threshold
    self.summary = summary
    self.evidence = Array(evidence.prefix(Self.evidenceCap))
    self.evidenceTotal = evidenceTotal ?? evidence.count
    self.overridden = false
    self.overrideReason = nil
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(name, forKey: .name)
    try c.encode(status, forKey: .status)
    try c.encode(figure, forKey: .figure)
    // Explicit null: a reader sees "not measured", not a missing field.
    if let value { try c.encode(value, forKey: .value) } else { try c.encodeNil(forKey: .value) }
    try c.encode(threshold, forKey: .threshold)
    try c.encode(summary, forKey: .summary)
    try c.encode(evidence, forKey: .evidence)
    try c.encode(evidenceTotal, forKey: .evidenceTotal)
    try c.encode(overridden, forKey: .overridden)
    if let overrideReason {
      try c.encode(overrideReason, forKey: .overrideReason)
    } else {
      try c.encodeNil(forKey: .overrideReason)
    }
  }

  /// Stops the run: failed and not overridden.
  public var blocks: Bool { status == .fail && !overridden }
}

/// A failed gate allowed through by name, with the reason the manifest records.
public struct GateOverride: Codable, Equatable, Sendable {
  public var gate: String
  public var reason: String
  public init(gate: String, reason: String) {
    self.gate = gate
    self.reason = reason
  }
}

/// How a season's expected dates were derived, so a reader can check the denominator.
public struct SeasonExpectation: Codable, Equatable, Sendable {
  public var season: String
  public var dateSource: String
  public var openingNight: String?
  /// Last bootstrap day (opening night + 13).
  public var bootstrapEnds: String?
  public var gameDates: Int
  /// Expected PCF dates (game dates minus bootstrap days), within the window when one is given.
  public var expectedDates: Int

  public init(
    season: String, dateSource: String, openingNight: String?, bootstrapEnds: String?, gameDates: Int,
    expectedDates: Int
  ) {
    self.season = season
    self.dateSource = dateSource
    self.openingNight = openingNight
    self.bootstrapEnds = bootstrapEnds
    self.gameDates = gameDates
    self.expectedDates = expectedDates
  }

  enum CodingKeys: String, CodingKey {
    case season
    case dateSource = "date_source"
    case openingNight = "opening_night"
    case bootstrapEnds = "bootstrap_ends"
    case gameDates = "game_dates"
    case expectedDates = "expected_dates"
  }
}

public struct GateReport: Codable, Equatable, Sendable {
  public var database: String
  public var seasons: [SeasonExpectation]
  public var startDate: ResolvedDate?
  public var endDate: ResolvedDate?
  public var thresholds: GateConfig
  public var gates: [GateResult]
  /// What the run printed as `note:` lines on stderr about what it checked (a season the dates
  /// span left out or checked over nothing, a season `build` will refuse or leave out), so a
  /// scheduler reading only the JSON sees them too.
  public var notes: [String] = []

  enum CodingKeys: String, CodingKey {
    case database, seasons, thresholds, gates, passed, counts, notes
    case startDate = "start_date"
    case endDate = "end_date"
  }

  public init(
    database: String, seasons: [SeasonExpectation], startDate: ResolvedDate?, endDate: ResolvedDate?,
    thresholds: GateConfig, gates: [GateResult]
  ) {
    self.database = database
    self.seasons = seasons
    self.startDate = startDate
    self.endDate = endDate
    self.thresholds = thresholds
    self.gates = gates
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    database = try c.decode(String.self, forKey: .database)
    seasons = try c.decode([SeasonExpectation].self, forKey: .seasons)
    startDate = try c.decodeIfPresent(ResolvedDate.self, forKey: .startDate)
    endDate = try c.decodeIfPresent(ResolvedDate.self, forKey: .endDate)
    thresholds = try c.decode(GateConfig.self, forKey: .thresholds)
    gates = try c.decode([GateResult].self, forKey: .gates)
    notes = try c.decodeIfPresent([String].self, forKey: .notes) ?? []
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(database, forKey: .database)
    try c.encode(seasons, forKey: .seasons)
    if let startDate { try c.encode(startDate, forKey: .startDate) } else { try c.encodeNil(forKey: .startDate) }
    if let endDate { try c.encode(endDate, forKey: .endDate) } else { try c.encodeNil(forKey: .endDate) }
    try c.encode(thresholds, forKey: .thresholds)
    try c.encode(gates, forKey: .gates)
    try c.encode(passed, forKey: .passed)
    try c.encode(counts, forKey: .counts)
    try c.encode(notes, forKey: .notes)
  }

  /// No gate failed, or every failed gate was overridden.
  public var passed: Bool { !gates.contains(where: \.blocks) }

  public var counts: [String: Int] {
    [
      "pass": gates.filter { $0.status == .pass }.count,
      "warn": gates.filter { $0.status == .warn }.count,
      "fail": gates.filter { $0.status == .fail }.count,
      "overridden": gates.filter(\.overridden).count,
    ]
  }

  public func result(_ gate: GateName) -> GateResult? { gates.first { $0.name == gate.rawValue } }

  static func applyOverride(_ r: inout GateResult, _ overrides: [GateOverride]) {
    guard let o = overrides.first(where: { $0.gate == r.name }) else { return }
    r.overrideReason = o.reason
    r.overridden = r.status == .fail
  }

  /// Sorted keys, so two runs over the same input give byte-identical JSON.
  public func json() -> String {
    // Encoding plain value types cannot fail; a failure would be a programmer mistake.
    guard let bytes = try? PrettyJSONEncoder.encode(self) else { preconditionFailure("GateReport failed to encode") }
    return String(decoding: bytes, as: UTF8.self) + "\n"
  }

  /// "2 warnings, 0 failures: OK to build" / "1 gate failed: refusing".
  public var verdict: String {
    let warns = gates.filter { $0.status == .warn }.count
    let blocking = gates.filter(\.blocks)
    let overridden = gates.filter(\.overridden)
    func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
    if !blocking.isEmpty {
      return "\(plural(blocking.count, "gate")) failed (\(blocking.map(\.name).joined(separator: ", "))): refusing"
    }
    if !overridden.isEmpty {
      let list = overridden.map { "\($0.name): \($0.overrideReason ?? "")" }.joined(separator: "; ")
      return
        "\(plural(warns, "warning")), \(plural(overridden.count, "failure")) overridden (\(list)): OK to build with overrides"
    }
    return "\(plural(warns, "warning")), 0 failures: OK to build"
  }
}

extension GateResult {
  /// The figure one season to a line, for tables: `perSeason` joins several seasons' figures as
  /// "2021-22: a; 2022-23: b" (the form JSON and manifests keep), which runs to hundreds of
  /// characters for eight seasons. Split only before "; <season>: " for the seasons given, so a
  /// "; " inside one season's figure stays where it is.
  public static func figureLines(_ figure: String, seasons: [String]) -> [String] {
    guard seasons.count > 1, seasons.contains(where: { figure.hasPrefix($0 + ": ") }) else { return [figure] }
    var cuts: [String.Index] = []
    for label in Set(seasons) {
      var from = figure.startIndex
      while let r = figure.range(of: "; \(label): ", range: from..<figure.endIndex) {
        cuts.append(r.lowerBound)
        from = r.upperBound
      }
    }
    var lines: [String] = []
    var start = figure.startIndex
    for cut in cuts.sorted() {
      lines.append(String(figure[start..<cut]))
      start = figure.index(cut, offsetBy: 2)
    }
    lines.append(String(figure[start...]))
    return lines
  }
}
