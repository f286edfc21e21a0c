/*
 * msg_home.h - a message goes back to the worker that allocated it to be freed.
 *
 * A message is allocated by the worker that read the PUBLISH and freed by
 * whoever drops the last reference: for a subscriber on another worker, another
 * thread. glibc frees such a block into the allocating thread's arena under
 * that arena's lock, while the allocating thread takes the next message from
 * the same arena: with a publisher and a subscriber on two workers at maximum
 * rate, malloc and free were a fifth of the broker's CPU (perf, QoS 0 1 -> 1),
 * and the cost per message more than doubled against both on one worker.
 *
 * So the last unref on a thread other than the message's home pushes it onto
 * the home's return stack (one compare-and-swap), and the home frees what came
 * back once per loop iteration, on its own thread, where glibc's per-thread
 * caches hand the blocks to the next messages. A sleeping home is woken once
 * SL_MSG_RETURN_WAKE_BYTES have piled up, so what waits stays bounded. Threads
 * without a home (the main thread, single-threaded tests and fuzzers) free at
 * once, as does a worker for its own messages.
 */
#ifndef SL_BROKER_MSG_HOME_H
#define SL_BROKER_MSG_HOME_H

#include <stdatomic.h>
#include <stddef.h>

#include "core/mpstack.h"

struct sl_msg;
struct sl_inbox;

#define SL_MSG_RETURN_WAKE_BYTES (256u * 1024u)

struct sl_msg_home {
    struct sl_mpstack returned; /* through sl_msg.returned */
    atomic_size_t returned_bytes;
    struct sl_inbox *wake; /* the owner's inbox: its eventfd wakes it */
};

void sl_msg_home_init(struct sl_msg_home *h, struct sl_inbox *wake);

/* The calling thread allocates for h from now on (NULL: for no home). */
void sl_msg_home_enter(struct sl_msg_home *h);

/* The calling thread's home, or NULL. */
struct sl_msg_home *sl_msg_home_self(void);

/* Frees what came back. The owner's thread, or any thread once no worker runs. */
void sl_msg_home_collect(struct sl_msg_home *h);

/* m's last reference is gone: free it here or send it home. */
void sl_msg_home_free(struct sl_msg *m);

#endif
