// The one place the commit enters the binary. A plain `swift build` knows no commit and says so;
// a build that knows it passes -Xcc -DSESSMIGRATE_COMMIT="…" (see docs/DESIGN.md, "Version and commit").
#include "CBuildInfo.h"

#ifndef SESSMIGRATE_COMMIT
#define SESSMIGRATE_COMMIT "unknown"
#endif

const char *sessmigrate_build_commit(void) {
    return SESSMIGRATE_COMMIT;
}
