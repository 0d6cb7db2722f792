import Foundation
import Testing

@testable import Snapshots

#if canImport(Glibc)
  import Glibc
#endif

/// `publish` fsyncs each file on a background queue while the next is written
/// (`BackgroundSyncs`); these tests pin down that a failed fsync is still reported, named, in
/// file order, and that descriptors are closed only once every fsync has returned.
@Suite struct PublishSyncTests {
  /// fsync(2) on a pipe fails with EINVAL: a real failing fsync without a broken disk.
  func pipeWriteEnd() -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    #expect(pipe(&fds) == 0)
    return (fds[0], fds[1])
  }

  /// Whether a pipe's write end has been closed: a non-blocking read of its read end sees
  /// end-of-file (0) only then. Asked through the pipe rather than by the descriptor number,
  /// which tests running in parallel may have reused.
  func writerClosed(_ readEnd: Int32) -> Bool {
    _ = fcntl(readEnd, F_SETFL, O_NONBLOCK)
    var byte: UInt8 = 0
    return read(readEnd, &byte, 1) == 0
  }

  @Test func firstFailedFsyncInFileOrderIsThrownAndEveryDescriptorClosed() throws {
    let root = Fixture.scratch()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let store = SnapshotStore(root: root)
    let good = try store.writeUnsynced("\(root)/a.arrow", [1, 2, 3])
    let first = pipeWriteEnd(), second = pipeWriteEnd()
    defer {
      close(first.read)
      close(second.read)
    }
    let syncs = BackgroundSyncs()
    syncs.add("\(root)/a.arrow", fd: good)
    syncs.add("\(root)/b.arrow", fd: first.write)
    syncs.add("\(root)/c.arrow", fd: second.write)
    #expect(throws: SnapshotError.io(path: "\(root)/b.arrow", operation: "fsync", errno: EINVAL)) { try syncs.finish() }
    syncs.waitAndClose()
    #expect(writerClosed(first.read) && writerClosed(second.read))
    #expect(Fixture.bytes("\(root)/a.arrow") == [1, 2, 3])
  }

  @Test func allFsyncsSucceedingFinishesQuietly() throws {
    let root = Fixture.scratch()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let store = SnapshotStore(root: root)
    let syncs = BackgroundSyncs()
    for i in 0..<12 {
      let fd = try store.writeUnsynced("\(root)/f\(i)", Array(repeating: UInt8(i), count: 70_000 + i))
      syncs.add("\(root)/f\(i)", fd: fd)
    }
    try syncs.finish()
    syncs.waitAndClose()
    syncs.waitAndClose()
    for i in 0..<12 { #expect(Fixture.bytes("\(root)/f\(i)") == Array(repeating: UInt8(i), count: 70_000 + i)) }
  }

  /// An existing file is never overwritten: O_EXCL, named error, nothing left open.
  @Test func writeUnsyncedRefusesAnExistingFile() throws {
    let root = Fixture.scratch()
    defer { try? FileManager.default.removeItem(atPath: root) }
    Fixture.write("\(root)/x", [9])
    #expect(throws: SnapshotError.io(path: "\(root)/x", operation: "create", errno: EEXIST)) {
      _ = try SnapshotStore(root: root).writeUnsynced("\(root)/x", [1])
    }
    #expect(Fixture.bytes("\(root)/x") == [9])
  }
}
