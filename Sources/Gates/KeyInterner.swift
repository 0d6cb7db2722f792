import Columnar

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Dense Int32 ids for the text cells of StringColumns, so the gates group and join rows on
/// integers. Building a Swift String per row and hashing it was most of the gates' time.
///
/// Two cells get the same id exactly when their bytes are equal, as SQLite, the feature engine
/// and the source fingerprint tell keys apart (the spec orders keys by their bytes). Swift
/// String equality would merge canonically equivalent spellings ("e\u{301}" and "é"): the
/// gates would then count as duplicates two keys the engine keeps as two players.
struct KeyInterner {
  /// The text of each id, decoded once for messages.
  private(set) var names: [String] = []
  /// Open-addressing table of byte keys: slot → (hash, id + 1); 0 marks an empty slot.
  private var slotHash: [UInt64] = []
  private var slotId: [Int32] = []
  /// Where each id's bytes live.
  private var keyBytes: [UInt8] = []
  private var keyOffsets: [Int] = [0]

  init(capacity: Int = 1024) {
    var size = 16
    while size < capacity * 2 { size <<= 1 }
    slotHash = [UInt64](repeating: 0, count: size)
    slotId = [Int32](repeating: 0, count: size)
  }

  /// The id of every cell of `column`, NULL read as "" as `string(at:)` reads it.
  mutating func ids(of column: StringColumn) -> [Int32] {
    var out = [Int32](repeating: 0, count: column.count)
    column.offsets.withUnsafeBufferPointer { offsets in
      column.bytes.withUnsafeBufferPointer { bytes in
        // Exports list a game's rows together, so game and team cells mostly repeat the cell
        // above: comparing with it skips the hash table for them.
        var previous = (start: 0, end: -1, id: Int32(0))
        for i in 0..<column.count {
          let start = Int(offsets[i]), end = Int(offsets[i + 1])
          let key = UnsafeBufferPointer(rebasing: bytes[start..<end])
          if end - start == previous.end - previous.start
            && (key.isEmpty || memcmp(bytes.baseAddress! + previous.start, key.baseAddress!, key.count) == 0)
          {
            out[i] = previous.id
            continue
          }
          previous = (start, end, id(key))
          out[i] = previous.id
        }
      }
    }
    return out
  }

  /// Eight bytes per multiply (byte-at-a-time FNV-1a was most of the interning time); the top
  /// bit is forced on so a stored hash is never the empty marker 0.
  @inline(__always) static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
    let n = key.count
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(n)
    guard let base = key.baseAddress, n > 0 else { return h | 1 << 63 }
    let raw = UnsafeRawPointer(base)
    var p = 0
    while p + 8 <= n {
      h = (h ^ raw.loadUnaligned(fromByteOffset: p, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
      h ^= h >> 32
      p += 8
    }
    if p < n {
      var w: UInt64 = 0
      for k in p..<n { w |= UInt64(base[k]) << UInt64(8 * (k - p)) }
      h = (h ^ w) &* 0xC4CE_B9FE_1A85_EC53
      h ^= h >> 32
    }
    return h | 1 << 63
  }

  private mutating func id(_ key: UnsafeBufferPointer<UInt8>) -> Int32 {
    let h = KeyInterner.hash(key)
    let mask = slotHash.count - 1
    var slot = Int(truncatingIfNeeded: h ^ (h >> 29)) & mask
    while slotHash[slot] != 0 {
      if slotHash[slot] == h {
        let k = Int(slotId[slot]) - 1
        let s = keyOffsets[k], e = keyOffsets[k + 1]
        if e - s == key.count
          && keyBytes.withUnsafeBufferPointer({ stored in
            key.isEmpty || memcmp(stored.baseAddress! + s, key.baseAddress!, key.count) == 0
          })
        {
          return Int32(k)
        }
      }
      slot = (slot + 1) & mask
    }
    let k = names.count
    keyBytes.append(contentsOf: key)
    keyOffsets.append(keyBytes.count)
    names.append(String(decoding: key, as: UTF8.self))
    slotHash[slot] = h
    slotId[slot] = Int32(k + 1)
    if names.count * 2 > slotHash.count { grow() }
    return Int32(k)
  }

  private mutating func grow() {
    let oldHash = slotHash, oldId = slotId
    let size = slotHash.count * 2
    slotHash = [UInt64](repeating: 0, count: size)
    slotId = [Int32](repeating: 0, count: size)
    let mask = size - 1
    for (h, id) in zip(oldHash, oldId) where h != 0 {
      var slot = Int(truncatingIfNeeded: h ^ (h >> 29)) & mask
      while slotHash[slot] != 0 { slot = (slot + 1) & mask }
      slotHash[slot] = h
      slotId[slot] = id
    }
  }

  /// Rank of each id when the keys are sorted by their bytes, so comparing ranks orders as
  /// comparing the keys.
  var sortRanks: [Int32] {
    var ranks = [Int32](repeating: 0, count: names.count)
    let sorted = keyBytes.withUnsafeBufferPointer { bytes in
      names.indices.sorted { a, b in
        bytes[keyOffsets[a]..<keyOffsets[a + 1]].lexicographicallyPrecedes(bytes[keyOffsets[b]..<keyOffsets[b + 1]])
      }
    }
    for (r, id) in sorted.enumerated() { ranks[id] = Int32(r) }
    return ranks
  }
}
