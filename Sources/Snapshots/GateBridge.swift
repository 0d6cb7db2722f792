import Features
import Foundation
import Gates

extension Manifest.GateRecord {
  /// The manifest's copy of a gate result. The one-line `summary` is left out: it is the first
  /// evidence entries again, shortened for the terminal.
  public init(_ r: GateResult) {
    self.init(
      name: r.name, status: r.status.rawValue, figure: r.figure, value: r.value, threshold: r.threshold,
      evidence: r.evidence, evidenceTotal: r.evidenceTotal, override: r.overridden ? (r.overrideReason ?? "") : nil)
  }
}

extension Manifest.BuildConfig {
  /// Gate thresholds flattened to `gate.setting` keys, e.g. `usage_rate_coverage.season_fail_below_percent`.
  public static func thresholds(_ config: GateConfig) -> [String: Double] {
    guard let data = try? JSONEncoder().encode(config),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return [:] }
    var out: [String: Double] = [:]
    for (gate, inner) in object {
      guard let settings = inner as? [String: Any] else { continue }
      for (key, value) in settings {
        if let n = value as? NSNumber { out["\(gate).\(key)"] = n.doubleValue }
      }
    }
    return out
  }

  /// The thresholds this build applied, with every setting a newer tool has and an older
  /// manifest lacks filled in at its default: a setting is added only for a number that was a
  /// constant of that same value until then (value_ranges' bounds, session 18), so the older
  /// build applied exactly the default. Without this, the first build after an upgrade made a
  /// byte-identical new version of every dataset (a regression hunt).
  public var thresholdsInForce: [String: Double] {
    Self.defaultThresholds.merging(thresholds) { _, recorded in recorded }
  }

  static let defaultThresholds = thresholds(.defaults)
}

extension Manifest.FeatureSetRef {
  /// Name, version and the SHA-256 of the spec file exactly as read.
  public init(_ spec: FeatureSetSpec) {
    self.init(name: spec.name, version: String(spec.version), sha256: Digest.hex(spec.rawBytes))
  }
}

extension Manifest.GateRecord {
  /// The point-in-time check as a gate line (gates.md lists it last; it runs after features).
  public init(pointInTime r: PointInTimeResult) {
    let evidence = r.mismatches.prefix(20).map(\.description)
    self.init(
      name: "point_in_time", status: r.passed ? "pass" : "fail",
      figure: "\(r.checkedRows) sampled rows recomputed from inputs cut at their date, \(r.mismatches.count) differ",
      value: Double(r.mismatches.count), threshold: "0 mismatches", evidence: Array(evidence),
      evidenceTotal: r.mismatches.count, override: nil)
  }
}

extension Manifest {
  /// `built_with_overrides` as a build sets it and verify expects it: an override is in the
  /// config or on a gate. One copy for both.
  static func isBuiltWithOverrides(config: BuildConfig, gates: [GateRecord]) -> Bool {
    !config.overrides.isEmpty || gates.contains { $0.override != nil }
  }

  /// The config's overrides that overrode a gate: those the nothing-changed rule compares. A
  /// build before session 15 also recorded an override of a gate that passed.
  var overridesThatOverrode: [OverrideRecord] {
    config.overrides.filter { o in gates.contains { $0.name == o.gate && $0.override != nil } }
  }

  /// What a build could not have published: a gate of unknown status, a failed gate without
  /// an override, an override recorded on a gate but not in `config.overrides`, or a
  /// `built_with_overrides` that disagrees with both. A hand edit that hides an override
  /// consistently in every place cannot be seen here (the manifest carries no signature); one
  /// that forgets a place can.
  func gateProblems() -> [String] {
    // Not checked: that every gate of today's list is present, as a snapshot built before a
    // gate existed must still verify.
    var out: [String] = []
    for g in gates {
      if !["pass", "warn", "fail"].contains(g.status) {
        out.append("gate \(g.name) has status \(g.status), expected pass, warn or fail")
      }
      if g.status == "fail" && g.override == nil {
        out.append("gate \(g.name) failed and carries no override: a build publishes a failed gate only with one")
      }
      if let reason = g.override, !config.overrides.contains(OverrideRecord(gate: g.name, reason: reason)) {
        out.append("gate \(g.name) was overridden (\"\(reason)\") but config.overrides does not list it")
      }
    }
    let overridden = Self.isBuiltWithOverrides(config: config, gates: gates)
    if builtWithOverrides != overridden {
      out.append("built_with_overrides is \(builtWithOverrides) but its gates and config.overrides say \(overridden)")
    }
    return out
  }
}
