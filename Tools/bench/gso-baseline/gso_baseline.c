#include "gso_baseline.h"
