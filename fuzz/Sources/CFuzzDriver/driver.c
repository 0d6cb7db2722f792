// Header-only on purpose: the declaration is what the Swift targets need.
#include "CFuzzDriver.h"
