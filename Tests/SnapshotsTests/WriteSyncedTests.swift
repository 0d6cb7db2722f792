import Foundation
import Testing

@testable import Snapshots

/// `writeSynced` writes whole blocks with O_DIRECT and the rest buffered, or everything
/// buffered where the file system refuses O_DIRECT: the file must hold exactly the bytes given
/// at every length around the block and staging-chunk boundaries, on both kinds of file system.
@Suite struct WriteSyncedTests {
  static let block = SnapshotStore.directBlock
  static let chunk = SnapshotStore.directChunk
  static let lengths = [
    0, 1, block - 1, block, block + 1, 3 * block + 17, chunk - 1, chunk, chunk + block, 3 * chunk + 123,
  ]

  func pattern(_ n: Int, seed: UInt64) -> [UInt8] {
    var x = seed
    return (0..<n).map { _ in
      x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return UInt8(truncatingIfNeeded: x >> 56)
    }
  }

  func roundTrip(in folder: String) throws {
    let store = SnapshotStore(root: folder)
    for (i, n) in Self.lengths.enumerated() {
      let bytes = pattern(n, seed: UInt64(i + 1))
      let path = "\(folder)/file-\(n)"
      try store.writeSynced(path, bytes)
      #expect(Fixture.bytes(path) == bytes, "\(n) bytes in \(folder)")
    }
  }

  /// The project's own disk (ext4 here, where O_DIRECT is taken).
  @Test func exactBytesOnTheScratchFileSystem() throws {
    let folder = Fixture.scratch()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try roundTrip(in: folder)
  }

  /// tmpfs refuses O_DIRECT at open (EINVAL): the whole file is written buffered.
  @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/shm")))
  func exactBytesOnTmpfs() throws {
    let folder = "/dev/shm/dataset-writesynced-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try roundTrip(in: folder)
  }

  /// The name must be new: an existing file is an error naming it, and is left as it was.
  @Test func existingFileIsRefusedAndKept() throws {
    let folder = Fixture.scratch()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = "\(folder)/taken"
    Fixture.write(path, [1, 2, 3])
    #expect(throws: SnapshotError.io(path: path, operation: "create", errno: EEXIST)) {
      try SnapshotStore(root: folder).writeSynced(path, pattern(10_000, seed: 9))
    }
    #expect(Fixture.bytes(path) == [1, 2, 3])
  }
}
