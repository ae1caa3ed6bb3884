#ifndef TCP_ACKED_H
#define TCP_ACKED_H

/*
 * The bytes the peers of an HTTP engine's TCP connections have
 * acknowledged: what has left the machine. libcurl's progress counts the
 * bytes it has written to a socket, which the socket's send buffer
 * (autotuned to megabytes) takes at memory speed at the start of an
 * upload; the acknowledged bytes come at the link's speed. For
 * model.compression=auto's upload meter (transfer-internal.h).
 *
 * The engine notes each connection libcurl opens (tcp_acked_opened(),
 * from CURLOPT_SOCKOPTFUNCTION); tcp_acked_find() names the one a
 * transfer uses by its local and peer ports (CURLINFO_LOCAL_PORT,
 * CURLINFO_PRIMARY_PORT), which libcurl reports while the transfer runs,
 * a reused connection too. tcp_acked_start() begins a transfer's count
 * on its connection from now, tcp_acked_take() answers the bytes
 * acknowledged on a connection since the last start or take, whichever
 * transfer did it: transfers that share a connection (HTTP/2) count its
 * bytes once.
 *
 * Linux only (TCP_INFO's tcpi_bytes_acked); elsewhere, and for any
 * socket the kernel cannot say about, find and take return -1 and the
 * caller counts what it wrote. Owned by one thread; not thread-safe.
 */

#include <stddef.h>
#include <stdint.h>

struct tcp_acked_conn {
	int fd;
	uint64_t taken; /* its acknowledged bytes at the last start or take */
	long local_port, peer_port; /* once asked, or 0 */
};

struct tcp_acked {
	struct tcp_acked_conn *conn;
	size_t nr, alloc;
};

#define TCP_ACKED_INIT { NULL, 0, 0 }

void tcp_acked_opened(struct tcp_acked *a, int fd);

/* The index of the connection with these ports, or -1. */
int tcp_acked_find(struct tcp_acked *a, long local_port, long peer_port);

/*
 * 1 when connection `i` has these ports. The kernel is asked once per
 * connection: a number libcurl closes and opens again is a new one
 * (tcp_acked_opened()); a number closed and taken by a socket libcurl
 * did not open is not seen, and its bytes would count (the count only
 * informs a choice).
 */
int tcp_acked_is(struct tcp_acked *a, int i, long local_port,
		 long peer_port);

/* 0, or -1 when the kernel cannot say (the caller counts another way). */
int tcp_acked_start(struct tcp_acked *a, int i);

/* 0 with the bytes acknowledged on connection `i` since then, or -1. */
int tcp_acked_take(struct tcp_acked *a, int i, uint64_t *bytes);

void tcp_acked_release(struct tcp_acked *a);

#endif
