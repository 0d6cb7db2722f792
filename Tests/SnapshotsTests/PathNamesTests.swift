// PathNames.parent stands in for NSString.deletingLastPathComponent, which traps on "Q":
// checked against dirname's rule, with "" for a single relative component.
import Snapshots
import Testing

@Suite struct PathNamesTests {
  @Test(arguments: [
    ("Q", ""), ("Q/", ""), ("ab", ""), ("a/bb", "a"), ("a/b/c", "a/b"), ("/Q", "/"), ("/", "/"), ("", ""),
    ("a//b/", "a"), ("//x", "/"), ("Datasets/props_v1/v2/manifest.json", "Datasets/props_v1/v2"), ("é/ü", "é"),
  ])
  func parentFollowsDirname(_ path: String, _ parent: String) {
    #expect(PathNames.parent(of: path) == parent)
  }
}
