/*
 * stapio_shim.c: lets Debian's real stapio 4.8 talk to the stapfr simulator's module host.
 *
 * The simulator's module host serves a module's control file `.cmd` and relay files `traceN` as Unix stream
 * sockets (sim/transport.ts): `.cmd` carries length-framed control messages (uint32 length of type+payload,
 * uint32 type, payload), `traceN` carries relay records back to back (uint32 seq, uint32 len, payload).
 * A real stapio opens those files with open()/openat(), which fails on a socket (ENXIO). This shim, loaded with
 * LD_PRELOAD, turns such an open into a connection and hands stapio one end of a socketpair, with a thread of
 * the shim as a bridge between the pair and the host:
 *
 *   .cmd    SOCK_SEQPACKET pair: on procfs every read() of `.cmd` returns one whole message and every write()
 *           is one message, so stapio gets a packet per message; the bridge adds/strips the length frames.
 *           STP_BULK is answered synchronously like the kernel does (the write fails with EINVAL unless the
 *           module is bulk), from STAPIO_SHIM_BULK=1, because the host's answer cannot be waited for inside
 *           write().
 *   traceN  SOCK_STREAM pair: stapio opens relay files O_NONBLOCK and reads a header and then the payload, so
 *           each record must arrive whole; the bridge reads one record from the host, sends it with one
 *           send() and waits until stapio has read it before taking the next (so no more data sits in the
 *           bridge than in a relay file; what stapio has not read stays with the host across a detach).
 *
 * Other settings (environment, read once by the constructor, then removed so that the children stapio starts,
 * such as the `staprun -d` it runs at exit, do not load the shim):
 *   STAPIO_SHIM_MODDIR + STAPIO_SHIM_DIRFD   open the module directory on this fd number, for stapio's `-F<fd>`
 *                                           (what staprun passes it on a real system).
 *   STAPIO_SHIM_CPUS   value returned by get_nprocs_conf(), the number of traceN files stapio probes.
 *   STAPIO_SHIM_BULK   1 when the module was built in bulk mode.
 *
 * stapio `-D` calls daemon() after it may have opened `.cmd`; threads do not survive fork(), so daemon() is
 * wrapped: the bridges are parked, daemon() runs, and the child restarts them.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define STP_BULK 7
#define MAX_BRIDGES 1100
#define MAX_CTL_MSG (256 * 1024)
#define MAX_RECORD (128 * 1024 + 8)

enum kind { KIND_CTL, KIND_TRACE };

struct bridge {
	enum kind kind;
	int app_fd;   /* the end stapio holds (to recognise its writes) */
	int mine_fd;  /* the bridge's end of the pair */
	int host_fd;  /* connection to the module host */
	pthread_t thread;
	int running;
	/* trace: a record read from the host but not yet handed over (kept across a daemon() restart) */
	unsigned char *pending;
	size_t pending_len;
	/* ctl: a partial frame from the host (kept across a daemon() restart) */
	unsigned char *frame;
	size_t frame_len;
};

static struct bridge bridges[MAX_BRIDGES];
static int bridge_count;
static pthread_mutex_t bridges_lock = PTHREAD_MUTEX_INITIALIZER;
static int park_pipe[2] = {-1, -1}; /* readable = bridges must stop at their next message boundary */
static int fake_cpus = -1;
static int module_bulk;

static int real_open_at(int dirfd, const char *path, int flags, mode_t mode) {
	static int (*real)(int, const char *, int, ...);
	if (!real) real = dlsym(RTLD_NEXT, "openat64");
	return real(dirfd, path, flags, mode);
}

__attribute__((constructor)) static void shim_init(void) {
	const char *dir = getenv("STAPIO_SHIM_MODDIR");
	const char *dirfd_text = getenv("STAPIO_SHIM_DIRFD");
	if (dir && dirfd_text) {
		int fd = real_open_at(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY, 0);
		int want = atoi(dirfd_text);
		if (fd >= 0 && fd != want) {
			dup2(fd, want);
			close(fd);
		}
	}
	if (getenv("STAPIO_SHIM_CPUS")) fake_cpus = atoi(getenv("STAPIO_SHIM_CPUS"));
	module_bulk = getenv("STAPIO_SHIM_BULK") && atoi(getenv("STAPIO_SHIM_BULK")) == 1;
	if (pipe2(park_pipe, O_CLOEXEC) < 0) park_pipe[0] = park_pipe[1] = -1;
	unsetenv("LD_PRELOAD");
	unsetenv("STAPIO_SHIM_MODDIR");
	unsetenv("STAPIO_SHIM_DIRFD");
}

int get_nprocs_conf(void) {
	static int (*real)(void);
	if (fake_cpus > 0) return fake_cpus;
	if (!real) real = dlsym(RTLD_NEXT, "get_nprocs_conf");
	return real();
}

/* ---- helpers ---- */

