// The prefetch hint is a static inline function in include/cprefetch.h; this file only gives the
// target a source, as SwiftPM requires.
#include "cprefetch.h"
