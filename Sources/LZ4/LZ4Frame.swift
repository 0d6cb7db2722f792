import CLZ4

/// A failure of liblz4's frame API, with `LZ4F_getErrorName` attached.
public struct LZ4Error: Error, CustomStringConvertible, Sendable, Equatable {
  public var operation: String
  public var detail: String
  public var description: String { "LZ4 \(operation) failed: \(detail)" }
}

/// The LZ4 frame format (lz4_Frame_format.md) through liblz4's `LZ4F_*` API: one buffer in,
/// one complete frame out, and back. Arrow's `LZ4_FRAME` body compression and `.csv.lz4`
/// files both use exactly this.
public enum LZ4Frame {
  /// The frame preferences every compression here uses: no content checksum, no dictionary
  /// id, 64 KiB linked blocks, the content size in the header.
  static func preferences(contentSize: Int, level: Int32) -> LZ4F_preferences_t {
    var prefs = LZ4F_preferences_t()
    prefs.frameInfo.blockSizeID = LZ4F_max64KB
    prefs.frameInfo.blockMode = LZ4F_blockLinked
    prefs.frameInfo.contentSize = UInt64(contentSize)
    prefs.compressionLevel = level
    return prefs
  }

  /// The most bytes `compress(_:into:level:)` can write for `inputCount` input bytes.
  public static func compressedBound(_ inputCount: Int, level: Int32 = 1) -> Int {
    var prefs = preferences(contentSize: inputCount, level: level)
    return LZ4F_compressFrameBound(inputCount, &prefs)
  }

  /// Compresses `input` into one frame written at the start of `output`, which must hold at
  /// least `compressedBound(input.count)` bytes; returns the frame's length. Lets a caller
  /// compress straight into its own buffer instead of receiving a new array per frame.
  public static func compress(
    _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, level: Int32 = 1
  ) throws(LZ4Error) -> Int {
    var prefs = preferences(contentSize: input.count, level: level)
    let bound = LZ4F_compressFrameBound(input.count, &prefs)
    guard output.count >= bound else {
      throw LZ4Error(
        operation: "compress",
        detail: "output holds \(output.count) bytes, a frame of \(input.count) input bytes needs up to \(bound)")
    }
    let written = LZ4F_compressFrame(output.baseAddress, output.count, input.baseAddress, input.count, &prefs)
    if LZ4F_isError(written) != 0 {
      throw LZ4Error(operation: "compress", detail: String(cString: LZ4F_getErrorName(written)))
    }
    return written
  }

  /// Compresses `input` into one frame. Deterministic: no content checksum, no dictionary
  /// id, fixed block size, so the same input gives the same bytes everywhere.
  public static func compress(_ input: UnsafeRawBufferPointer, level: Int32 = 1) throws(LZ4Error) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: compressedBound(input.count, level: level))
    var failure: LZ4Error?
    let written = out.withUnsafeMutableBytes { dst -> Int in
      do throws(LZ4Error) { return try compress(input, into: dst, level: level) } catch {
        failure = error
        return 0
      }
    }
    if let failure { throw failure }
    out.removeSubrange(written...)
    return out
  }

  public static func compress(_ input: [UInt8], level: Int32 = 1) throws(LZ4Error) -> [UInt8] {
    do {
      return try input.withUnsafeBytes { buf in try compress(buf, level: level) }
    } catch let e as LZ4Error { throw e } catch { throw LZ4Error(operation: "compress", detail: "\(error)") }
  }

  /// Decompresses a whole frame. When `expectedSize` is given (Arrow writes the uncompressed
  /// length before each frame), the output must be exactly that long: a frame that claims
  /// more or yields less is an error, and no more than `expectedSize` bytes are allocated.
  /// Without it, output is capped at `maxSize`.
  public static func decompress(
    _ input: UnsafeRawBufferPointer, expectedSize: Int? = nil, maxSize: Int = 1 << 32, concatenated: Bool = false
  ) throws(LZ4Error) -> [UInt8] {
    var ctx: OpaquePointer?
    let rc = LZ4F_createDecompressionContext(&ctx, UInt32(LZ4F_VERSION))
    guard LZ4F_isError(rc) == 0, let ctx else {
      throw LZ4Error(operation: "decompress", detail: String(cString: LZ4F_getErrorName(rc)))
    }
    defer { LZ4F_freeDecompressionContext(ctx) }
    let limit = expectedSize ?? maxSize
    var out = [UInt8]()
    out.reserveCapacity(min(limit, max(input.count * 4, 64)))
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    var consumed = 0
    var finished = false
    while consumed < input.count {
      var srcSize = input.count - consumed
      var dstSize = chunk.count
      let hint = chunk.withUnsafeMutableBytes { dst in
        LZ4F_decompress(ctx, dst.baseAddress, &dstSize, input.baseAddress! + consumed, &srcSize, nil)
      }
      if LZ4F_isError(hint) != 0 {
        throw LZ4Error(operation: "decompress", detail: String(cString: LZ4F_getErrorName(hint)))
      }
      consumed += srcSize
      if out.count + dstSize > limit {
        throw LZ4Error(operation: "decompress", detail: "frame holds more than the \(limit) bytes declared for it")
      }
      out.append(contentsOf: chunk[0..<dstSize])
      if hint == 0 {
        finished = true
        // `lz4 -c a >> f; lz4 -c b >> f` makes frames back to back, which the lz4 CLI reads
        // as one stream; a finished context starts the next frame by itself.
        if concatenated && consumed < input.count {
          finished = false
          continue
        }
        break
      }
      if srcSize == 0 && dstSize == 0 { break }
    }
    if !finished {
      throw LZ4Error(
        operation: "decompress", detail: "frame is truncated (\(input.count) bytes read, frame not complete)")
    }
    if consumed != input.count {
      throw LZ4Error(operation: "decompress", detail: "\(input.count - consumed) bytes after the end of the frame")
    }
    if let expectedSize, out.count != expectedSize {
      throw LZ4Error(operation: "decompress", detail: "frame holds \(out.count) bytes, \(expectedSize) were declared")
    }
    return out
  }

  public static func decompress(_ input: [UInt8], expectedSize: Int? = nil, concatenated: Bool = false) throws(LZ4Error)
    -> [UInt8]
  {
    do {
      return try input.withUnsafeBytes { buf in
        try decompress(buf, expectedSize: expectedSize, concatenated: concatenated)
      }
    } catch let e as LZ4Error { throw e } catch { throw LZ4Error(operation: "decompress", detail: "\(error)") }
  }
}
