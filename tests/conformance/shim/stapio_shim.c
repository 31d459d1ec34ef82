/*
 * stapio_shim.c: lets Debian's real stapio 4.8 talk to the stapfr simulator's module host (LD_PRELOAD).
 *
 * The simulator's module host serves a module's control file `.cmd` and relay files `traceN` as Unix stream
 * sockets (sim/kernel/transport.ts): `.cmd` carries length-framed control messages (uint32 length of type+payload,
 * uint32 type, payload); on `traceN` each read() and each ppoll of the relay file is a request
 * (uint32 count, uint32 flags) and its answer (int32 rc, then rc bytes for a read). stapio opens those files
 * with open()/openat(), which fails on a socket file (ENXIO). This shim turns such an open into a connection
 * to the socket and gives stapio the connected socket itself. There are no threads and no extra buffers: what
 * stapio has not read stays in the simulated ring, as it stays in a relay file. A relay file is connected
 * only when stapio first polls or reads it (`stapio -L` opens every traceN and never reads them).
 *
 * On top of the socket, read() and write() on those descriptors get the semantics of the procfs files:
 *   .cmd    open() reads the host's verdict byte (1: this stapio is the reader; 0: EBUSY, as the kernel's
 *           open() fails when a reader is attached); then every write() is one message (the shim adds the length frame) and every read() returns one whole
 *           message (the shim strips the frame); a read blocks until the message is complete unless nothing
 *           has arrived and stapio set O_NONBLOCK (then EAGAIN, as the kernel's read of an empty queue).
 *           STP_BULK is answered like the 4.8 runtime answers it: the write fails with EINVAL unless the
 *           module is bulk (STAPIO_SHIM_BULK=1). The host answers STP_BULK with an STP_BULK message (int32 rc)
 *           because a socket write cannot fail; waiting for it inside write() would have to hold back the
 *           messages queued before it, which stapio's select() would then not see, so the shim answers from
 *           its setting and drops the host's STP_BULK answers from the stream.
 *   traceN  every read() is one read of the simulated relay file, answered by the host from the ring as it is
 *           at that moment, exactly as many bytes as the kernel's relay read gives (across records, damage
 *           included); with nothing to read it fails with ENODATA, as the 4.8 runtime's relay read does
 *           (relay_v2.c __stp_relay_file_read). ppoll() on it asks the host whether the file has data (and
 *           waits, in the real ppoll on the socket, until it says so); it reads nothing.
 *
 * Settings (environment; the constructor reads them and then removes them with LD_PRELOAD, so the children
 * stapio starts, such as the `staprun -d` it runs at exit, run without the shim):
 *   STAPIO_SHIM_MODDIR + STAPIO_SHIM_DIRFD   open the module directory on this descriptor, for `-F<fd>` (on a real
 *                                           system staprun opens it and passes `-F<fd>` to stapio).
 *   STAPIO_SHIM_CPUS   what get_nprocs_conf() returns: how many traceN files stapio probes.
 *   STAPIO_SHIM_BULK   1 when the module was built in bulk mode.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define STP_BULK 7
#define MAX_POLL 1024
#define MAX_FD 4096

enum kind { KIND_NONE, KIND_CTL, KIND_TRACE };

#define TRACE_WAIT 1
#define TRACE_PARKED (-11)

/* Per descriptor: what it is and, for a relay file, its poll state. */
struct file_state {
	enum kind kind;
	int polling;             /* trace: a ppoll request is out and not yet answered ready */
	int ready;               /* trace: the host said the file has data, and nothing was read since */
	int eof;                 /* the host ended the stream */
	int lazy;                /* trace: not connected yet; the descriptor is a placeholder (an eventfd) */
	char *path;              /* trace: where to connect */
};

static struct file_state files[MAX_FD];
static int fake_cpus = -1;
static int module_bulk;

static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_close)(int);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_get_nprocs_conf)(void);

__attribute__((constructor)) static void shim_init(void) {
	real_read = dlsym(RTLD_NEXT, "read");
	real_write = dlsym(RTLD_NEXT, "write");
	real_close = dlsym(RTLD_NEXT, "close");
	real_openat = dlsym(RTLD_NEXT, "openat64");
	real_get_nprocs_conf = dlsym(RTLD_NEXT, "get_nprocs_conf");
	const char *dir = getenv("STAPIO_SHIM_MODDIR");
	const char *dirfd_text = getenv("STAPIO_SHIM_DIRFD");
	if (dir && dirfd_text) {
		int fd = real_openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY);
		int want = atoi(dirfd_text);
		if (fd >= 0 && fd != want) {
			dup2(fd, want);
			real_close(fd);
		}
	}
	if (getenv("STAPIO_SHIM_CPUS")) fake_cpus = atoi(getenv("STAPIO_SHIM_CPUS"));
	module_bulk = getenv("STAPIO_SHIM_BULK") && atoi(getenv("STAPIO_SHIM_BULK")) == 1;
	unsetenv("LD_PRELOAD");
	unsetenv("STAPIO_SHIM_MODDIR");
	unsetenv("STAPIO_SHIM_DIRFD");
}

