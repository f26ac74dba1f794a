// accept4 is a GNU extension: declared only with _GNU_SOURCE, defined before any header.
#define _GNU_SOURCE
#include <spawn.h>
#include "CSyncShim.h"

int csync_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) { return accept4(fd, address, length, flags); }

// recvmmsg/sendmmsg and struct mmsghdr are GNU extensions too. The header's csync_mmsghdr
// must stay layout-identical to struct mmsghdr, since the kernel writes through it.
#include <stddef.h>
_Static_assert(sizeof(struct csync_mmsghdr) == sizeof(struct mmsghdr), "csync_mmsghdr size");
_Static_assert(offsetof(struct csync_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len), "csync_mmsghdr layout");
int csync_recvmmsg(int fd, struct csync_mmsghdr *messages, unsigned int count, int flags) {
    return recvmmsg(fd, (struct mmsghdr *)messages, count, flags, NULL);
}
int csync_sendmmsg(int fd, struct csync_mmsghdr *messages, unsigned int count, int flags) {
    return sendmmsg(fd, (struct mmsghdr *)messages, count, flags);
}

// POSIX_SPAWN_SETSID is a GNU extension as well (glibc 2.26+).
int csync_posix_spawn_setsid(void) { return POSIX_SPAWN_SETSID; }

// A daemon must not keep descriptors its launcher inherited (glibc 2.34+, GNU extension).
int csync_spawn_closefrom(posix_spawn_file_actions_t *actions, int lowest) { return posix_spawn_file_actions_addclosefrom_np(actions, lowest); }

// mallopt is in <malloc.h>, which Glibc's Swift module does not export.
#include <malloc.h>
int csync_mallopt(int option, int value) { return mallopt(option, value); }
int csync_m_mmap_threshold(void) { return M_MMAP_THRESHOLD; }
int csync_m_trim_threshold(void) { return M_TRIM_THRESHOLD; }
