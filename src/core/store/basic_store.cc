#include "core/store/basic_store.h"
