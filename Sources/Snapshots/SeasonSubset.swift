import Columnar
import Foundation

/// Some seasons of a snapshot, as if they had been built alone: `dataset diff --season`.
///
/// A manifest's statistics pool all its seasons, so "did 2019-20 change between these two
/// builds?" could not be asked of an eight-season snapshot. The seasons' files are read, each
/// checked against the SHA-256 its manifest records (a damaged file is `verify`'s to explain,
/// not something to diff), and their statistics computed exactly as a build of those seasons
/// computes them (season by season, in manifest order): for a snapshot of those seasons alone,
/// equal to its manifest's.
public enum SeasonSubset {
  public struct Failure: Error, CustomStringConvertible, Equatable {
    public var description: String
  }

  /// `manifest` (found in `folder`) narrowed to `seasons` (labels such as "2019-20"): their
  /// files, rows and statistics; nothing else changes.
  public static func narrow(
    _ manifest: Manifest, folder: String, to seasons: [String], format: DataFileFormat = ArrowDataFileFormat()
  ) throws(Failure) -> Manifest {
    let held = manifest.files.map(\.season)
    let missing = seasons.filter { !held.contains($0) }
    guard missing.isEmpty else {
      throw Failure(
        description:
          "\(folder) holds no season \(missing.joined(separator: ", ")) (its seasons: \(held.joined(separator: ", ")))")
    }
    let files = manifest.files.filter { seasons.contains($0.season) }
    var tables: [Table] = []
    for entry in files {
      let path = folder + "/" + entry.path
      guard let data = FileManager.default.contents(atPath: path) else {
        throw Failure(description: "\(path): cannot be read; `dataset verify \(folder)` says why")
      }
      let bytes = [UInt8](data)
      let sha = Digest.hex(bytes)
      guard sha == entry.sha256 else {
        throw Failure(
          description: "\(path): sha256 is \(sha.prefix(12))… but the manifest says \(entry.sha256.prefix(12))…; "
            + "`dataset verify \(folder)` says more")
      }
      do {
        tables.append(try format.decode(bytes).table)
      } catch {
        throw Failure(description: "\(path): cannot be decoded (\(error)); `dataset verify \(folder)` says more")
      }
    }
    var narrowed = manifest
    narrowed.files = files
    narrowed.rowCount = files.reduce(0) { $0 + $1.rows }
    narrowed.stats = ColumnStats.compute(tables: tables)
    return narrowed
  }
}
