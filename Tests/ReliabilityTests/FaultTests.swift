// Faults a scheduler meets: the process SIGKILLed at any moment of `build` or `import`, a disk
// that fills up under `build`, a read-only Datasets folder, two builds of one dataset at once,
// and `verify` reading while `build` publishes. Each test drives the real binary as separate
// processes and then checks what is on disk: never a partial version, the database either
// untouched or fully updated, and the next run succeeding.
import Foundation
import SQLiteSource
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The build every fault test runs: the small real source, one season, a named dataset.
/// `batchRows` changes the files' content, so each value publishes a new version.
func buildArguments(db: String, out: String, batchRows: Int, extra: [String] = []) -> [String] {
  // The small source holds only the season's first days, which the feature set drops as
  // bootstrap unless told to keep them.
  [
    "build", "--quiet", "--db", db, "--season", "2022-23", "--out", out, "--dataset", "rel", "--batch-rows",
    String(batchRows),
    "--include-bootstrap",
  ] + extra
}

func monotonic() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Published versions of dataset `rel` and leftover temporary folders.
func snapshotState(_ out: String) -> (versions: [String], temporary: [String]) {
  let names = (try? FileManager.default.contentsOfDirectory(atPath: out + "/rel")) ?? []
  let versions = names.filter { $0.hasPrefix("v") }.sorted { Int($0.dropFirst()) ?? 0 < Int($1.dropFirst()) ?? 0 }
  return (versions, names.filter { $0.hasPrefix(".tmp-") })
}

/// tmpfs mounts for the full-disk and read-only cases: root and a kernel that allows them.
enum Mounts {
  static let unavailableReason: String? = {
    let probe = NSTemporaryDirectory() + "reliability-mount-probe-\(getpid())"
    try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: probe) }
    guard let r = try? runTool("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe]) else {
      return "cannot run /usr/bin/mount"
    }
    guard r.status == 0 else {
      return "mount -t tmpfs failed (\(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))): needs root"
    }
    _ = try? runTool("/usr/bin/umount", [probe])
    return nil
  }()
  static var available: Bool {
    if let reason = unavailableReason { print("skipping mount-based fault tests: \(reason)") }
    return unavailableReason == nil
  }

  static func tmpfs(_ dir: String, size: String) throws {
    let r = try runTool("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=\(size),mode=0755", "tmpfs", dir])
    guard r.status == 0 else { throw MountError(text: "mount tmpfs on \(dir): \(r.stderr)") }
  }
  /// Whether an ext4 image can be made and loop-mounted (needs mkfs.ext4 and loop devices).
  static let loopUnavailableReason: String? = {
    guard unavailableReason == nil else { return unavailableReason }
    let probe = NSTemporaryDirectory() + "reliability-loop-probe-\(getpid())"
    try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: probe) }
    do {
      let image = try ext4(probe, megabytes: 4)
      unmount(probe)
      try? FileManager.default.removeItem(atPath: image)
      return nil
    } catch {
      return "\(error)"
    }
  }()
  static var loopAvailable: Bool {
    if let reason = loopUnavailableReason { print("skipping ext4 fault tests: \(reason)") }
    return loopUnavailableReason == nil
  }

  /// An ext4 file system of `megabytes` in an image file beside `dir`, loop-mounted on it;
  /// returns the image's path (removed by the caller after unmounting). ext4 takes the data
  /// files' O_DIRECT writes, which tmpfs refuses.
  static func ext4(_ dir: String, megabytes: Int) throws -> String {
    let image = dir + ".ext4"
    guard FileManager.default.createFile(atPath: image, contents: nil), truncate(image, off_t(megabytes << 20)) == 0
    else {
      throw MountError(text: "cannot make \(image)")
    }
    let made = try runTool("/usr/sbin/mkfs.ext4", ["-q", "-F", image])
    guard made.status == 0 else { throw MountError(text: "mkfs.ext4 \(image): \(made.stderr)") }
    let r = try runTool("/usr/bin/mount", ["-o", "loop", image, dir])
    guard r.status == 0 else { throw MountError(text: "mount -o loop \(image) on \(dir): \(r.stderr)") }
    return image
  }
  static func remount(_ dir: String, readOnly: Bool) throws {
    let r = try runTool("/usr/bin/mount", ["-o", readOnly ? "remount,ro" : "remount,rw", dir])
    guard r.status == 0 else { throw MountError(text: "remount \(dir): \(r.stderr)") }
  }
  /// Always called in a `defer`; retries while a just-killed child still holds a file open.
  static func unmount(_ dir: String) {
    for _ in 0..<50 {
      if (try? runTool("/usr/bin/umount", [dir]))?.status == 0 { return }
      usleep(100_000)
    }
    _ = try? runTool("/usr/bin/umount", ["-l", dir])
  }
  struct MountError: Error, CustomStringConvertible { var text: String; var description: String { text } }
}

