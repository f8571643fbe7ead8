/*
 * unpack.c: not yet written.
 */
#include "unpack.h"
