/// A mean and a standard deviation, as fitted by scripts/fit_synth.py.
public struct Spread: Sendable, Equatable {
  public var mean: Double
  public var sd: Double
  public init(mean: Double, sd: Double) {
    self.mean = mean
    self.sd = sd
  }
}

/// The box-score counts drawn as per-36-minute rates.
public enum RateStat: Int, CaseIterable, Sendable {
  case fga, fta, oreb, dreb, ast, stl, blk, tov, pf
}

/// What a player of one tier looks like in the real sample. A tier is a band of mean minutes per
/// game played; for `per36` the spread's `sd` is between players, on the log scale.
public struct TierParameters: Sendable {
  public var minutesRange: Range<Double>
  /// Share of a team's regulars (≥ 20 games) in this tier.
  public var rosterShare: Double
  /// Games played ÷ team games for a regular of this tier (injuries and coach's decisions included).
  public var appearance: Double
  /// A player's mean minutes per game played, between players of the tier.
  public var meanMinutes: Spread
  /// Game-to-game SD of one player's minutes.
  public var gameMinutesSD: Double
  public var per36: [RateStat: Spread]
  public var threeShare: Spread
  public var twoPointPct: Spread
  public var threePointPct: Spread
  public var freeThrowPct: Spread

  public init(
    minutesRange: Range<Double>, rosterShare: Double, appearance: Double, meanMinutes: Spread, gameMinutesSD: Double,
    per36: [RateStat: Spread], threeShare: Spread, twoPointPct: Spread, threePointPct: Spread, freeThrowPct: Spread
  ) {
    self.minutesRange = minutesRange
    self.rosterShare = rosterShare
    self.appearance = appearance
    self.meanMinutes = meanMinutes
    self.gameMinutesSD = gameMinutesSD
    self.per36 = per36
    self.threeShare = threeShare
    self.twoPointPct = twoPointPct
    self.threePointPct = threePointPct
    self.freeThrowPct = freeThrowPct
  }
}

/// Everything the generator draws from. `fitted` (FittedParameters.swift) comes from the real
/// sample; the league-shape knobs below are choices, not fits, and say so.
public struct SynthParameters: Sendable {
  public var tiers: [TierParameters]
  /// Share of team-games that go to overtime.
  public var overtimeShare: Double
  /// Share of rows with 0 minutes among players who got on the court (real logs: under 30 s).
  public var zeroMinuteShare: Double

  // Choices (the real logs carry no injury or DNP records to fit them on).
  /// Chance per game that a healthy player starts an injury absence.
  public var injuryChancePerGame = 0.012
  /// Mean length of an absence, in team games (geometric).
  public var meanInjuryGames = 7.0
  /// Chance that a healthy player the coach does not use gets a DNP row (MIN 0) in the export.
  public var dnpRowChance = 0.15
  /// Player swaps between teams per season (most at the trade deadline).
  public var tradesPerSeason = 14.0

  public init(tiers: [TierParameters], overtimeShare: Double, zeroMinuteShare: Double) {
    self.tiers = tiers
    self.overtimeShare = overtimeShare
    self.zeroMinuteShare = zeroMinuteShare
  }

  /// The tier whose minutes band holds `minutes` (the last tier past the top).
  public func tier(forMeanMinutes minutes: Double) -> Int {
    tiers.firstIndex { $0.minutesRange.contains(minutes) } ?? (tiers.count - 1)
  }
}
