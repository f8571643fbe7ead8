/*
 * ingest.h: not yet written.
 */
#ifndef INGEST_H
#define INGEST_H
#endif
