// One-line shims for what Swift cannot import from Glibc as is: enum-macros,
// packed structs and variadic or inline functions. No logic lives here.
#ifndef CSYNC_SHIM_H
#define CSYNC_SHIM_H

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <signal.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdint.h>

static inline int csync_epoll_cloexec(void) { return EPOLL_CLOEXEC; }
static inline uint32_t csync_epollin(void) { return EPOLLIN; }
static inline uint32_t csync_epollout(void) { return EPOLLOUT; }
static inline uint32_t csync_epollerr(void) { return EPOLLERR; }
static inline uint32_t csync_epollhup(void) { return EPOLLHUP; }
static inline uint32_t csync_epollrdhup(void) { return EPOLLRDHUP; }
static inline int csync_sock_nonblock(void) { return SOCK_NONBLOCK; }
static inline int csync_sock_cloexec(void) { return SOCK_CLOEXEC; }
static inline int csync_sock_stream(void) { return SOCK_STREAM; }
static inline int csync_sock_dgram(void) { return SOCK_DGRAM; }
static inline int csync_msg_nosignal(void) { return MSG_NOSIGNAL; }
static inline int csync_sfd_nonblock(void) { return SFD_NONBLOCK; }
static inline int csync_sfd_cloexec(void) { return SFD_CLOEXEC; }
static inline int csync_efd_nonblock(void) { return EFD_NONBLOCK; }
static inline int csync_efd_cloexec(void) { return EFD_CLOEXEC; }

/// epoll_event is packed on x86_64 (12 bytes); these accessors hide the layout.
static inline size_t csync_epoll_event_size(void) { return sizeof(struct epoll_event); }
static inline void csync_epoll_event_set(struct epoll_event *ev, uint32_t events, uint64_t data) {
    ev->events = events; ev->data.u64 = data;
}
static inline uint32_t csync_epoll_event_events(const struct epoll_event *ev) { return ev->events; }
static inline uint64_t csync_epoll_event_data(const struct epoll_event *ev) { return ev->data.u64; }

/// Signal dispositions and socket constants that glibc defines as casts or enums.
static inline int csync_ignore_signal(int signo) { return signal(signo, SIG_IGN) == SIG_ERR ? -1 : 0; }
static inline int csync_shut_wr(void) { return SHUT_WR; }
static inline int csync_ipproto_tcp(void) { return IPPROTO_TCP; }
static inline int csync_ipproto_ipv6(void) { return IPPROTO_IPV6; }
static inline int csync_ipproto_udp(void) { return IPPROTO_UDP; }
static inline int csync_ipproto_ip(void) { return IPPROTO_IP; }
static inline size_t csync_sun_path_size(void) { return sizeof(((struct sockaddr_un *)0)->sun_path); }
/// UDP batching (UDPSocket). UDP_SEGMENT is in glibc's <netinet/udp.h> since 2.28; the
/// fallback keeps older headers building (the kernel then answers ENOPROTOOPT at run time).
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
static inline int csync_udp_segment(void) { return UDP_SEGMENT; }
static inline int csync_msg_trunc(void) { return MSG_TRUNC; }
static inline int csync_msg_dontwait(void) { return MSG_DONTWAIT; }
/// struct mmsghdr is declared only under _GNU_SOURCE: the same layout under our own name,
/// which shim.c checks against the real one at compile time.
struct csync_mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; };
/// recvmmsg/sendmmsg are GNU extensions as well; defined in shim.c.
int csync_recvmmsg(int fd, struct csync_mmsghdr *messages, unsigned int count, int flags);
int csync_sendmmsg(int fd, struct csync_mmsghdr *messages, unsigned int count, int flags);
/// The CMSG_* macros, which Swift cannot import.
static inline size_t csync_cmsg_space(size_t length) { return CMSG_SPACE(length); }
static inline size_t csync_cmsg_len(size_t length) { return CMSG_LEN(length); }
static inline struct cmsghdr *csync_cmsg_firsthdr(struct msghdr *message) { return CMSG_FIRSTHDR(message); }
static inline unsigned char *csync_cmsg_data(struct cmsghdr *header) { return CMSG_DATA(header); }

/// accept4 is declared only under _GNU_SOURCE, which shim.c defines.
int csync_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
int csync_posix_spawn_setsid(void);
int csync_mallopt(int option, int value);
int csync_m_mmap_threshold(void);
int csync_m_trim_threshold(void);
#include <spawn.h>
int csync_spawn_closefrom(posix_spawn_file_actions_t *actions, int lowest);

#endif
