/// SplitMix64 (Sebastiano Vigna): a seeded generator that gives the same sequence on every
/// platform, unlike the system generator, so every randomised test case is reproducible from
/// its seed. One definition for every test target.
public struct SeededRandom: RandomNumberGenerator, Sendable {
  public var state: UInt64

  public init(seed: UInt64) { state = seed }
  public init(state: UInt64) { self.state = state }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// 0..<n (n > 0), by modulo: the tiny bias does not matter to a test input.
  public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
  /// True about `percent` times in a hundred.
  public mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
  public mutating func pick<T>(_ xs: [T]) -> T { xs[below(xs.count)] }
}
