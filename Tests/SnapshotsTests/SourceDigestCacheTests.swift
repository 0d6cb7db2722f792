import Foundation
import SQLiteSource
import Testing

@testable import Snapshots

/// The remembered database digest may only ever save time: it is used exactly when the file is
/// provably the one hashed, and every way of changing a file makes it hash again.
@Suite struct SourceDigestCacheTests {
  /// A folder with a database-sized-enough file in it and a cache over that folder. `settle: 0`
  /// lets a file written a moment ago be remembered; the build's own setting is 3 s.
  struct Setup {
    let folder = Fixture.scratch("digestcache")
    var file: String { "\(folder)/source.sqlite" }
    func cache(settle: Double = 0) -> SourceDigestCache {
      SourceDigestCache(root: "\(folder)/Datasets", settle: settle)
    }

    init(bytes: [UInt8] = Array(repeating: 7, count: 3 << 20)) {
      Fixture.write(file, bytes)
      // The file's change time must be strictly before the hash starts.
      usleep(20_000)
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }

    /// Puts `digest` in place of the remembered one, so a reuse is told apart from a recompute;
    /// `reseal: false` leaves the entry's check as it was, as a careless edit or damage would.
    func forge(_ digest: String, reseal: Bool = true) throws {
      let cache = cache()
      var document = cache.load()
      try #require(!document.entries.isEmpty, "nothing remembered to forge")
      document.entries[0].sha256 = digest
      if reseal { document.entries[0].check = document.entries[0].seal }
      Fixture.write(cache.path, Array(try JSONEncoder().encode(document)))
    }
  }

  static let forged = String(repeating: "ab", count: 32)

  @Test func aSettledFileIsHashedOnceThenRemembered() throws {
    let s = Setup()
    defer { s.remove() }
    let truth = try Digest.file(atPath: s.file)
    let first = try s.cache().sha256(ofFileAt: s.file)
    #expect(first.sha256 == truth && !first.reused)
    let second = try s.cache().sha256(ofFileAt: s.file)
    #expect(second.sha256 == truth && second.reused)
    // And it really is the memory that answers: a forged entry comes back as it is.
    try s.forge(Self.forged)
    #expect(try s.cache().sha256(ofFileAt: s.file).sha256 == Self.forged)
  }

