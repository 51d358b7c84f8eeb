#include "core/store/eviction_policy.h"
