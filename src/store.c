/*
 * store.c: not yet written.
 */
#include "store.h"
