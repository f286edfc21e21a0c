/*
 * file.h - reading a whole file into memory.
 */
#ifndef SL_CORE_FILE_H
#define SL_CORE_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Reads all of path into a new buffer (*out, free() it) of *len bytes plus a
 * NUL after them, so text can be parsed as a C string. The buffer is sized
 * from fstat, and when the file turns out longer (a pipe, a file still being
 * written) every block given up while growing is wiped first; no stdio buffer
 * is involved. So the returned buffer is the only copy of what was read, and a
 * caller reading secrets wipes that and nothing is left behind. Returns SL_OK, SL_ENOMEM, or SL_EIO
 * with errno set. */
int sl_file_read(const char *path, uint8_t **out, size_t *len);

#endif
