#include "core/filter/cuckoo_filter.h"
