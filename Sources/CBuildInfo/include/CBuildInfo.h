#ifndef SESSMIGRATE_CBUILDINFO_H
#define SESSMIGRATE_CBUILDINFO_H

/// The git commit this binary was built from, as the build passed it (`scripts/package` passes
/// the flags `scripts/lib/commit-flags` prints: `-Xcc -DSESSMIGRATE_COMMIT="1a2b3c4d5e6f"`), or "unknown" for a plain
/// `swift build`. Never NULL; a static string.
const char *sessmigrate_build_commit(void);

#endif
