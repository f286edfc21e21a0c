/*
 * sys.h - the broker's statistics under $SYS/broker/..., Mosquitto's names,
 * published retained every sys_interval seconds by worker 0 (0 turns it off).
 */
#ifndef SL_BROKER_SYS_H
#define SL_BROKER_SYS_H

struct worker;

/* Arms the $SYS timer on w if w is worker 0 and sys_interval > 0, and publishes
 * once at the next timer tick. Call before w's thread starts. */
void sys_start(struct worker *w);

#endif
