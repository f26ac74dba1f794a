// accept4 is a GNU extension: declared only with _GNU_SOURCE, defined before any header.
#define _GNU_SOURCE
#include "CSyncShim.h"

int csync_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) { return accept4(fd, address, length, flags); }
