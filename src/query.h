#ifndef QUERY_H
#define QUERY_H
#endif
