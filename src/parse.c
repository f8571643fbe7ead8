/*
 * parse.c: not yet written.
 */
#include "parse.h"