static int write_all(int fd, const void *buf, size_t len) {
	const unsigned char *p = buf;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly len bytes from the host unless parked. 1 = done, 0 = EOF/error, -1 = parked (nothing lost
 * that matters: the caller keeps partial state in its own buffer). */
static int read_exact(int fd, unsigned char *buf, size_t len, size_t *have) {
	while (*have < len) {
		struct pollfd p[2] = {{fd, POLLIN, 0}, {park_pipe[0], POLLIN, 0}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR) continue;
			return 0;
		}
		if (p[1].revents) return -1;
		ssize_t n = read(fd, buf + *have, len - *have);
		if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
		if (n <= 0) return 0;
		*have += (size_t)n;
	}
	return 1;
}

static int parked(void) {
	struct pollfd p = {park_pipe[0], POLLIN, 0};
	return poll(&p, 1, 0) > 0;
}

/* ---- .cmd bridge ---- */

static void *ctl_bridge(void *arg) {
	struct bridge *b = arg;
	static __thread unsigned char *out;
	if (!out) out = malloc(MAX_CTL_MSG + 4);
	if (!b->frame) b->frame = malloc(MAX_CTL_MSG + 4);
	unsigned char *in = b->frame;
	for (;;) {
		struct pollfd p[3] = {{b->mine_fd, POLLIN, 0}, {b->host_fd, POLLIN, 0}, {park_pipe[0], POLLIN, 0}};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR) continue;
			break;
		}
		if (p[2].revents) return NULL;
		if (p[0].revents) { /* stapio -> host: one packet, one frame */
			ssize_t n = recv(b->mine_fd, out + 4, MAX_CTL_MSG, 0);
			if (n <= 0) break; /* stapio closed .cmd */
			uint32_t len = (uint32_t)n;
			memcpy(out, &len, 4);
			if (write_all(b->host_fd, out, (size_t)n + 4) < 0) break;
		}
		if (p[1].revents) { /* host -> stapio: frames into packets */
			ssize_t n = read(b->host_fd, in + b->frame_len, MAX_CTL_MSG + 4 - b->frame_len);
			if (n < 0 && errno == EINTR) continue;
			if (n <= 0) break; /* module gone */
			b->frame_len += (size_t)n;
			for (;;) {
				uint32_t len;
				if (b->frame_len < 4) break;
				memcpy(&len, in, 4);
				if (len < 4 || len > MAX_CTL_MSG) goto done; /* malformed: treat as a dead module */
				if (b->frame_len < 4 + (size_t)len) break;
				if (write_all(b->mine_fd, in + 4, len) < 0) goto done;
				memmove(in, in + 4 + len, b->frame_len - 4 - len);
				b->frame_len -= 4 + len;
			}
		}
	}
done:
	/* Either side is gone: the other side sees end of file. */
	shutdown(b->host_fd, SHUT_RDWR);
	shutdown(b->mine_fd, SHUT_RDWR);
	return NULL;
}

/* ---- traceN bridge ---- */

static void *trace_bridge(void *arg) {
	struct bridge *b = arg;
	if (!b->pending) b->pending = malloc(MAX_RECORD);
	for (;;) {
		if (parked()) return NULL;
		/* One record: header, then payload. */
		int r = read_exact(b->host_fd, b->pending, 8, &b->pending_len);
		if (r < 0) return NULL;
		if (r == 0) break;
		uint32_t len;
		memcpy(&len, b->pending + 4, 4);
		if (len > MAX_RECORD - 8) break;
		r = read_exact(b->host_fd, b->pending, 8 + len, &b->pending_len);
		if (r < 0) return NULL;
		if (r == 0) break;
		if (write_all(b->mine_fd, b->pending, 8 + len) < 0) break;
		b->pending_len = 0;
		/* Wait until stapio has read it all, or has closed its end. */
		for (;;) {
			int queued = 0;
			if (ioctl(b->mine_fd, SIOCOUTQ, &queued) < 0 || queued == 0) break;
			struct pollfd p = {b->mine_fd, POLLRDHUP, 0};
			if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) goto stapio_gone;
			if (parked()) return NULL;
			usleep(200);
		}
	}
	/* The host ended the stream (module unloaded): keep stapio's end open but silent, as a relay file that
	 * has no more data, until stapio closes it. */
	for (;;) {
		struct pollfd p[2] = {{b->mine_fd, POLLRDHUP, 0}, {park_pipe[0], POLLIN, 0}};
		if (poll(p, 2, -1) < 0 && errno == EINTR) continue;
		if (p[1].revents) return NULL;
		if (p[0].revents) break;
	}
stapio_gone:
	shutdown(b->host_fd, SHUT_RDWR);
	return NULL;
}

/* Bridges block every signal: stapio's signals belong to stapio's own threads (a signal the kernel handed to a
 * bridge would otherwise be lost, which is not a 4.8 behaviour but an artefact of the harness). */
