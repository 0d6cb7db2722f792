import Foundation

/// xoshiro256** seeded through SplitMix64 (Blackman & Vigna, "Scrambled linear pseudorandom
/// number generators", 2018). Our own generator, not `SystemRandomNumberGenerator`, because a
/// synthetic league must be identical for a given seed on every machine and Swift version.
public struct SynthRandom: RandomNumberGenerator, Sendable {
  var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

  public init(seed: UInt64) {
    var x = seed
    func splitmix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = splitmix()
    s1 = splitmix()
    s2 = splitmix()
    s3 = splitmix()
  }

  public mutating func next() -> UInt64 {
    let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << 45) | (s3 >> 19)
    return result
  }

  /// Uniform in [0, 1), 53 random bits.
  public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

  /// Uniform in 0..<n (n > 0), by rejection so that no value is favoured.
  public mutating func below(_ n: Int) -> Int {
    precondition(n > 0)
    let bound = UInt64(n)
    let limit = UInt64.max - UInt64.max % bound
    while true {
      let v = next()
      if v < limit { return Int(v % bound) }
    }
  }

  public mutating func chance(_ p: Double) -> Bool { uniform() < p }

  /// Standard normal by Box–Muller (one value per call, so the stream never depends on a cache).
  public mutating func normal() -> Double {
    let u1 = 1.0 - uniform()  // (0, 1]: log never sees 0
    let u2 = uniform()
    return (-2.0 * log(u1)).squareRoot() * cos(2.0 * Double.pi * u2)
  }

  public mutating func normal(_ s: Spread) -> Double { s.mean + s.sd * normal() }

  /// Poisson by Knuth's product method for small means, a rounded normal past 30 (never reached
  /// by box-score rates, kept so a bad parameter cannot loop for long).
  public mutating func poisson(_ mean: Double) -> Int {
    guard mean > 0 else { return 0 }
    if mean > 30 { return max(0, Int((mean + mean.squareRoot() * normal()).rounded())) }
    let limit = exp(-mean)
    var k = 0
    var p = uniform()
    while p > limit {
      k += 1
      p *= uniform()
    }
    return k
  }

  /// Binomial as a sum of Bernoulli trials: n is a player's attempts in one game (small).
  public mutating func binomial(_ n: Int, _ p: Double) -> Int {
    var k = 0
    for _ in 0..<max(0, n) where uniform() < p { k += 1 }
    return k
  }

  /// 1 + a geometric count with the given mean (≥ 1).
  public mutating func geometric(mean: Double) -> Int {
    let p = 1.0 / max(mean, 1.0)
    var k = 1
    while !chance(p) && k < 10_000 { k += 1 }
    return k
  }
}