int get_nprocs_conf(void) {
	return fake_cpus > 0 ? fake_cpus : real_get_nprocs_conf();
}

static enum kind kind_of(int fd) {
	return fd >= 0 && fd < MAX_FD ? files[fd].kind : KIND_NONE;
}

/* ---- opening ---- */

/* The address of the socket file dirfd/path (/proc/self/fd/N/ keeps it short however deep the root is). */
static int socket_address(int dirfd, const char *path, char *where, size_t size) {
	if (path[0] == '/') snprintf(where, size, "%s", path);
	else if (dirfd == AT_FDCWD) snprintf(where, size, "./%s", path);
	else snprintf(where, size, "/proc/self/fd/%d/%s", dirfd, path);
	if (strlen(where) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Connects to a socket address; returns the socket or -1 with errno. */
static int connect_address(const char *where) {
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strcpy(addr.sun_path, where);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		int e = errno;
		real_close(fd);
		errno = e == ECONNREFUSED ? ENOENT : e; /* a host that is gone leaves a dead socket file */
		return -1;
	}
	return fd;
}

static int remember(int fd, enum kind kind) {
	if (fd >= MAX_FD) {
		real_close(fd);
		errno = EMFILE;
		return -1;
	}
	free(files[fd].path);
	memset(&files[fd], 0, sizeof files[fd]);
	files[fd].kind = kind;
	return fd;
}

/* Connects a relay file opened earlier, in place of its placeholder. A host that refuses leaves an empty,
 * ended relay file. */
static void connect_lazy(int fd) {
	struct file_state *f = &files[fd];
	if (!f->lazy) return;
	f->lazy = 0;
	int sock = connect_address(f->path);
	if (sock < 0) {
		f->eof = 1;
		return;
	}
	dup3(sock, fd, O_CLOEXEC);
	real_close(sock);
}

static int shim_openat(int dirfd, const char *path, int flags, mode_t mode) {
	struct stat st;
	if (fstatat(dirfd, path, &st, 0) == 0 && S_ISSOCK(st.st_mode)) {
		char where[PATH_MAX * 2];
		if (socket_address(dirfd, path, where, sizeof where) < 0) return -1;
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : path;
		if (strcmp(base, ".cmd") == 0) {
			int fd = connect_address(where);
			if (fd < 0) return -1;
			/* The host's first byte is its verdict, as the kernel's open() of .cmd: 1 attached, 0 busy. */
			unsigned char verdict = 0;
			ssize_t got;
			do got = real_read(fd, &verdict, 1); while (got < 0 && errno == EINTR);
			if (got != 1 || verdict != 1) {
				real_close(fd);
				errno = EBUSY;
				return -1;
			}
			if (flags & O_NONBLOCK) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
			return remember(fd, KIND_CTL);
		}
		/* A relay file: connected when stapio first polls or reads it (even a test connection would let the
		 * host stream records into it). */
		int fd = remember(eventfd(0, EFD_CLOEXEC), KIND_TRACE);
		if (fd < 0) return -1;
		files[fd].lazy = 1;
		files[fd].path = strdup(where);
		return fd;
	}
	return real_openat(dirfd, path, flags, mode);
}

#define MODE_ARG(flags)                                                                                        \
	mode_t mode = 0;                                                                                             \
	if ((flags) & (O_CREAT | __O_TMPFILE)) {                                                                     \
		va_list ap;                                                                                                \
		va_start(ap, flags);                                                                                       \
		mode = va_arg(ap, int);                                                                                    \
		va_end(ap);                                                                                                \
	}

int openat64(int dirfd, const char *path, int flags, ...) {
	MODE_ARG(flags);
	return shim_openat(dirfd, path, flags, mode);
}
int openat(int dirfd, const char *path, int flags, ...) {
	MODE_ARG(flags);
	return shim_openat(dirfd, path, flags, mode);
}
int open64(const char *path, int flags, ...) {
	MODE_ARG(flags);
	return shim_openat(AT_FDCWD, path, flags, mode);
}
int open(const char *path, int flags, ...) {
	MODE_ARG(flags);
	return shim_openat(AT_FDCWD, path, flags, mode);
}

int close(int fd) {
	if (kind_of(fd) != KIND_NONE) {
		files[fd].kind = KIND_NONE;
		free(files[fd].path);
		files[fd].path = NULL;
	}
	return real_close(fd);
}

/* ---- reading and writing ---- */

/* Reads exactly n bytes, waiting as long as it takes (also on an O_NONBLOCK socket). 1 = done, 0 = the host
 * closed, -1 = error. */
static int read_full(int fd, void *buf, size_t n) {
	unsigned char *p = buf;
	while (n > 0) {
		ssize_t got = recv(fd, p, n, 0);
		if (got > 0) {
			p += got;
			n -= (size_t)got;
			continue;
		}
		if (got == 0) return 0;
		if (errno == EINTR) continue;
		if (errno != EAGAIN) return -1;
		struct pollfd pfd = {fd, POLLIN, 0};
		poll(&pfd, 1, -1);
	}
	return 1;
}

/* Nothing to read now: EAGAIN on an O_NONBLOCK descriptor, otherwise wait for the first byte. */
static int wait_readable(int fd) {
	struct pollfd pfd = {fd, POLLIN, 0};
	if (poll(&pfd, 1, 0) > 0) return 1;
	if (fcntl(fd, F_GETFL) & O_NONBLOCK) {
		errno = EAGAIN;
		return 0;
	}
	while (poll(&pfd, 1, -1) < 0)
		if (errno != EINTR) return 0;
	return 1;
}

static ssize_t read_ctl(int fd, unsigned char *buf, size_t n) {
	for (;;) {
		if (!wait_readable(fd)) return -1;
		uint32_t len;
		int r = read_full(fd, &len, 4);
		if (r <= 0) return r;
		unsigned char *msg = malloc(len ? len : 1);
		if (!msg) {
			errno = ENOMEM;
			return -1;
		}
		r = read_full(fd, msg, len);
		if (r <= 0) {
			free(msg);
			return r;
		}
		uint32_t type = 0;
		if (len >= 4) memcpy(&type, msg, 4);
		if (type == STP_BULK) { /* the host's answer to STP_BULK, already given by write() */
			free(msg);
			continue;
		}
		size_t out = len < n ? len : n;
		memcpy(buf, msg, out);
		free(msg);
		return (ssize_t)out;
	}
}

/* Sends one traceN request, whole. 0, or -1 with errno. */
static int send_request(int fd, uint32_t count, uint32_t flags) {
	uint32_t request[2] = {count, flags};
	size_t sent = 0;
	while (sent < sizeof request) {
		ssize_t w = send(fd, (char *)request + sent, sizeof request - sent, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR) continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = {fd, POLLOUT, 0};
				poll(&pfd, 1, -1);
				continue;
			}
			return -1;
		}
		sent += (size_t)w;
	}
	return 0;
}