static void start_bridge(struct bridge *b) {
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	b->running = pthread_create(&b->thread, NULL, b->kind == KIND_CTL ? ctl_bridge : trace_bridge, b) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Connects to the socket at dirfd/path and returns stapio's end of a bridged pair, or -1 with errno. */
static int open_socket_file(int dirfd, const char *path, enum kind kind) {
	char link[PATH_MAX * 2];
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (path[0] == '/') {
		snprintf(link, sizeof link, "%s", path);
	} else if (dirfd == AT_FDCWD) {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd)) return -1;
		snprintf(link, sizeof link, "%s/%s", cwd, path);
	} else {
		snprintf(link, sizeof link, "/proc/self/fd/%d/%s", dirfd, path);
	}
	if (strlen(link) >= sizeof addr.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(addr.sun_path, link);
	int host = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (host < 0) return -1;
	if (connect(host, (struct sockaddr *)&addr, sizeof addr) < 0) {
		int e = errno;
		close(host);
		errno = (e == ECONNREFUSED) ? ENOENT : e; /* a host that is gone leaves a dead socket file */
		return -1;
	}
	int pair[2];
	if (socketpair(AF_UNIX, (kind == KIND_CTL ? SOCK_SEQPACKET : SOCK_STREAM) | SOCK_CLOEXEC, 0, pair) < 0) {
		close(host);
		return -1;
	}
	pthread_mutex_lock(&bridges_lock);
	if (bridge_count == MAX_BRIDGES) {
		pthread_mutex_unlock(&bridges_lock);
		close(host), close(pair[0]), close(pair[1]);
		errno = EMFILE;
		return -1;
	}
	struct bridge *b = &bridges[bridge_count++];
	memset(b, 0, sizeof *b);
	b->kind = kind;
	b->app_fd = pair[0];
	b->mine_fd = pair[1];
	b->host_fd = host;
	start_bridge(b);
	pthread_mutex_unlock(&bridges_lock);
	return pair[0];
}

static int is_socket_file(int dirfd, const char *path, enum kind *kind) {
	struct stat st;
	if (fstatat(dirfd, path, &st, 0) < 0 || !S_ISSOCK(st.st_mode)) return 0;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	*kind = strcmp(base, ".cmd") == 0 ? KIND_CTL : KIND_TRACE;
	return 1;
}

/* ---- interposed libc functions ---- */

static int shim_openat(int dirfd, const char *path, int flags, mode_t mode) {
	enum kind kind;
	if (is_socket_file(dirfd, path, &kind)) return open_socket_file(dirfd, path, kind);
	return real_open_at(dirfd, path, flags, mode);
}

#define MODE_ARG(flags, mode)                                                                                  \
	mode_t mode = 0;                                                                                             \
	if ((flags) & (O_CREAT | __O_TMPFILE)) {                                                                     \
		va_list ap;                                                                                                \
		va_start(ap, flags);                                                                                       \
		mode = va_arg(ap, int);                                                                                    \
		va_end(ap);                                                                                                \
	}

int openat64(int dirfd, const char *path, int flags, ...) {
	MODE_ARG(flags, mode);
	return shim_openat(dirfd, path, flags, mode);
}
int openat(int dirfd, const char *path, int flags, ...) {
	MODE_ARG(flags, mode);
	return shim_openat(dirfd, path, flags, mode);
}
int open64(const char *path, int flags, ...) {
	MODE_ARG(flags, mode);
	return shim_openat(AT_FDCWD, path, flags, mode);
}
int open(const char *path, int flags, ...) {
	MODE_ARG(flags, mode);
	return shim_openat(AT_FDCWD, path, flags, mode);
}

ssize_t write(int fd, const void *buf, size_t count) {
	static ssize_t (*real)(int, const void *, size_t);
	if (!real) real = dlsym(RTLD_NEXT, "write");
	if (count >= 4 && !module_bulk) {
		uint32_t type;
		memcpy(&type, buf, 4);
		if (type == STP_BULK) {
			pthread_mutex_lock(&bridges_lock);
			for (int i = 0; i < bridge_count; i++) {
				if (bridges[i].kind == KIND_CTL && bridges[i].app_fd == fd) {
					pthread_mutex_unlock(&bridges_lock);
					errno = EINVAL; /* the 4.8 runtime's answer when the module is not bulk */
					return -1;
				}
			}
			pthread_mutex_unlock(&bridges_lock);
		}
	}
	return real(fd, buf, count);
}

int daemon(int nochdir, int noclose) {
	static int (*real)(int, int);
	if (!real) real = dlsym(RTLD_NEXT, "daemon");
	pthread_mutex_lock(&bridges_lock);
	char one = 1;
	if (park_pipe[1] >= 0 && bridge_count > 0) {
		(void)!write(park_pipe[1], &one, 1);
		for (int i = 0; i < bridge_count; i++)
			if (bridges[i].running) pthread_join(bridges[i].thread, NULL), bridges[i].running = 0;
		char drop;
		(void)!read(park_pipe[0], &drop, 1);
	}
	int rc = real(nochdir, noclose);
	for (int i = 0; i < bridge_count; i++) start_bridge(&bridges[i]);
	pthread_mutex_unlock(&bridges_lock);
	return rc;
}
