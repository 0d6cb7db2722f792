import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// One folder per test process for every scratch file the Swift tests write, removed when the
/// process exits. Fixtures built once per process (a real season's database, the small source)
/// had no moment to remove themselves, and each `make test` left about 230 MB in /tmp: after
/// some hundred runs a developer's disk was full (session 17).
public enum TestScratch {
  public static let root: String = {
    removeFoldersOfEndedProcesses()
    let dir = folderOfThisProcess()
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: TestScratch.folderOfThisProcess()) }
    return dir
  }()

  static func folderOfThisProcess() -> String { NSTemporaryDirectory() + "dataset-tests-\(getpid())" }

  /// A test process that crashed ran no `atexit`, and left its folder, with a fault test's
  /// file system still mounted inside (session 18 found 267 MB and a loop-mounted ext4 under
  /// /tmp after a failed run). The next test process removes the folders of processes that
  /// have ended, detaching such mounts first.
  static func removeFoldersOfEndedProcesses() {
    let tmp = NSTemporaryDirectory()
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: tmp) else { return }
    let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
    for name in names where name.hasPrefix("dataset-tests-") {
      guard let pid = Int32(name.dropFirst("dataset-tests-".count)), pid != getpid(), kill(pid, 0) != 0,
        errno == ESRCH
      else { continue }
      let folder = tmp + name
      // Deepest first, so that a mount inside another comes off before it.
      let inside = mounts.split(separator: "\n").compactMap { line -> String? in
        let fields = line.split(separator: " ")
        return fields.count > 1 && fields[1].hasPrefix(folder + "/") ? String(fields[1]) : nil
      }
      for point in inside.sorted(by: { $0.count > $1.count }) { _ = umount2(point, Int32(MNT_DETACH)) }
      try? FileManager.default.removeItem(atPath: folder)
    }
  }

  /// `root/name`, created.
  public static func folder(_ name: String) -> String {
    let dir = root + "/" + name
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }
}