@Suite struct FaultTests {
  /// Kill points spread over a whole build, denser towards the end where files are written
  /// and renamed, then kills aimed at the publish itself (as soon as the temporary folder,
  /// then its first data file, appears). After every kill: only whole versions are listed,
  /// and each verifies; at the end a normal run succeeds and no temporary folder is left.
  @Test func sigkillAtManyPointsOfBuild() throws {
    let s = Scratch()
    defer { s.remove() }
    let db = try SmallSource.copy(to: s.path("league.sqlite"))
    let out = s.path("Datasets")
    let t0 = monotonic()
    let first = try runCLI(buildArguments(db: db, out: out, batchRows: 4096))
    let duration = monotonic() - t0
    try #require(first.status == 0, "\(first)")

    var killedMidPublish = 0
    var batchRows = 100
    func check(_ label: String) throws {
      let state = snapshotState(out)
      let verify = try runCLI(["verify", out])
      #expect(verify.status == 0, "after \(label): \(verify)")
      #expect(
        verify.stdout == "ok: \(state.versions.count) version\(state.versions.count == 1 ? "" : "s") verified\n",
        "after \(label)")
      #expect(state.versions == (1...state.versions.count).map { "v\($0)" }, "after \(label)")
    }
    for fraction in [0.1, 0.4, 0.7, 0.85, 0.95, 1.0] {
      batchRows += 1
      let p = try CLIProcess(buildArguments(db: db, out: out, batchRows: batchRows))
      usleep(useconds_t(duration * fraction * 1_000_000))
      p.kill()
      let r = p.wait()
      #expect(r.signal == SIGKILL || r.status == 0, "\(r)")
      try check("kill at \(Int(fraction * 100))% of \(duration) s")
    }
    for target in ["temporary folder", "data file"] {
      for _ in 0..<2 {
        batchRows += 1
        let p = try CLIProcess(buildArguments(db: db, out: out, batchRows: batchRows))
        let deadline = monotonic() + duration * 3 + 5
        var hit = false
        while !hit && monotonic() < deadline {
          let tmp = snapshotState(out).temporary
          if target == "temporary folder" {
            hit = !tmp.isEmpty
          } else {
            hit = tmp.contains {
              ((try? FileManager.default.contentsOfDirectory(atPath: out + "/rel/" + $0)) ?? []).contains(
                "2022-23.arrow")
            }
          }
          if !hit {
            if p.hasExited() { break }  // finished before the poll saw it
            usleep(200)
          }
        }
        p.kill()
        let r = p.wait()
        if hit && r.signal == SIGKILL { killedMidPublish += 1 }
        try check("kill when the \(target) appeared")
      }
    }
    print(
      "sigkillAtManyPointsOfBuild: 10 kills, \(killedMidPublish) landed while a temporary folder existed; build takes \(duration) s"
    )

