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
    let dir = folderOfThisProcess()
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: TestScratch.folderOfThisProcess()) }
    return dir
  }()

  static func folderOfThisProcess() -> String { NSTemporaryDirectory() + "dataset-tests-\(getpid())" }

  /// `root/name`, created.
  public static func folder(_ name: String) -> String {
    let dir = root + "/" + name
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }
}
