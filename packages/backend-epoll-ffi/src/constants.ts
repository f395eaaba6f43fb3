/**
 * Linux constants the backend passes to libc. They are the asm-generic values, the same on x86_64
 * and arm64 (the two architectures the backend loads on; see platform.ts).
 */

// epoll_ctl operations
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;

// epoll event bits
export const EPOLLIN = 0x001;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLRDHUP = 0x2000;
export const EPOLLEXCLUSIVE = 1 << 28;
export const EPOLLET = 1 << 31;

// flags of epoll_create1, socket, accept4, timerfd_create, open
export const O_CLOEXEC = 0o2000000;
export const O_NONBLOCK = 0o4000;
export const O_RDONLY = 0;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = O_NONBLOCK;
export const SOCK_CLOEXEC = O_CLOEXEC;

// address families
export const AF_INET = 2;
export const AF_INET6 = 10;

// socket options
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_ERROR = 4;
export const SO_REUSEPORT = 15;
export const IPPROTO_TCP = 6;
export const TCP_NODELAY = 1;

// send flags and shutdown directions
export const MSG_NOSIGNAL = 0x4000;
export const SHUT_WR = 1;

// timerfd
export const CLOCK_MONOTONIC = 1;

// errno values this backend branches on (the names of all others come from os.constants.errno)
export const EINTR = 4;
export const EAGAIN = 11;
export const EINPROGRESS = 115;
export const EMFILE = 24;
export const ENFILE = 23;
export const ENOBUFS = 105;
export const ENOMEM = 12;

/**
 * accept4 errors that concern only the connection being accepted (accept(2): "Linux passes
 * already-pending network errors on the new socket as an error code from accept()... treat them
 * like EAGAIN by retrying"): ECONNABORTED, EPROTO, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH,
 * EOPNOTSUPP, ENETUNREACH, ENETDOWN, and EPERM (a firewall rule refused it).
 */
export const ACCEPT_RETRY: ReadonlySet<number> = new Set([103, 71, 92, 112, 64, 113, 95, 101, 100, 1]);
