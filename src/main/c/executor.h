/* What executor.c shares with the monitor (monitor.c) and the tiny init (init.c). */
#ifndef HULL_EXECUTOR_H
#define HULL_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define JAVA_FD 3

void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
#define SYSFAIL(fmt, ...) fail(fmt ": %s", ##__VA_ARGS__, strerror(errno))
void java_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int exit_code(int status);
void close_fds(unsigned int lo, unsigned int hi); /* close_range, or one by one */

/* ---- the warm path's client (client.c): hull-executor --client ... ---- */
int client_main(int argc, char **argv);

/* ---- the per-container monitor (monitor.c) ----
 * With OP_MONITOR in the plan, the executor forks at that op: the process
 * Java spawned exits at once (Java reaps it), and its child goes on as the
 * executor and, once the container is committed, as the container's monitor:
 * it holds the container's stdout/stderr (pipes), writes them to a json-file
 * log, records the status, and restarts the init per the restart policy. */
#define MONITOR_MAX_CGROUPS 32
struct monitor_config {
    int active;
    const char *status_path;  /* JSON status, replaced atomically (tmp + rename) */
    const char *log_path;     /* json-file log ("" for none) */
    uint64_t log_max_size;    /* bytes; 0: unlimited */
    uint64_t log_max_files;   /* rotated files kept, incl. the live one (>= 1) */
    uint64_t restart_mode;    /* 0 no, 1 on-failure, 2 always, 3 unless-stopped, 4 on-reboot */
    uint64_t restart_max;     /* on-failure: most restarts (0: no limit) */
    const char *stop_marker;  /* exists: the user stopped it, do not restart */
    uint64_t stdin_inherit;   /* 1: the container's stdin is the monitor's (the client's) fd 0 */
    uint64_t stdin_pipe;      /* 1: its stdin is a pipe the monitor holds (-i without a starting client) */
    unsigned char detach_keys[16]; /* typed on the relayed stdin: the client is let go (docker's ctrl-p ctrl-q) */
    size_t detach_len;        /* 0: no detach keys */
    const char *cgroup_procs[MONITOR_MAX_CGROUPS]; /* where a restarted init's pid is written */
    const char *uid_map, *gid_map; /* a restarted init's user namespace maps (NULL: no user namespace made) */
    int ncgroups;
    char **on_exit;           /* argv run (exec'd) when the container is done for good (--rm) */
    char **on_end;            /* ... when it ended by itself: no stop was asked (network clean-up) */
    int host_netns;           /* the host's network namespace (the monitor may sit in the container's) */
    char **health;            /* argv run while the init runs (`hull healthcheck run ID`), NULL for none */
    uint64_t health_interval_ms, health_start_interval_ms, health_start_period_ms;
};
extern struct monitor_config monitor;
extern int restarting; /* the init being made is a restart: no exec fifo, start report, hooks or console */

int monitor_prepare_stdio(int console, char *err, size_t cap); /* before clone: pipes, pty socket; -1 + err */
int monitor_console_socket(void);           /* in the init: where OP_CONSOLE sends the pty master */
void monitor_child_stdio(void);             /* in the new init: pipes onto 1 and 2, stdin */
void monitor_parent_stdio(void);            /* in the parent after clone: close the init's ends */
void monitor_record_start(pid_t init);      /* before COMMITTED: the status file says running */
void monitor_run(pid_t init, int attached) __attribute__((noreturn)); /* after COMMITTED */
/* executor.c: makes a new init from the same plan; -1 with a message in err on failure */
pid_t restart_init(char *err, size_t cap);
long long proc_start_time(pid_t pid);
void forget_child(void); /* the init was reaped: the parent forwards no more signals to its pid */

/* ---- the tiny init (init.c): hull-executor --init -- CMD ARGS... ---- */
int init_main(int argc, char **argv);

#endif