/* Reads one answer's rc (waiting for it). 1 = done, 0 = the host closed, -1 = error. */
static int read_rc(int fd, int32_t *rc) {
	return read_full(fd, rc, 4);
}

/* Takes the answer to the ppoll that is out, if its first frame has arrived (block: wait for it). Returns 1
 * once the host said the file has data, 0 while it waits, -1 at the end of the stream. */
static int take_poll_answer(int fd, int block) {
	struct file_state *f = &files[fd];
	while (f->polling) {
		struct pollfd pfd = {fd, POLLIN, 0};
		if (!block && poll(&pfd, 1, 0) <= 0) return 0;
		int32_t rc;
		int r = read_rc(fd, &rc);
		if (r <= 0) {
			f->eof = 1;
			f->polling = 0;
			return -1;
		}
		if (rc == TRACE_PARKED) continue;
		f->polling = 0;
		f->ready = 1;
	}
	return f->ready ? 1 : 0;
}

static ssize_t read_trace(int fd, unsigned char *buf, size_t n) {
	struct file_state *f = &files[fd];
	connect_lazy(fd);
	if (n == 0) return 0;
	if (f->eof) {
		errno = ENODATA;
		return -1;
	}
	/* A ppoll still out (a signal interrupted it): the host answers it as soon as this read comes. */
	if (send_request(fd, (uint32_t)n, 0) < 0) return -1;
	if (f->polling && take_poll_answer(fd, 1) < 0) {
		errno = ENODATA;
		return -1;
	}
	f->ready = 0;
	int32_t rc;
	int r = read_rc(fd, &rc);
	if (r <= 0) {
		f->eof = 1;
		errno = ENODATA;
		return -1;
	}
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	if (rc > 0 && read_full(fd, buf, (size_t)rc) <= 0) {
		f->eof = 1;
		errno = EIO;
		return -1;
	}
	return rc;
}

