/*
 * mime.c: not yet written.
 */
#include "mime.h"
