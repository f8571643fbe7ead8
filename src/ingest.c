#include "ingest.h"
