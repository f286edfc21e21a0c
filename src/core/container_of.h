/*
 * container_of.h - the struct that embeds a member, from a pointer to that
 * member: how intrusive links (timers, stack nodes) lead back to their owner.
 */
#ifndef SL_CORE_CONTAINER_OF_H
#define SL_CORE_CONTAINER_OF_H

#include <stddef.h>

#define sl_container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

#endif
