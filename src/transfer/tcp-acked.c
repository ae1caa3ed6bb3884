#include "tcp-acked.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#ifdef __linux__
#include <linux/tcp.h>
#endif

#include "wrapper.h"
#include "banned.h"

void tcp_acked_opened(struct tcp_acked *a, int fd)
{
	size_t i;

	/* a number libcurl closed and opened again is a new connection */
	for (i = 0; i < a->nr; i++)
		if (a->conn[i].fd == fd)
			break;
	if (i == a->nr) {
		ALLOC_GROW(a->conn, a->nr + 1, a->alloc);
		a->nr++;
	}
	a->conn[i].fd = fd;
	a->conn[i].taken = 0;
	a->conn[i].local_port = a->conn[i].peer_port = 0;
}

static long port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return -1;
}

int tcp_acked_is(struct tcp_acked *a, int i, long local_port,
		 long peer_port)
{
	struct tcp_acked_conn *c;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (i < 0 || (size_t)i >= a->nr || local_port <= 0 || peer_port <= 0)
		return 0;
	c = &a->conn[i];
	if (c->local_port <= 0) {
		/* not connected yet when these fail: asked again */
		if (getsockname(c->fd, (struct sockaddr *)&ss, &len) < 0)
			return 0;
		c->local_port = port_of(&ss);
		len = sizeof(ss);
		if (getpeername(c->fd, (struct sockaddr *)&ss, &len) < 0) {
			c->local_port = 0;
			return 0;
		}
		c->peer_port = port_of(&ss);
	}
	return c->local_port == local_port && c->peer_port == peer_port;
}

int tcp_acked_find(struct tcp_acked *a, long local_port, long peer_port)
{
	size_t i;

	for (i = 0; i < a->nr; i++)
		if (tcp_acked_is(a, i, local_port, peer_port))
			return i;
	return -1;
}

/* The bytes acknowledged on connection `i` since it was opened. */
static int acked(struct tcp_acked *a, int i, uint64_t *bytes)
{
#if defined(__linux__) && defined(TCP_INFO)
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (i < 0 || (size_t)i >= a->nr)
		return -1;
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(a->conn[i].fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_acked) +
			  sizeof(ti.tcpi_bytes_acked))
		return -1;
	*bytes = ti.tcpi_bytes_acked;
	return 0;
#else
	(void)a;
	(void)i;
	(void)bytes;
	return -1;
#endif
}

int tcp_acked_start(struct tcp_acked *a, int i)
{
	uint64_t now;

	if (acked(a, i, &now) < 0)
		return -1;
	a->conn[i].taken = now;
	return 0;
}

int tcp_acked_take(struct tcp_acked *a, int i, uint64_t *bytes)
{
	uint64_t now;

	if (acked(a, i, &now) < 0)
		return -1;
	*bytes = now > a->conn[i].taken ? now - a->conn[i].taken : 0;
	a->conn[i].taken = now;
	return 0;
}

void tcp_acked_release(struct tcp_acked *a)
{
	free(a->conn);
	a->conn = NULL;
	a->nr = a->alloc = 0;
}
