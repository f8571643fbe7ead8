/*
 * fetch.c: not yet written (fetch_new, fetch_free, fetch_secret).
 */
#include "fetch.h"