/* A relay file is connected when first polled. ppoll on relay files asks the host whether each has data and
 * waits on the sockets for the answers; a relay stream the host has ended polls as "nothing to read" instead
 * of POLLHUP, as a relay file does (otherwise stapio's reader would spin on ppoll until stopped). */
int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *sigmask) {
	static int (*real_ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
	if (!real_ppoll) real_ppoll = dlsym(RTLD_NEXT, "ppoll");
	int saved[MAX_POLL];
	int traces = 0;
	for (nfds_t i = 0; i < n && i < MAX_POLL; i++) {
		saved[i] = fds[i].fd;
		if (kind_of(fds[i].fd) != KIND_TRACE) continue;
		traces = 1;
		struct file_state *f = &files[fds[i].fd];
		connect_lazy(fds[i].fd);
		if (!f->eof && !f->polling && !f->ready) {
			if (send_request(fds[i].fd, 0, TRACE_WAIT) < 0) f->eof = 1;
			else f->polling = 1;
		}
	}
	if (!traces) return real_ppoll(fds, n, timeout, sigmask);
	for (;;) {
		int ready = 0;
		for (nfds_t i = 0; i < n && i < MAX_POLL; i++) {
			fds[i].fd = saved[i];
			fds[i].revents = 0;
			if (kind_of(saved[i]) != KIND_TRACE) continue;
			struct file_state *f = &files[saved[i]];
			if (!f->eof && take_poll_answer(saved[i], 0) > 0) {
				fds[i].revents = POLLIN;
				ready++;
			}
			if (f->eof || ready) fds[i].fd = -1; /* already decided: not polled again below */
		}
		if (ready) {
			for (nfds_t i = 0; i < n && i < MAX_POLL; i++) fds[i].fd = saved[i];
			return ready;
		}
		int rc = real_ppoll(fds, n, timeout, sigmask);
		int others = 0;
		for (nfds_t i = 0; i < n && i < MAX_POLL; i++) {
			if (kind_of(saved[i]) != KIND_TRACE && fds[i].fd >= 0 && fds[i].revents) others++;
		}
		for (nfds_t i = 0; i < n && i < MAX_POLL; i++) fds[i].fd = saved[i];
		if (rc <= 0) return rc;
		if (others) {
			/* Report what the other descriptors said; a relay file's answer is taken at the next call. */
			for (nfds_t i = 0; i < n && i < MAX_POLL; i++)
				if (kind_of(saved[i]) == KIND_TRACE) fds[i].revents = 0;
			return others;
		}
		/* Only relay sockets became readable: take their answers at the top of the loop. */
	}
}

ssize_t read(int fd, void *buf, size_t n) {
	switch (kind_of(fd)) {
	case KIND_CTL:
		return read_ctl(fd, buf, n);
	case KIND_TRACE:
		return read_trace(fd, buf, n);
	default:
		return real_read(fd, buf, n);
	}
}

ssize_t write(int fd, const void *buf, size_t n) {
	if (kind_of(fd) != KIND_CTL || n < 4) return real_write(fd, buf, n);
	uint32_t type;
	memcpy(&type, buf, 4);
	if (type == STP_BULK && !module_bulk) {
		errno = EINVAL; /* the 4.8 runtime's answer when the module is not bulk */
		return -1;
	}
	uint32_t len = (uint32_t)n;
	struct iovec iov[2] = {{&len, 4}, {(void *)buf, n}};
	size_t total = n + 4, sent = 0;
	/* One frame, whole, even on an O_NONBLOCK descriptor. */
	while (sent < total) {
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
		ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR) continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = {fd, POLLOUT, 0};
				poll(&pfd, 1, -1);
				continue;
			}
			return -1;
		}
		sent += (size_t)w;
		/* Advance the iovecs past what was sent. */
		size_t skip = (size_t)w;
		for (int i = 0; i < 2; i++) {
			size_t take = skip < iov[i].iov_len ? skip : iov[i].iov_len;
			iov[i].iov_base = (char *)iov[i].iov_base + take;
			iov[i].iov_len -= take;
			skip -= take;
		}
	}
	return (ssize_t)n;
}
