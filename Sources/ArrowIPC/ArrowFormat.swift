// Constants of the Arrow columnar format's IPC layer (format/Schema.fbs, Message.fbs,
// File.fbs; "Arrow Columnar Format" → "Serialization and Interprocess Communication").
// Vtable slot numbers count a union as two slots: its type byte, then its table offset.

#if _endian(big)
  #error("the Arrow writer and reader copy little-endian buffers as they are in memory")
#endif

enum ArrowFormat {
  /// "ARROW1" then two zero bytes, so the first message starts 8-byte aligned.
  static let magic: [UInt8] = Array("ARROW1".utf8)
  static let continuation: UInt32 = 0xFFFF_FFFF
  /// MetadataVersion.V5.
  static let metadataVersionV5: Int16 = 4

  enum MessageHeader: UInt8 {
    case schema = 1, dictionaryBatch = 2, recordBatch = 3, tensor = 4, sparseTensor = 5
  }

  /// `union Type` ids (NONE = 0).
  enum TypeID: UInt8 {
    case null = 1, int = 2, floatingPoint = 3, binary = 4, utf8 = 5, bool = 6, decimal = 7, date = 8, time = 9,
      timestamp = 10, interval = 11, list = 12, struct_ = 13, union = 14, fixedSizeBinary = 15,
      fixedSizeList = 16, map = 17, duration = 18, largeBinary = 19, largeUtf8 = 20, largeList = 21,
      runEndEncoded = 22, binaryView = 23, utf8View = 24, listView = 25, largeListView = 26

    var name: String {
      switch self {
      case .null: "Null"
      case .int: "Int"
      case .floatingPoint: "FloatingPoint"
      case .binary: "Binary"
      case .utf8: "Utf8"
      case .bool: "Bool"
      case .decimal: "Decimal"
      case .date: "Date"
      case .time: "Time"
      case .timestamp: "Timestamp"
      case .interval: "Interval"
      case .list: "List"
      case .struct_: "Struct"
      case .union: "Union"
      case .fixedSizeBinary: "FixedSizeBinary"
      case .fixedSizeList: "FixedSizeList"
      case .map: "Map"
      case .duration: "Duration"
      case .largeBinary: "LargeBinary"
      case .largeUtf8: "LargeUtf8"
      case .largeList: "LargeList"
      case .runEndEncoded: "RunEndEncoded"
      case .binaryView: "BinaryView"
      case .utf8View: "Utf8View"
      case .listView: "ListView"
      case .largeListView: "LargeListView"
      }
    }
  }

  enum MessageSlot { static let version = 0, headerType = 1, header = 2, bodyLength = 3 }
  enum SchemaSlot { static let endianness = 0, fields = 1, customMetadata = 2 }
  enum FieldSlot {
    static let name = 0, nullable = 1, typeType = 2, type = 3, dictionary = 4, children = 5, customMetadata = 6
  }
  enum KeyValueSlot { static let key = 0, value = 1 }
  enum IntSlot { static let bitWidth = 0, isSigned = 1 }
  enum FloatSlot { static let precision = 0 }
  enum DateSlot { static let unit = 0 }
  enum RecordBatchSlot { static let length = 0, nodes = 1, buffers = 2, compression = 3 }
  enum BodyCompressionSlot { static let codec = 0, method = 1 }
  enum FooterSlot { static let version = 0, schema = 1, dictionaries = 2, recordBatches = 3 }

  /// FloatingPoint.precision DOUBLE; Date.unit DAY; CompressionType LZ4_FRAME; method BUFFER.
  static let precisionDouble: Int16 = 2
  static let dateUnitDay: Int16 = 0
  static let codecLZ4Frame: UInt8 = 0
  static let methodBuffer: UInt8 = 0

  /// Sizes of the structs `Block` (offset, metaDataLength + 4 padding, bodyLength), `FieldNode`
  /// (length, null_count) and `Buffer` (offset, length).
  static let blockSize = 24
  static let fieldNodeSize = 16
  static let bufferSize = 16

  /// The key under which a Columnar `Field.meaning` travels in a field's custom_metadata.
  static let meaningKey = "meaning"

  static func padded8(_ n: Int) -> Int { (n + 7) & ~7 }
}

/// How a writer compresses record-batch bodies.
public enum ArrowCompression: String, Sendable, Equatable, CaseIterable {
  /// Arrow `BodyCompression{codec: LZ4_FRAME, method: BUFFER}`: every non-empty buffer is an
  /// 8-byte little-endian uncompressed length followed by one LZ4 frame.
  case lz4Frame = "lz4-frame"
  case none
}