    // The next run succeeds and sweeps the dead builds' temporary folders.
    batchRows += 1
    let next = try runCLI(buildArguments(db: db, out: out, batchRows: batchRows))
    #expect(next.status == 0, "\(next)")
    #expect(next.stdout.hasPrefix("built rel/v"), "\(next)")
    try check("the run after the kills")
    #expect(snapshotState(out).temporary == [])
  }

  /// Import is one transaction: killed anywhere, the database holds either the rows it had or
  /// all the new ones, a reader can open it right away, and re-running the import completes.
  @Test func sigkillAtManyPointsOfImport() throws {
    let s = Scratch()
    defer { s.remove() }
    // 250 real games (~6,000 rows): long enough in debug for kills to land inside the
    // transaction, short enough for the suite's budget.
    let season = s.write("games250.csv", try realGames(250))
    let reference = try SmallSource.copy(to: s.path("reference.sqlite"))
    let before = try fingerprint(reference)
    let t0 = monotonic()
    let full = try runCLI(["import", "--db", reference, "--quiet", season])
    let duration = monotonic() - t0
    try #require(full.status == 0, "\(full)")
    let after = try fingerprint(reference)
    #expect(before != after)

    // Time offsets, then two kills aimed inside the transaction: as soon as the rollback
    // journal holds data. Regression: such a kill left a hot journal, and the next read-only
    // open (validate, build) failed with "attempt to write a readonly database".
    var outcomes: [String] = []
    let points: [Double?] = [0.1, 0.4, 0.7, 0.9, 0.99, nil, nil]
    for (i, fraction) in points.enumerated() {
      let db = try SmallSource.copy(to: s.path("killed-\(i).sqlite"))
      let p = try CLIProcess(["import", "--db", db, "--quiet", season])
      if let fraction {
        usleep(useconds_t(duration * fraction * 1_000_000))
      } else {
        let deadline = monotonic() + duration * 3 + 5
        while monotonic() < deadline && !p.hasExited() {
          let size = (try? FileManager.default.attributesOfItem(atPath: db + "-journal")[.size] as? Int) ?? 0
          if size > 4096 { break }
          usleep(200)
        }
      }
      p.kill()
      let r = p.wait()
      let hot = FileManager.default.fileExists(atPath: db + "-journal")
      // The first thing a scheduler runs next is a read: it must see a whole database.
      let read = try runCLI(["validate", "--db", db, "--season", "2022-23", "--json"])
      #expect(
        read.status == 0 || read.status == 2, "read after kill at \(fraction.map { "\($0)" } ?? "journal"): \(read)")
      let now = try fingerprint(db)
      #expect(now == before || now == after, "kill at \(String(describing: fraction)) left \(now)")
      outcomes.append(
        (r.signal == SIGKILL ? (now == before ? "unchanged" : "complete") : "finished") + (hot ? " (hot journal)" : ""))
      if i == points.count - 1 {
        let again = try runCLI(["import", "--db", db, "--quiet", season])
        #expect(again.status == 0, "\(again)")
        #expect(try fingerprint(db) == after)
      }
    }
    print("sigkillAtManyPointsOfImport: import takes \(duration) s; outcomes \(outcomes)")
  }

  /// The disk fills while the data files are written: exit 3 naming the file and ENOSPC,
  /// no version and no temporary folder left; with space again the next build succeeds.
  /// On tmpfs, which refuses O_DIRECT, the files are written buffered.
  @Test(.enabled(if: Mounts.available)) func fullDiskDuringBuild() throws {
    try fullDisk(leavingFree: 16 * 1024) { out in
      try Mounts.tmpfs(out, size: "1m")
      return { Mounts.unmount(out) }
    }
  }

  /// The same on ext4, where the data files' whole blocks are written with O_DIRECT: the
  /// direct write's ENOSPC gets the same message and leaves nothing behind.
  @Test(.enabled(if: Mounts.loopAvailable)) func fullDiskDuringDirectWrites() throws {
    try fullDisk(leavingFree: 64 * 1024) { out in
      let image = try Mounts.ext4(out, megabytes: 8)
      return {
        Mounts.unmount(out)
        try? FileManager.default.removeItem(atPath: image)
      }
    }
  }

  /// A build into a Datasets folder that `mount` turns into a small file system (returning
  /// how to undo it), filled up to `leavingFree` bytes.
  func fullDisk(leavingFree: Int, mount: (String) throws -> () -> Void) throws {
    let s = Scratch()
    defer { s.remove() }
    let db = try SmallSource.copy(to: s.path("league.sqlite"))
    let out = s.path("Datasets")
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let unmount = try mount(out)
    defer { unmount() }
    let filler = out + "/filler"
    fill(filler, leavingFree: leavingFree)
    let r = try runCLI(buildArguments(db: db, out: out, batchRows: 4096))
    #expect(r.status == 3, "\(r)")
    let pattern =
      #"^error: \#(NSRegularExpression.escapedPattern(for: out))/rel/\.tmp-[0-9]+-[0-9a-f]+/2022-23\.arrow: write failed: No space left on device \(errno 28\)\n$"#
    #expect(r.stderr.range(of: pattern, options: .regularExpression) != nil, "\(r)")
    #expect(snapshotState(out).versions == [])
    #expect(snapshotState(out).temporary == [])

    try FileManager.default.removeItem(atPath: filler)
    let again = try runCLI(buildArguments(db: db, out: out, batchRows: 4096))
    #expect(again.status == 0, "\(again)")
    #expect(try runCLI(["verify", out]).status == 0)
  }

  /// A read-only Datasets folder: build says which path and why; reading commands still work.
  @Test(.enabled(if: Mounts.available)) func readOnlyDatasetsFolder() throws {
    let s = Scratch()
    defer { s.remove() }
    let db = try SmallSource.copy(to: s.path("league.sqlite"))
    let out = s.path("Datasets")
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    try Mounts.tmpfs(out, size: "4m")
    defer { Mounts.unmount(out) }

    // Empty and read-only: the dataset folder cannot be made.
    try Mounts.remount(out, readOnly: true)
    let empty = try runCLI(buildArguments(db: db, out: out, batchRows: 4096))
    #expect(empty.status == 3, "\(empty)")
    // Regression: the errno came from FileManager's error code: "Unknown error 642 (errno 642)".
    #expect(empty.stderr == "error: \(out)/rel: mkdir failed: Read-only file system (errno 30)\n")

    // Holding v1 and read-only: the lock cannot be taken, v1 is untouched and still verifies.
    try Mounts.remount(out, readOnly: false)
    #expect(try runCLI(buildArguments(db: db, out: out, batchRows: 4096)).status == 0)
    try Mounts.remount(out, readOnly: true)
    let before = tree(out)
    let second = try runCLI(buildArguments(db: db, out: out, batchRows: 1000))
    #expect(second.status == 3, "\(second)")
    #expect(second.stderr == "error: \(out)/rel/.lock: open failed: Read-only file system (errno 30)\n")
    #expect(tree(out) == before)
    let verify = try runCLI(["verify", out])
    #expect(verify.status == 0 && verify.stdout == "ok: 1 version verified\n", "\(verify)")
    try Mounts.remount(out, readOnly: false)
  }

  /// Two builds of one dataset started together while a third party holds the lock: both wait
  /// and say for whom, then one publishes and the other finds the content already there. With
  /// a short --lock-timeout the loser stops with exit 3 naming the holder.
  @Test func twoBuildsOfOneDatasetAtOnce() throws {
    let s = Scratch()
    defer { s.remove() }
    let db = try SmallSource.copy(to: s.path("league.sqlite"))
    let out = s.path("Datasets")
    try FileManager.default.createDirectory(atPath: out + "/rel", withIntermediateDirectories: true)
    let lockPath = out + "/rel/.lock"
    let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    try #require(fd >= 0)
    #expect(flock(fd, LOCK_EX) == 0)
    _ = ftruncate(fd, 0)
    let pidText = Array("\(getpid())\n".utf8)
    _ = pidText.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }

    let a = try CLIProcess(buildArguments(db: db, out: out, batchRows: 4096))
    let b = try CLIProcess(buildArguments(db: db, out: out, batchRows: 4096))
    let impatient = try runCLI(buildArguments(db: db, out: out, batchRows: 4096, extra: ["--lock-timeout", "0.5"]))
    #expect(impatient.status == 3, "\(impatient)")
    #expect(
      impatient.stderr == """
        another build of rel is running (pid \(getpid())); waiting up to 0.5 s…
        error: another build of rel is still running (pid \(getpid())) after waiting 0.5 s; try again when it finishes

        """)
    // A scheduler parsing --json tells a retry from broken input by the reason.
    let impatientJSON = try runCLI(
      buildArguments(db: db, out: out, batchRows: 4096, extra: ["--lock-timeout", "0", "--json"]))
    #expect(impatientJSON.status == 3, "\(impatientJSON)")
    #expect(impatientJSON.stdout.contains(#""reason" : "lock_timeout""#), "\(impatientJSON)")
    #expect(
      impatientJSON.stderr
        == "error: another build of rel is running (pid \(getpid())), and --lock-timeout 0 does not wait; try again when it finishes\n",
      "\(impatientJSON)")
    // Let a and b reach the lock, then release it.
    let deadline = monotonic() + 60
    while monotonic() < deadline {
      let waiting = [a.errPath, b.errPath].filter {
        ((try? String(contentsOfFile: $0, encoding: .utf8)) ?? "").contains("waiting")
      }
      if waiting.count == 2 { break }
      usleep(20_000)
    }
    flock(fd, LOCK_UN)
    close(fd)
    let ra = a.wait(), rb = b.wait()
    #expect(ra.status == 0 && rb.status == 0, "\(ra)\n\(rb)")
    let waitLine = "another build of rel is running (pid \(getpid())); waiting up to 600 s…\n"
    #expect(ra.stderr == waitLine && rb.stderr == waitLine, "\(ra)\n\(rb)")
    let stdouts = [ra.stdout, rb.stdout].sorted()
    #expect(stdouts[0].hasPrefix("built rel/v1: "), "\(stdouts)")
    #expect(stdouts[1].hasPrefix("nothing changed: the content equals rel/v1 "), "\(stdouts)")
    #expect(snapshotState(out).versions == ["v1"])
    #expect(try runCLI(["verify", out]).stdout == "ok: 1 version verified\n")
  }

  /// Regression: the waiting message printed `Int(timeout)`, which traps for a timeout past
  /// Int's range, so `--lock-timeout 1e300` (accepted by validate as finite) crashed the
  /// moment another build held the lock.
  @Test func hugeLockTimeoutWaitsInsteadOfTrapping() throws {
    let s = Scratch()
    defer { s.remove() }
    let db = try SmallSource.copy(to: s.path("league.sqlite"))
    let out = s.path("Datasets")
    try FileManager.default.createDirectory(atPath: out + "/rel", withIntermediateDirectories: true)
    let fd = open(out + "/rel/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    try #require(fd >= 0)
    defer { close(fd) }
    #expect(flock(fd, LOCK_EX) == 0)
    let p = try CLIProcess(buildArguments(db: db, out: out, batchRows: 4096, extra: ["--lock-timeout", "1e300"]))
    let deadline = monotonic() + 60
    // A trap would also write to stderr, so this loop ends either way.
    while monotonic() < deadline, ((try? String(contentsOfFile: p.errPath, encoding: .utf8)) ?? "").isEmpty {
      usleep(20_000)
    }
    p.kill()
    let r = p.wait()
    #expect(r.signal == SIGKILL, "\(r)")
    #expect(r.stderr == "another build of rel is running; waiting up to 1e+300 s…\n")
  }

  /// `verify` running in a loop over the root while builds publish new versions: every run
  /// sees only whole versions (exit 0), or no version yet.
  @Test func verifyWhileBuildPublishes() throws {
    let s = Scratch()
    defer { s.remove() }
    let db = try SmallSource.copy(to: s.path("league.sqlite"))
    let out = s.path("Datasets")
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let builds = [1000, 1500, 2000]
    let finished = Flag()
    Thread {
      for n in builds { _ = try? runCLI(buildArguments(db: db, out: out, batchRows: n)) }
      finished.set()
    }.start()
    var verifies: [CLIResult] = []
    while !finished.isSet { verifies.append(try runCLI(["verify", out])) }
    let seen = Set(verifies.map { $0.status == 0 ? $0.stdout : "\($0.status): \($0.stdout)\($0.stderr)" })
    let allowed = Set(
      [
        "2: \(out): holds no manifest.json and no snapshot versions\nverify: 1 problem outside any version; no version checked\n"
      ]
        + (1...builds.count).map { "ok: \($0) version\($0 == 1 ? "" : "s") verified\n" })
    #expect(seen.isSubset(of: allowed), "\(seen.subtracting(allowed))")
    #expect(verifies.count > 1)
    #expect(snapshotState(out).versions == ["v1", "v2", "v3"])
    print("verifyWhileBuildPublishes: \(verifies.count) verify runs during \(builds.count) builds saw \(seen.sorted())")
  }
}

