// Fuzzes the manifest path end to end: the bytes become `<tmp>/v1/manifest.json` beside one
// tiny Arrow file, then `Verifier.verify` (JSON, schema, values, files) runs on it, and a
// manifest that decodes is also shown to `Differ` against itself and against a clean one, the
// way `dataset diff` would use a hand-edited manifest. Nothing may trap.
import CFuzzDriver
import ArrowIPC
import Columnar
import Foundation
import Snapshots

#if canImport(Glibc)
  import Glibc
#endif

private let folder: String = {
  let root = (ProcessInfo.processInfo.environment["FUZZ_SCRATCH"] ?? "/dev/shm") + "/fuzz-manifest-\(getpid())"
  let v1 = root + "/ds/v1"
  try? FileManager.default.createDirectory(atPath: v1, withIntermediateDirectories: true)
  // The data file the seed manifests name (scripts/fuzz.sh copies it in as 2022-23.arrow).
  if let seedFile = ProcessInfo.processInfo.environment["FUZZ_ARROW_FILE"],
    let data = FileManager.default.contents(atPath: seedFile)
  {
    FileManager.default.createFile(atPath: v1 + "/2022-23.arrow", contents: data)
  }
  return v1
}()

private let clean: Manifest? = {
  guard let path = ProcessInfo.processInfo.environment["FUZZ_MANIFEST"],
    let data = FileManager.default.contents(atPath: path)
  else { return nil }
  return try? JSONDecoder().decode(Manifest.self, from: data)
}()

/// The entry SwiftPM's `--defsym main=FuzzManifest_main` points at: libFuzzer's driver, with the
/// process's arguments (-max_total_time, corpus folders, …).
@_cdecl("FuzzManifest_main")
public func fuzzManifestMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  var count = argc
  var arguments = argv
  return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzManifest(data!, size) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Data(UnsafeBufferPointer(start: data, count: size))
  let path = folder + "/manifest.json"
  FileManager.default.createFile(atPath: path, contents: bytes)
  let report = Verifier(format: ArrowDataFileFormat()).verify(path: folder)
  precondition(report.checked == [folder], "verify checked \(report.checked)")
  // As `dataset show`/`diff` do through Manifest.read: decode, refuse unusable stats, then use.
  if let m = try? JSONDecoder().decode(Manifest.self, from: bytes), m.statsProblems().isEmpty {
    let differ = Differ()
    _ = differ.diff(m, m, nameA: "a", nameB: "b")
    if let clean, clean.statsProblems().isEmpty {
      _ = differ.diff(clean, m, nameA: "clean", nameB: "fuzzed")
      _ = differ.diff(m, clean, nameA: "fuzzed", nameB: "clean")
    }
    _ = try? m.encoded()
  }
  return 0
}
