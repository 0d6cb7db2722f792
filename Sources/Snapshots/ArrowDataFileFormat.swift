import ArrowIPC
import Columnar

/// Data files as Arrow IPC files with LZ4_FRAME body compression (spec/snapshot.md "Data
/// files"). `decode` decodes every batch so a corrupt buffer is found, not only a bad footer.
public struct ArrowDataFileFormat: DataFileFormat {
  public init() {}

  public func encode(_ table: Table, batchRows: Int, metadata: [Metadatum] = []) throws -> [UInt8] {
    try ArrowFile.encode(table, schemaMetadata: metadata, compression: .lz4Frame, batchRows: batchRows)
  }

  public func decode(_ bytes: [UInt8]) throws -> (table: Table, batchRows: [Int]) {
    let reader = try ArrowFileReader(bytes: bytes)
    return (try reader.readAll(), reader.batchRowCounts)
  }
}