  /// A build that stops early stops its hash at the next MiB instead of waiting for the whole
  /// file (2.5 s for a 2.5 GB export before a refusal that takes 0.2 s), and remembers nothing.
  @Test func aStoppedHashEndsAtOnceAndRemembersNothing() throws {
    let s = Setup()
    defer { s.remove() }
    let stop = StopFlag()
    stop.set()
    #expect(throws: SnapshotError.io(path: s.file, operation: "hash (the build stopped)", errno: ECANCELED)) {
      try s.cache().sha256(ofFileAt: s.file, stop: stop)
    }
    #expect(s.cache().load().entries.isEmpty)
    // Not set, the same call hashes the whole file.
    #expect(try s.cache().sha256(ofFileAt: s.file, stop: StopFlag()).sha256 == (try Digest.file(atPath: s.file)))
  }

  @Test func rehashIgnoresTheMemoryAndRefreshesIt() throws {
    let s = Setup()
    defer { s.remove() }
    let truth = try Digest.file(atPath: s.file)
    _ = try s.cache().sha256(ofFileAt: s.file)
    try s.forge(Self.forged)
    let rehashed = try s.cache().sha256(ofFileAt: s.file, reuse: false)
    #expect(rehashed.sha256 == truth && !rehashed.reused)
    #expect(try s.cache().sha256(ofFileAt: s.file) == (truth, true))
  }

  /// One byte changed in place, same size, and the modification time put back exactly as it
  /// was: the change time still moves, so the file is hashed again.
  @Test func anInPlaceEditWithTheOldModificationTimeIsHashedAgain() throws {
    let s = Setup()
    defer { s.remove() }
    _ = try s.cache().sha256(ofFileAt: s.file)
    try s.forge(Self.forged)
    var st = stat()
    try #require(stat(s.file, &st) == 0)
    let fd = open(s.file, O_WRONLY)
    try #require(fd >= 0)
    var byte: UInt8 = 8
    #expect(pwrite(fd, &byte, 1, 1 << 20) == 1)
    close(fd)
    var times = [st.st_atim, st.st_mtim]
    #expect(utimensat(AT_FDCWD, s.file, &times, 0) == 0)
    var after = stat()
    try #require(stat(s.file, &after) == 0)
    #expect(after.st_mtim.tv_sec == st.st_mtim.tv_sec && after.st_mtim.tv_nsec == st.st_mtim.tv_nsec)
    let again = try s.cache().sha256(ofFileAt: s.file)
    #expect(again.sha256 == (try Digest.file(atPath: s.file)) && !again.reused)
    #expect(again.sha256 != Self.forged)
  }

  /// Another file moved over the path (a new export dropped in place) is another inode.
  @Test func aFileReplacedByRenameIsHashedAgain() throws {
    let s = Setup()
    defer { s.remove() }
    _ = try s.cache().sha256(ofFileAt: s.file)
    try s.forge(Self.forged)
    let other = "\(s.folder)/other.sqlite"
    Fixture.write(other, Array(repeating: 9, count: 3 << 20))
    #expect(rename(other, s.file) == 0)
    let again = try s.cache().sha256(ofFileAt: s.file)
    #expect(again.sha256 == (try Digest.file(atPath: s.file)) && !again.reused)
  }

  /// A file changed within `settle` seconds of the hash may still be changing within one
  /// timestamp tick: its digest is returned but not remembered.
  @Test func aFileChangedRecentlyIsNotRemembered() throws {
    let s = Setup()
    defer { s.remove() }
    let cache = s.cache(settle: 3600)
    #expect(try !cache.sha256(ofFileAt: s.file).reused)
    #expect(try !cache.sha256(ofFileAt: s.file).reused)
    #expect(!FileManager.default.fileExists(atPath: cache.path))
  }

  /// The memory only ever saves time: garbage in it, or a remembered value that is not a
  /// digest, means hashing; and the next write replaces the garbage with a good memory.
  @Test func aDamagedMemoryIsIgnoredAndRewritten() throws {
    let s = Setup()
    defer { s.remove() }
    let truth = try Digest.file(atPath: s.file)
    let cache = s.cache()
    try FileManager.default.createDirectory(
      atPath: (cache.path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    for garbage in ["", "{", "[1, 2]", #"{"format": 2, "entries": []}"#, "\u{0}\u{1}binary"] {
      Fixture.write(cache.path, Array(garbage.utf8))
      let got = try cache.sha256(ofFileAt: s.file)
      #expect(got.sha256 == truth && !got.reused, "memory \(garbage.debugDescription)")
    }
    #expect(try cache.sha256(ofFileAt: s.file) == (truth, true))
    try s.forge("not a digest")
    #expect(try cache.sha256(ofFileAt: s.file) == (truth, false))
    // A review changed one hex digit of a remembered digest; the build put it in the manifest,
    // where verify cannot see it. The entry's check no longer matches: hashed again.
    #expect(try cache.sha256(ofFileAt: s.file) == (truth, true))
    try s.forge(Self.forged, reseal: false)
    #expect(try cache.sha256(ofFileAt: s.file) == (truth, false))
    #expect(try cache.sha256(ofFileAt: s.file) == (truth, true))
    // A memory far larger than its 32 entries can be is not ours: not read (a sparse 3 GiB
    // file made a build spend 20 s parsing it), even when it would parse.
    let good = Fixture.bytes(cache.path)
    Fixture.write(cache.path, good + Array(repeating: UInt8(ascii: " "), count: SourceDigestCache.largestFile))
    #expect(try cache.sha256(ofFileAt: s.file) == (truth, false))
  }

  /// A memory that cannot be written (its folder is a file) costs the reuse, not the build.
  @Test func anUnwritableMemoryStillGivesTheDigest() throws {
    let s = Setup()
    defer { s.remove() }
    Fixture.write("\(s.folder)/Datasets", [1])
    let truth = try Digest.file(atPath: s.file)
    #expect(try s.cache().sha256(ofFileAt: s.file) == (truth, false))
    #expect(try s.cache().sha256(ofFileAt: s.file) == (truth, false))
  }

  /// A missing database is reported as hashing it reports it, naming the path.
  @Test func aMissingFileIsAnError() throws {
    let s = Setup()
    defer { s.remove() }
    #expect(throws: SnapshotError.self) { try s.cache().sha256(ofFileAt: "\(s.folder)/absent.sqlite") }
  }

  /// Each file keeps one entry (the newest), and the memory holds at most `capacity` files.
  @Test func oneEntryPerFileAndABoundedMemory() throws {
    let s = Setup(bytes: [1, 2, 3])
    defer { s.remove() }
    let cache = s.cache()
    for i in 0..<(SourceDigestCache.capacity + 5) {
      let path = "\(s.folder)/f\(i)"
      Fixture.write(path, [UInt8(i)])
      usleep(2000)
      _ = try cache.sha256(ofFileAt: path)
      _ = try cache.sha256(ofFileAt: path, reuse: false)
    }
    let entries = cache.load().entries
    #expect(entries.count == SourceDigestCache.capacity)
    #expect(Set(entries.map(\.identity.inode)).count == entries.count)
    #expect(entries.first?.file.hasSuffix("/f\(SourceDigestCache.capacity + 4)") == true)
  }
}

/// Hashing the database beside a read of it: closing any descriptor of a file releases every
/// POSIX lock the process holds on it, SQLite's shared lock included. The build's hash holds
/// its descriptor open until the read is done (`Digest.file(atPath:holdOpenUntil:)`).
@Suite struct DigestBesideAReadTests {
  /// Whether another process can commit a write to `db` right now (no busy wait).
  func anotherProcessCommits(_ db: String) throws -> Bool {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [
      "python3", "-c",
      "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=0); c.execute('INSERT INTO t VALUES (2)'); c.commit()",
      db,
    ]
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    return p.terminationStatus == 0
  }

  @Test func theHashKeepsSQLitesLockUntilTheReadIsDone() throws {
    let folder = Fixture.scratch("digestlock")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let db = "\(folder)/source.sqlite"
    let reader = try Connection(path: db, mode: .readWriteCreate)
    try reader.execute("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
    func beginRead() throws {
      try reader.execute("BEGIN")
      let st = try reader.prepare("SELECT count(*) FROM t")
      _ = try st.step()
    }
    try beginRead()
    #expect(try !anotherProcessCommits(db), "a read transaction holds writers off")

    // Hashed beside the read, the descriptor held until the read is done: still held off.
    let hashed = DispatchSemaphore(value: 0), readDone = DispatchSemaphore(value: 0)
    let digest = DispatchSemaphore(value: 0)
    let thread = Thread {
      _ = try? Digest.file(atPath: db) {
        hashed.signal()
        readDone.wait()
      }
      digest.signal()
    }
    thread.start()
    hashed.wait()
    #expect(try !anotherProcessCommits(db), "the hash dropped the read's lock")
    try reader.execute("COMMIT")
    readDone.signal()
    digest.wait()

    // Why: a hash that closes its descriptor at once lets a writer in mid-read.
    try beginRead()
    _ = try Digest.file(atPath: db)
    #expect(try anotherProcessCommits(db), "closing a descriptor is expected to drop the process's locks")
    try reader.execute("COMMIT")
  }
}

/// `SourceFileWatch`: a build refuses rows and a digest that may describe two states of the file.
@Suite struct SourceFileWatchTests {
  func database(_ folder: String, _ name: String = "source.sqlite") throws -> (String, Connection) {
    let db = "\(folder)/\(name)"
    let c = try Connection(path: db, mode: .readWriteCreate)
    try c.execute("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
    return (db, c)
  }

  @Test func readsLeaveTheFileUnchanged() throws {
    let folder = Fixture.scratch("watch")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let (db, _) = try database(folder)
    let watch = try #require(SourceFileWatch(path: db))
    let reader = try Connection(path: db, mode: .readOnly)
    let st = try reader.prepare("SELECT count(*) FROM t")
    _ = try st.step()
    _ = try Digest.file(atPath: db)
    #expect(watch.change() == nil)
  }

  @Test func aCommitIsSeenByItsChangeCounter() throws {
    let folder = Fixture.scratch("watch")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let (db, writer) = try database(folder)
    let watch = try #require(SourceFileWatch(path: db))
    try writer.execute("INSERT INTO t VALUES (2)")
    let change = try #require(watch.change())
    #expect(change.contains("change counter went from 2 to 3"), "\(change)")
  }

  @Test func aFileMovedOverThePathIsSeen() throws {
    let folder = Fixture.scratch("watch")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let (db, _) = try database(folder)
    let (other, _) = try database(folder, "other.sqlite")
    let watch = try #require(SourceFileWatch(path: db))
    #expect(rename(other, db) == 0)
    #expect(watch.change() == "another file was put in its place")
  }

  /// WAL mode: commits go to the -wal file and leave the counter alone; a checkpoint writes the
  /// main file, which its identity shows.
  @Test func walModeIsWatchedByIdentity() throws {
    let folder = Fixture.scratch("watch")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let (db, writer) = try database(folder)
    try writer.execute("PRAGMA journal_mode = WAL")
    let watch = try #require(SourceFileWatch(path: db))
    try writer.execute("INSERT INTO t VALUES (2)")
    usleep(20_000)
    try writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    #expect(watch.change() != nil)
  }

  @Test func aMissingFileHasNoWatch() {
    #expect(SourceFileWatch(path: "/nonexistent/source.sqlite") == nil)
  }
}
