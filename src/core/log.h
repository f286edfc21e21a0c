/*
 * log.h - leveled logging to stderr/stdout/file/syslog, thread-safe.
 * Each line is written with one write(2) so lines from workers never interleave.
 */
#ifndef SL_CORE_LOG_H
#define SL_CORE_LOG_H

#include <stdbool.h>

/* Level bits, Mosquitto's log_type names: error, warning, notice, information, debug. */
#define SL_LOG_ERR     0x01u
#define SL_LOG_WARNING 0x02u
#define SL_LOG_NOTICE  0x04u
#define SL_LOG_INFO    0x08u
#define SL_LOG_DEBUG   0x10u
#define SL_LOG_ALL     0x1fu

/* dest: SL_LOG_DEST_* bits from broker/config.h (kept as plain unsigned here so core
 * does not depend on the broker). file may be NULL. Returns SL_OK or SL_EIO. */
int sl_log_open(unsigned dest, const char *file, unsigned types, bool timestamp);
void sl_log_close(void);
bool sl_log_enabled(unsigned level);
void sl_log(unsigned level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define sl_error(...)  sl_log(SL_LOG_ERR, __VA_ARGS__)
#define sl_warn(...)   sl_log(SL_LOG_WARNING, __VA_ARGS__)
#define sl_notice(...) sl_log(SL_LOG_NOTICE, __VA_ARGS__)
#define sl_info(...)   sl_log(SL_LOG_INFO, __VA_ARGS__)
#define sl_debug(...)                                                                              \
    do {                                                                                           \
        if (sl_log_enabled(SL_LOG_DEBUG)) sl_log(SL_LOG_DEBUG, __VA_ARGS__);                       \
    } while (0)

#endif
