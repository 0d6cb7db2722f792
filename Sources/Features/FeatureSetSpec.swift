import Columnar
import Foundation

/// A feature set as declared by a JSON file in `Schemas/features/` (format: docs/FEATURES.md).
/// The file is the single declaration of the output schema: keys, labels, windows, schedule
/// context and composite factors, in output order. Adding a feature set means writing a file.
public struct FeatureSetSpec: Sendable, Equatable {
  public var name: String
  public var version: Int
  public var description: String
  public var derivedSources: [DerivedSource]
  public var columns: [FeatureColumn]
  /// Where the spec was read from ("<memory>" when parsed from bytes), and the exact bytes, so
  /// Snapshots can hash what the engine actually used.
  public var path: String
  public var rawBytes: [UInt8]

  /// The output fields, in file order.
  /// The output schema: each column's name, type, nullability, meaning and `kind` (metadata).
  public var fields: [Field] { columns.map(\.field) }
}

/// A per-row value computed from PGS columns before any window sees it.
public struct DerivedSource: Sendable, Equatable {
  public enum Operation: String, Sendable, CaseIterable { case sum }
  public var name: String
  public var operation: Operation
  /// PGS columns (SQL names); the result is NULL when any of them is NULL.
  public var operands: [String]
  public var meaning: String
}

public enum KeySource: String, Sendable, CaseIterable {
  case gameDate = "game_date", seasonYear = "season_year", playerLookup = "player_lookup", gameId = "game_id"
  case teamAbbr = "team_abbr", opponentTeamAbbr = "opponent_team_abbr", isHome = "is_home"

  var type: ColumnType {
    switch self {
    case .gameDate: .date32
    case .seasonYear: .int32
    case .isHome: .bool
    case .playerLookup, .gameId, .teamAbbr, .opponentTeamAbbr: .utf8
    }
  }
}

/// Where a rolling window sits relative to the row's game date D. Every kind covers only the
/// history H (games strictly before D); `FeatureWindow.bounds` is the one place that says so.
public enum WindowKind: String, Sendable, CaseIterable {
  /// The last n games of H (all of H when shorter).
  case lastGames = "last_games"
  /// All of H.
  case season
  /// Games of H dated D−n … D−1.
  case lastDays = "last_days"
}

public struct FeatureWindow: Sendable, Hashable {
  public var kind: WindowKind
  /// Games (last_games) or days (last_days); 0 for season.
  public var n: Int
}

public enum Aggregate: String, Sendable, CaseIterable {
  case mean, std, sum, count, slope, last
}

public enum ScheduleMeasure: String, Sendable, CaseIterable {
  /// D minus the date of H's last game; NULL when H is empty.
  case daysRest = "days_rest"
  /// days_rest = 1; false when H is empty.
  case backToBack = "back_to_back"
}

public enum CompositeSource: String, Sendable, CaseIterable {
  case fatigueScore = "fatigue_score", shotZoneMismatchScore = "shot_zone_mismatch_score", paceScore = "pace_score"
  case usageSpikeScore = "usage_spike_score", totalCompositeAdjustment = "total_composite_adjustment"
  /// true when a PCF row with the same (player_lookup, game_date) exists.
  case present

  var type: ColumnType {
    switch self {
    case .fatigueScore: .int32
    case .present: .bool
    default: .float64
    }
  }
}

public struct FeatureColumn: Sendable, Equatable {
  public enum Kind: Sendable, Equatable {
    case key(KeySource)
    /// The row's own game value of a stat source (a target, never an input).
    case label(source: String)
    /// An aggregate over a window of H. `source` is nil only for `count` of games.
    case window(source: String?, window: FeatureWindow, aggregate: Aggregate, minPeriods: Int)
    case schedule(ScheduleMeasure)
    case composite(CompositeSource)

    /// As the spec file spells it ("key", "label", "window", "schedule", "composite"); every
    /// data file carries it in each column's metadata under `kind`.
    public var name: String {
      switch self {
      case .key: "key"
      case .label: "label"
      case .window: "window"
      case .schedule: "schedule"
      case .composite: "composite"
      }
    }
  }
  public var name: String
  public var kind: Kind
  public var type: ColumnType
  public var nullable: Bool
  public var meaning: String

  /// This column in a table's schema.
  public var field: Field {
    Field(name: name, type: type, nullable: nullable, meaning: meaning, metadata: [Metadatum("kind", kind.name)])
  }
}