final class Flag: @unchecked Sendable {
  private let lock = NSLock()
  private var value = false
  func set() { lock.withLock { value = true } }
  var isSet: Bool { lock.withLock { value } }
}

/// Writes zeros until the filesystem is full, then gives back `leavingFree` bytes.
func fill(_ path: String, leavingFree: Int) {
  // O_CLOEXEC: a child another test spawns meanwhile must not inherit the descriptor, or the
  // filler's space stays allocated after it is removed (seen once: the retry of
  // fullDiskDuringBuild ran out of space in a full `make test`).
  let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
  guard fd >= 0 else { return }
  defer { close(fd) }
  let chunk = [UInt8](repeating: 0, count: 4096)
  var size = 0
  while true {
    let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    if n <= 0 { break }
    size += n
  }
  _ = ftruncate(fd, off_t(max(0, size - leavingFree)))
}

/// What an import changes, as numbers: PGS and PCF row counts and column sums (processed_at,
/// which differs between runs by design, left out).
func fingerprint(_ db: String) throws -> [String] {
  try table(
    db,
    """
    SELECT COUNT(*), TOTAL(points), TOTAL(minutes_played), TOTAL(usage_rate), TOTAL(LENGTH(player_lookup)), MAX(rowid)
    FROM player_game_summary
    """)
    + table(
      db,
      "SELECT COUNT(*), TOTAL(fatigue_score), TOTAL(pace_score), TOTAL(usage_spike_score) FROM player_composite_factors"
    )
}
