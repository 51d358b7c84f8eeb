#include "core/store/memory_pool.h"