/// A spec file that cannot be used, naming the file, the field (JSON path) and the value.
public struct FeatureSpecError: Error, Equatable, CustomStringConvertible {
  public var path: String
  /// JSON path of the offending field, e.g. `columns[12].aggregate`.
  public var field: String
  public var message: String

  public var description: String { "feature spec \(path): \(field): \(message)" }
}

extension FeatureSetSpec {
  /// The PGS columns a stat source may name directly (SQL names).
  public static let pgsStatColumns: [String] = [
    "minutes_played", "points", "fg_makes", "fg_attempts", "three_pt_makes", "three_pt_attempts", "ft_makes",
    "ft_attempts", "offensive_rebounds", "defensive_rebounds", "assists", "steals", "blocks", "turnovers",
    "personal_fouls", "plus_minus", "usage_rate",
  ]
  static let floatPGSColumns: Set<String> = ["minutes_played", "usage_rate"]

  /// True when the stat source holds integers (labels may then be int32).
  public func sourceIsInteger(_ name: String) -> Bool {
    if let d = derivedSources.first(where: { $0.name == name }) {
      return d.operands.allSatisfy(sourceIsInteger)
    }
    return !Self.floatPGSColumns.contains(name)
  }

  public static func load(path: String) throws(FeatureSpecError) -> FeatureSetSpec {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw FeatureSpecError(path: path, field: "(file)", message: "cannot read the file (missing or unreadable)")
    }
    return try parse(bytes: [UInt8](data), path: path)
  }

  /// A feature set the binary carries (`props_v1`), as `dataset build --feature-set props_v1`
  /// uses it without a Schemas/ folder; nil for a name it does not carry.
  public static func builtIn(named name: String) -> FeatureSetSpec? {
    guard let text = builtIn[name] else { return nil }
    return try? parse(bytes: Array(text.utf8), path: "built-in \(name)")
  }

  public static func parse(bytes: [UInt8], path: String = "<memory>") throws(FeatureSpecError) -> FeatureSetSpec {
    let object: JSONValue
    do {
      object = try JSONValue.parse(bytes)
    } catch {
      throw FeatureSpecError(path: path, field: "(file)", message: "not valid JSON: \(error)")
    }
    let p = SpecParser(path: path)
    let root = try p.object(object, at: "(root)")
    try p.onlyKeys(root, ["name", "version", "description", "derived_sources", "columns"], at: "")
    let name = try p.string(root, "name", at: "")
    // The name is also the default dataset name and a file name (Schemas/features/<name>.json).
    guard isFileSafeName(name) else {
      throw p.error(
        "name",
        "\(p.show(.string(name))) is not usable: expected 1 to 100 ASCII letters, digits, '_', '-' or '.', not starting with '.' or '-'"
      )
    }
    let version = try p.int(root, "version", at: "")
    guard version >= 1 else { throw p.error("version", "must be at least 1, got \(version)") }
    let description = try p.optionalString(root, "description", at: "") ?? ""

    var derived: [DerivedSource] = []
    let derivedList = try p.optionalArray(root, "derived_sources", at: "") ?? []
    for (i, item) in derivedList.enumerated() {
      let at = "derived_sources[\(i)]"
      let o = try p.object(item, at: at)
      try p.onlyKeys(o, ["name", "op", "of", "meaning"], at: at)
      let dname = try p.string(o, "name", at: at)
      guard isIdentifier(dname) else {
        throw p.error("\(at).name", "\(p.show(.string(dname))) is not usable: \(identifierRule)")
      }
      if pgsStatColumns.contains(dname) || derived.contains(where: { $0.name == dname }) {
        throw p.error("\(at).name", "duplicate source name \"\(dname)\"")
      }
      // A source named like a key or a PCF column would read, in a column's "source", as that
      // column while it sums PGS stats.
      if KeySource(rawValue: dname) != nil || CompositeSource(rawValue: dname) != nil {
        throw p.error("\(at).name", "\"\(dname)\" names a key or player_composite_factors column; choose another name")
      }
      let opText = try p.string(o, "op", at: at)
      guard let op = DerivedSource.Operation(rawValue: opText) else {
        throw p.error(
          "\(at).op", "unknown operation \"\(opText)\"; expected one of \(p.list(DerivedSource.Operation.allCases))")
      }
      let operandsAny = try p.array(o, "of", at: at)
      var operands: [String] = []
      for (k, v) in operandsAny.enumerated() {
        guard case .string(let s) = v else { throw p.error("\(at).of[\(k)]", "expected a string, got \(p.show(v))") }
        guard pgsStatColumns.contains(s) else {
          throw p.error(
            "\(at).of[\(k)]",
            "unknown column \"\(s)\"; expected a player_game_summary stat column: \(pgsStatColumns.joined(separator: ", "))"
          )
        }
        operands.append(s)
      }
      guard operands.count >= 2 else { throw p.error("\(at).of", "needs at least 2 columns, got \(operands.count)") }
      derived.append(
        DerivedSource(
          name: dname, operation: op, operands: operands, meaning: try p.optionalString(o, "meaning", at: at) ?? ""))
    }
    let sourceNames = pgsStatColumns + derived.map(\.name)

    var columns: [FeatureColumn] = []
    var seen: [String: Int] = [:]
    // The keys a column of each kind takes: a key outside them is a typo ("typ"), said before
    // the keys the kind requires are looked up (which would call "type" missing).
    let commonKeys = ["name", "kind", "type", "nullable", "meaning"]
    let kindKeys: [String: [String]] = [
      "key": ["source"], "label": ["source"], "window": ["source", "window", "aggregate", "min_periods"],
      "schedule": ["measure"], "composite": ["source"],
    ]
    let anyKindKeys = commonKeys + ["source", "window", "aggregate", "min_periods", "measure"]
    let columnList = try p.array(root, "columns", at: "")
    guard !columnList.isEmpty else { throw p.error("columns", "must declare at least one column") }
    for (i, item) in columnList.enumerated() {
      var at = "columns[\(i)]"
      let o = try p.object(item, at: at)
      if case .string(let named)? = o["name"] { at = "columns[\(i)] (\"\(escapingControls(named))\")" }
      if case .string(let k)? = o["kind"], let extra = kindKeys[k] {
        try p.onlyKeys(o, commonKeys + extra, at: at)
      } else {
        try p.onlyKeys(o, anyKindKeys, at: at)
      }
      let cname = try p.string(o, "name", at: at)
      guard isIdentifier(cname) else {
        throw p.error("\(at).name", "\(p.show(.string(cname))) is not usable: \(identifierRule)")
      }
      // Names differing in case alone are one column to SQL, pandas on some platforms, and
      // case-insensitive file systems.
      if let first = seen[cname.lowercased()] {
        throw p.error(
          "\(at).name",
          "duplicate column name \"\(cname)\" (first declared as columns[\(first)]; names compare ignoring case)")
      }
      seen[cname.lowercased()] = i
      let kindText = try p.string(o, "kind", at: at)
      let typeText = try p.string(o, "type", at: at)
      guard let type = ColumnType(rawValue: typeText), type != .int64 else {
        throw p.error("\(at).type", "unknown type \"\(typeText)\"; expected one of int32, float64, bool, utf8, date32")
      }
      let nullable = try p.optionalBool(o, "nullable", at: at) ?? true
      let meaning = try p.optionalString(o, "meaning", at: at) ?? ""
      func requireType(_ expected: [ColumnType], _ why: String) throws(FeatureSpecError) {
        guard expected.contains(type) else {
          throw p.error(
            "\(at).type",
            "\"\(typeText)\" does not fit \(why); expected \(expected.map(\.rawValue).joined(separator: " or "))")
        }
      }
      func statSource(_ field: String) throws(FeatureSpecError) -> String {
        let s = try p.string(o, field, at: at)
        guard sourceNames.contains(s) else {
          throw p.error(
            "\(at).\(field)", "unknown column \"\(s)\"; expected one of \(sourceNames.joined(separator: ", "))")
        }
        return s
      }
      let common = ["name", "kind", "type", "nullable", "meaning"]
      let kind: FeatureColumn.Kind
      switch kindText {
      case "key":
        try p.onlyKeys(o, common + ["source"], at: at)
        let s = try p.string(o, "source", at: at)
        guard let key = KeySource(rawValue: s) else {
          throw p.error("\(at).source", "unknown key column \"\(s)\"; expected one of \(p.list(KeySource.allCases))")
        }
        try requireType([key.type], "key \(s)")
        kind = .key(key)
      case "label":
        try p.onlyKeys(o, common + ["source"], at: at)
        let s = try statSource("source")
        try requireType(Self.integerTypes(sourceIsInteger: derivedOrPGSInteger(s, derived)), "label of \(s)")
        kind = .label(source: s)
      case "window":
        try p.onlyKeys(o, common + ["source", "window", "aggregate", "min_periods"], at: at)
        let aggText = try p.string(o, "aggregate", at: at)
        guard let agg = Aggregate(rawValue: aggText) else {
          throw p.error(
            "\(at).aggregate", "unknown aggregate \"\(aggText)\"; expected one of \(p.list(Aggregate.allCases))")
        }
        var source: String? = nil
        if o["source"] != nil || agg != .count { source = try statSource("source") }
        let w = try p.object(o["window"], at: "\(at).window")
        try p.onlyKeys(w, ["kind", "n"], at: "\(at).window")
        let wkText = try p.string(w, "kind", at: "\(at).window")
        guard let wk = WindowKind(rawValue: wkText) else {
          throw p.error(
            "\(at).window.kind", "unknown window kind \"\(wkText)\"; expected one of \(p.list(WindowKind.allCases))")
        }
        var n = 0
        if wk == .season {
          if w["n"] != nil { throw p.error("\(at).window.n", "a season window takes no n") }
        } else {
          n = try p.int(w, "n", at: "\(at).window")
          guard n >= 1 else { throw p.error("\(at).window.n", "must be at least 1, got \(n)") }
        }
        let minPeriods = try p.int(o, "min_periods", at: at)
        guard minPeriods >= 0 else { throw p.error("\(at).min_periods", "must be at least 0, got \(minPeriods)") }
        if wk == .lastDays, n > Self.maxWindowDays {
          throw p.error(
            "\(at).window.n",
            "\(n) days is more than the calendar holds (at most \(Self.maxWindowDays), 0001-01-01 to 9999-12-31)")
        }
        // A game a day at most: n days hold at most n games, as n games do.
        if wk != .season, minPeriods > n {
          throw p.error(
            "\(at).min_periods", "\(minPeriods) exceeds the window's n = \(n), so the column would always be NULL")
        }
        switch agg {
        case .mean, .std, .slope: try requireType([.float64], "aggregate \(aggText)")
        case .count: try requireType([.int32], "aggregate count")
        case .sum, .last:
          let integer = source.map { derivedOrPGSInteger($0, derived) } ?? true
          try requireType(Self.integerTypes(sourceIsInteger: integer), "aggregate \(aggText) of \(source ?? "games")")
        }
        kind = .window(source: source, window: FeatureWindow(kind: wk, n: n), aggregate: agg, minPeriods: minPeriods)
      case "schedule":
        try p.onlyKeys(o, common + ["measure"], at: at)
        let s = try p.string(o, "measure", at: at)
        guard let m = ScheduleMeasure(rawValue: s) else {
          throw p.error(
            "\(at).measure", "unknown schedule measure \"\(s)\"; expected one of \(p.list(ScheduleMeasure.allCases))")
        }
        try requireType([m == .daysRest ? .int32 : .bool], "measure \(s)")
        kind = .schedule(m)
      case "composite":
        try p.onlyKeys(o, common + ["source"], at: at)
        let s = try p.string(o, "source", at: at)
        guard let c = CompositeSource(rawValue: s) else {
          throw p.error(
            "\(at).source", "unknown composite column \"\(s)\"; expected one of \(p.list(CompositeSource.allCases))")
        }
        try requireType([c.type], "composite \(s)")
        kind = .composite(c)
      default:
        throw p.error(
          "\(at).kind", "unknown kind \"\(kindText)\"; expected one of key, label, window, schedule, composite")
      }
      // Readers (verify, pyarrow.dataset partitioning, joins) take a column named like a key
      // for that key.
      if let reserved = KeySource(rawValue: cname), kind != .key(reserved) {
        throw p.error("\(at).name", "\"\(cname)\" is reserved for the \(cname) key (kind \"key\", source \"\(cname)\")")
      }
      columns.append(FeatureColumn(name: cname, kind: kind, type: type, nullable: nullable, meaning: meaning))
    }
    return FeatureSetSpec(
      name: name, version: version, description: description, derivedSources: derived, columns: columns,
      path: path, rawBytes: bytes)
  }

  /// Days from 0001-01-01 to 9999-12-31: a `last_days` window longer than this covers every
  /// date there is (and its date arithmetic would leave Int32).
  public static let maxWindowDays = 3_652_058

  static let identifierRule =
    "expected an identifier: an ASCII letter or '_', then letters, digits or '_' (at most 100)"

  static func integerTypes(sourceIsInteger: Bool) -> [ColumnType] {
    sourceIsInteger ? [.int32, .float64] : [.float64]
  }
}

