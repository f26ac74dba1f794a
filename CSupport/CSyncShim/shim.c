#include "CSyncShim.h"
