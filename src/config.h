/*
 * config.h: not yet written.
 */
#ifndef CONFIG_H
#define CONFIG_H
#endif
