#include "core/store/sharded_store.h"