/// Column and derived-source names: identifiers in every reader (polars, pandas, SQL, the
/// CSV header of `features-csv`), and free of the tab and newline that frame the text
/// `content_sha256` hashes.
private func isIdentifier(_ name: String) -> Bool {
  let u = Array(name.utf8)
  func letter(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 }
  return !u.isEmpty && u.count <= 100 && letter(u[0]) && u.allSatisfy { letter($0) || ($0 >= 48 && $0 <= 57) }
}

/// A name as a terminal shows it in one line: control characters (a newline in a column name)
/// as `\xNN`.
private func escapingControls(_ s: String) -> String {
  guard s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return s }
  return s.unicodeScalars.map { c in
    c.value < 0x20 || c.value == 0x7F
      ? "\\x" + (c.value < 0x10 ? "0" : "") + String(c.value, radix: 16, uppercase: true) : String(c)
  }.joined()
}

private func isFileSafeName(_ name: String) -> Bool {
  let u = Array(name.utf8)
  func ok(_ c: UInt8) -> Bool {
    (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 95 || c == 45 || c == 46
  }
  return !u.isEmpty && u.count <= 100 && u[0] != 46 && u[0] != 45 && u.allSatisfy(ok)
}

private func derivedOrPGSInteger(_ name: String, _ derived: [DerivedSource]) -> Bool {
  if let d = derived.first(where: { $0.name == name }) {
    return d.operands.allSatisfy { !FeatureSetSpec.floatPGSColumns.contains($0) }
  }
  return !FeatureSetSpec.floatPGSColumns.contains(name)
}

/// Typed access to the JSON tree, every failure naming the field.
private struct SpecParser {
  let path: String

  func error(_ field: String, _ message: String) -> FeatureSpecError {
    FeatureSpecError(path: path, field: field.hasPrefix(".") ? String(field.dropFirst()) : field, message: message)
  }

  func join(_ at: String, _ key: String) -> String { at.isEmpty ? key : "\(at).\(key)" }

  func list<T: RawRepresentable>(_ cases: [T]) -> String where T.RawValue == String {
    cases.map(\.rawValue).joined(separator: ", ")
  }

  func show(_ v: JSONValue?) -> String {
    switch v {
    case nil, .null: "null"
    case .bool(let b): "\(b)"
    case .number(let d): d == d.rounded() && abs(d) < 1e15 ? "\(Int(d))" : "\(d)"
    case .string(let s): "\"\(escapingControls(s))\""
    case .array: "an array"
    case .object: "an object"
    }
  }

  func object(_ v: JSONValue?, at: String) throws(FeatureSpecError) -> [String: JSONValue] {
    guard case .object(let o) = v else { throw error(at, "expected an object, got \(show(v))") }
    return o
  }

  func onlyKeys(_ o: [String: JSONValue], _ allowed: [String], at: String) throws(FeatureSpecError) {
    for key in o.keys.sorted() where !allowed.contains(key) {
      throw error(join(at, key), "unknown field; expected one of \(allowed.joined(separator: ", "))")
    }
  }

  func value(_ o: [String: JSONValue], _ key: String, at: String) throws(FeatureSpecError) -> JSONValue {
    guard let v = o[key] else { throw error(join(at, key), "missing") }
    return v
  }

  func string(_ o: [String: JSONValue], _ key: String, at: String) throws(FeatureSpecError) -> String {
    let v = try value(o, key, at: at)
    guard case .string(let s) = v else { throw error(join(at, key), "expected a string, got \(show(v))") }
    return s
  }

  func optionalString(_ o: [String: JSONValue], _ key: String, at: String) throws(FeatureSpecError) -> String? {
    o[key] == nil ? nil : try string(o, key, at: at)
  }

  func int(_ o: [String: JSONValue], _ key: String, at: String) throws(FeatureSpecError) -> Int {
    let v = try value(o, key, at: at)
    guard case .number(let d) = v, let i = Int(exactly: d) else {
      throw error(join(at, key), "expected an integer, got \(show(v))")
    }
    return i
  }

  func optionalBool(_ o: [String: JSONValue], _ key: String, at: String) throws(FeatureSpecError) -> Bool? {
    guard let v = o[key] else { return nil }
    guard case .bool(let b) = v else { throw error(join(at, key), "expected true or false, got \(show(v))") }
    return b
  }

  func array(_ o: [String: JSONValue], _ key: String, at: String) throws(FeatureSpecError) -> [JSONValue] {
    let v = try value(o, key, at: at)
    guard case .array(let a) = v else { throw error(join(at, key), "expected an array, got \(show(v))") }
    return a
  }

  func optionalArray(_ o: [String: JSONValue], _ key: String, at: String) throws(FeatureSpecError) -> [JSONValue]? {
    o[key] == nil ? nil : try array(o, key, at: at)
  }
}
