import LZ4

/// What went wrong reading or writing an Arrow IPC file, in the house order: what failed,
/// where (byte offset, record batch, column, buffer), then the proof (declared vs actual).
public enum ArrowError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The bytes are not an Arrow IPC file at all (size, magic).
  case notArrowFile(proof: String)
  /// A structure read from the file is inconsistent or points outside the file.
  case invalid(what: String, byteOffset: Int, proof: String)
  /// A column's buffers disagree with its row count, offsets, null count or encoding.
  case badColumn(batch: Int, column: String, buffer: Int?, byteOffset: Int?, proof: String)
  /// A body buffer did not decompress, or decompressed to a length other than declared.
  case decompression(batch: Int, column: String, buffer: Int, byteOffset: Int, proof: String)
  /// Valid Arrow, but outside what this reader supports (type, compression, endianness).
  case unsupported(what: String, column: String?, hint: String)
  /// The writer was handed a table it cannot write as declared.
  case writer(proof: String)

  public var description: String {
    switch self {
    case .notArrowFile(let proof):
      return "not an Arrow IPC file: \(proof)"
    case .invalid(let what, let byteOffset, let proof):
      return "invalid Arrow file: \(what) at byte \(byteOffset): \(proof)"
    case .badColumn(let batch, let column, let buffer, let byteOffset, let proof):
      var place = "record batch \(batch), column \"\(column)\""
      if let buffer { place += ", buffer \(buffer)" }
      if let byteOffset { place += " at byte \(byteOffset)" }
      return "invalid Arrow column data: \(place): \(proof)"
    case .decompression(let batch, let column, let buffer, let byteOffset, let proof):
      return
        "Arrow body decompression failed: record batch \(batch), column \"\(column)\", buffer \(buffer) at byte \(byteOffset): \(proof)"
    case .unsupported(let what, let column, let hint):
      let place = column.map { " in column \"\($0)\"" } ?? ""
      return "unsupported Arrow feature: \(what)\(place)" + (hint.isEmpty ? "" : "; \(hint)")
    case .writer(let proof):
      return "cannot write Arrow file: \(proof)"
    }
  }
}
