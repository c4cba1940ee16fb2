/* The clients attached to a running container, for its monitor (attach.c). */
#ifndef HULL_ATTACH_H
#define HULL_ATTACH_H

#include <poll.h>
#include <stddef.h>

#define ATTACH_MAX_CLIENTS 32 /* at once; and as many detached execs' terminals held */

/* The client the container was started with (the monitor's fds 0-3) joins; relay: its stdin goes to
 * the container; stdin_once: its stdin's end closes the container's (docker's StdinOnce of run -i). */
void clients_add_owner(int relay, int stdin_once);
/* No starting client: fds 0-3 become /dev/null, so nothing waits on us. */
void clients_release_owner_fds(void);
/* The starting client is still attached (it removes an --rm container itself). */
int clients_owner_attached(void);
/* A chunk of the container's stdout (0) or stderr (1), for every client. */
void clients_output(int stream, const char *p, size_t n);
/* Adds what the clients wait for to p from np on (to: where their stdin goes, -1 none); returns the new count. */
int clients_poll(struct pollfd *p, int np, int to);
/* Serves what clients_poll added, after the poll. */
void clients_after_poll(const struct pollfd *p, int to);
/* The init ended: what is pending goes out (for at most 2 s), then line (EXIT ...) to every client, who are let go. */
void clients_end(const char *line);
/* attach.sock beside the status file (status_path's directory), and its removal. */
void attach_open(const char *status_path);
void attach_close(void);
/* In a new init: closes the monitor's listening socket, its clients' descriptors (but the owner's 0-3) and held ttys. */
void attach_child_close(void);

/* monitor.c: the starting client's stdin ended and the container's stdin is the monitor's pipe: close it. */
void monitor_stdin_eof(void);

#endif
