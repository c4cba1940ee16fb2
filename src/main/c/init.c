/* hull-executor --init -- CMD ARGS...: a tiny init for `hull run --init`.
 * Exec'd as the container's PID 1 from the executor's own sealed executable (no host file of
 * Hull's is bound into the container): it runs
 * CMD as its child, forwards every signal it can catch to it, reaps every
 * zombie the container leaves (orphans are re-parented to PID 1), and exits
 * with CMD's status (128+N when CMD died of signal N). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor.h"

int init_main(int argc, char **argv)
{
    int first = 2;
    if (first < argc && strcmp(argv[first], "--") == 0) first++;
    if (first >= argc) {
        dprintf(2, "usage: hull-init -- COMMAND [ARGS...]\n");
        return 2;
    }
    /* Exec'd from a descriptor (the executor's sealed executable), the kernel named us after its
     * number; ps should say what we are. */
    prctl(PR_SET_NAME, "hull-init", 0, 0, 0);
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t cmd = fork();
    if (cmd < 0) {
        dprintf(2, "hull-init: fork: %s\n", strerror(errno));
        return 125;
    }
    if (cmd == 0) {
        /* The command starts with no signal blocked (Hull execs this init with all of them blocked,
         * so that none sent before it ran is lost). */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setpgid(0, 0);
        /* Put the command in the foreground of the terminal, if there is one. */
        if (isatty(0)) {
            signal(SIGTTOU, SIG_IGN);
            tcsetpgrp(0, getpid());
            signal(SIGTTOU, SIG_DFL);
        }
        execvp(argv[first], argv + first);
        int e = errno;
        dprintf(2, "hull-init: exec %s: %s\n", argv[first], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
    }
    for (;;) {
        siginfo_t si;
        struct timespec tick = { 1, 0 };
        int sig = sigtimedwait(&all, &si, &tick);
        if (sig > 0 && sig != SIGCHLD) {
            /* SIGKILL/SIGSTOP never arrive here; the rest go to the command's process group */
            if (kill(-cmd, sig) < 0) kill(cmd, sig);
            continue;
        }
        int status;
        pid_t w;
        while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
            if (w == cmd) {
                /* reap what is left, then leave: the kernel kills the rest of the namespace */
                while (waitpid(-1, NULL, WNOHANG) > 0) {}
                return exit_code(status);
            }
        }
    }
}
