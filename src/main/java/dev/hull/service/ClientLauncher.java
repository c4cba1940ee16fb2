package dev.hull.service;

import dev.hull.linux.FdPassing;
import dev.hull.linux.LinuxException;
import dev.hull.runtime.executor.ExecutorSession;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Starts the executor through the caller's client process (which forks and execs it, so the
 * executor and the container's init are in the caller's process tree, as with runc): "E n
 * to0 ... to(n-1)" with the n descriptors attached; the client answers "P pid" (or "P -errno").
 */
final class ClientLauncher implements ExecutorSession.Launcher {
    private final int conn;
    private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();

    ClientLauncher(int conn) {
        this.conn = conn;
    }

    void answered(String answer) {
        answers.add(answer);
    }

    @Override
    public synchronized int launch(int[] from, int[] to) throws IOException {
        StringBuilder line = new StringBuilder("E ").append(to.length);
        for (int t : to) {
            line.append(' ').append(t);
        }
        line.append('\n');
        FdPassing.sendFds(conn, from, line.toString().getBytes(StandardCharsets.US_ASCII));
        String a;
        try {
            a = answers.poll(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("waiting for the client to start the executor");
        }
        if (a == null) {
            throw new IOException("the client did not start the executor (no answer in 60 s)");
        }
        int pid;
        try {
            pid = Integer.parseInt(a);
        } catch (NumberFormatException e) {
            throw new IOException("the client's answer to starting the executor: " + a);
        }
        if (pid <= 0) {
            throw new LinuxException("the client's fork+exec of hull-executor", -pid);
        }
        return pid;
    }
}
