/// One bit per row: 1 = the value is present, 0 = NULL.
///
/// The layout is Arrow's (least-significant bit first within each byte, little-endian words), so the
/// Arrow writer can hand the words to the file as they are. Bits past `count` are always zero:
/// `checkInvariants()` enforces it, and both `nullCount` and Arrow readers rely on it.
public struct ValidityBitmap: Sendable, Equatable, Hashable {
  public private(set) var words: [UInt64]
  public private(set) var count: Int

  public init() {
    words = []
    count = 0
  }

  /// A bitmap of `count` rows, all valid or all NULL.
  public init(count: Int, allValid: Bool) {
    precondition(count >= 0, "negative bitmap length")
    self.count = count
    let wordCount = (count + 63) / 64
    if allValid {
      words = [UInt64](repeating: ~0, count: wordCount)
      let tail = count % 64
      if tail != 0 { words[wordCount - 1] = (UInt64(1) << UInt64(tail)) - 1 }
    } else {
      words = [UInt64](repeating: 0, count: wordCount)
    }
  }

  /// Builds a bitmap from Arrow's packed bytes (LSB first). Bits past `count` are cleared.
  public init(packedBytes: UnsafeRawBufferPointer, count: Int) {
    precondition(packedBytes.count * 8 >= count, "bitmap bytes shorter than its length")
    self.count = count
    let wordCount = (count + 63) / 64
    var words = [UInt64](repeating: 0, count: wordCount)
    let byteCount = (count + 7) / 8
    words.withUnsafeMutableBytes { dst in
      // Safe: dst holds wordCount*8 >= byteCount bytes, checked by the precondition above.
      dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: packedBytes[0..<byteCount]))
    }
    for i in words.indices { words[i] = UInt64(littleEndian: words[i]) }
    let tail = count % 64
    if tail != 0 { words[wordCount - 1] &= (UInt64(1) << UInt64(tail)) - 1 }
    self.words = words
  }

  public init<S: Sequence>(_ bits: S) where S.Element == Bool {
    self.init()
    for bit in bits { append(bit) }
  }

  public subscript(index: Int) -> Bool {
    @inlinable get {
      precondition(index >= 0 && index < count, "bitmap index \(index) out of range 0..<\(count)")
      return (words[index &>> 6] &>> UInt64(index & 63)) & 1 == 1
    }
    set {
      precondition(index >= 0 && index < count, "bitmap index \(index) out of range 0..<\(count)")
      let mask = UInt64(1) << UInt64(index & 63)
      if newValue { words[index &>> 6] |= mask } else { words[index &>> 6] &= ~mask }
    }
  }

  /// The rows `indices` of this bitmap, in that order, written a word at a time.
  public func gather(_ indices: [Int]) -> ValidityBitmap {
    var out = ValidityBitmap(count: indices.count, allValid: false)
    words.withUnsafeBufferPointer { src in
      out.words.withUnsafeMutableBufferPointer { dst in
        for (k, i) in indices.enumerated() {
          precondition(i >= 0 && i < count, "bitmap index \(i) out of range 0..<\(count)")
          dst[k &>> 6] |= ((src[i &>> 6] &>> UInt64(i & 63)) & 1) &<< UInt64(k & 63)
        }
      }
    }
    return out
  }

  public mutating func append(_ bit: Bool) {
    if count & 63 == 0 { words.append(0) }
    if bit { words[count &>> 6] |= UInt64(1) << UInt64(count & 63) }
    count += 1
  }

  /// Appends every bit of `other` after this bitmap's, a word at a time: `dataset verify`
  /// joins each file's record batches this way, and a bit at a time that was 9 % of its CPU.
  public mutating func append(contentsOf other: ValidityBitmap) {
    guard other.count > 0 else { return }
    let shift = count & 63
    let total = count + other.count
    if shift == 0 {
      words.append(contentsOf: other.words)
    } else {
      // Each word of `other` fills the free high bits of the last word and starts the next;
      // the bits past `total` stay zero because `other`'s bits past its count are zero.
      words.reserveCapacity((total + 63) / 64)
      for w in other.words {
        words[words.count - 1] |= w << UInt64(shift)
        words.append(w >> UInt64(64 - shift))
      }
      words.removeLast(words.count - (total + 63) / 64)
    }
    count = total
  }

  public mutating func reserveCapacity(_ n: Int) { words.reserveCapacity((n + 63) / 64) }

  public var nullCount: Int {
    var valid = 0
    for w in words { valid += w.nonzeroBitCount }
    return count - valid
  }

  public var allValid: Bool { nullCount == 0 }

  /// The packed bytes Arrow stores: ceil(count/8) bytes, LSB first.
  public var packedBytes: [UInt8] {
    let byteCount = (count + 7) / 8
    var out = [UInt8](repeating: 0, count: byteCount)
    for i in 0..<byteCount {
      out[i] = UInt8(truncatingIfNeeded: words[i >> 3] >> UInt64((i & 7) * 8))
    }
    return out
  }

  public func checkInvariants() {
    precondition(words.count == (count + 63) / 64, "bitmap word count disagrees with its length")
    let tail = count % 64
    if tail != 0, let last = words.last {
      precondition(last >> UInt64(tail) == 0, "bitmap has set bits past its length")
    }
  }
}
