package dev.hull.service.docker;

import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.FutureCallback;

/**
 * dockerd's hijacked connections (attach, exec start): the answer is {@code 101 Switching
 * Protocols} (Upgrade: tcp), after which the connection carries the process's raw stream both
 * ways — the 8-byte multiplexed stdout/stderr framing without a terminal, raw bytes with one;
 * the client's half-close ends stdin. Jetty hands the connection's endpoint over to a {@link Raw}
 * connection once the 101 is written ({@link HttpStream#UPGRADE_CONNECTION_ATTRIBUTE}).
 */
final class Hijack {
    private Hijack() {}

    /** Where a session's output goes: the hijacked connection, or a plain response body. */
    interface Stream {
        /** Writes all of data (blocking); false once the client is gone. */
        boolean write(byte[] data, int off, int len);

        /** One frame of docker's multiplexed stream: [stream, 0, 0, 0, size (u32 big-endian)] + data. */
        default boolean frame(int stream, byte[] data, int off, int len) {
            byte[] b = Frames.frame(stream, data, off, len);
            return write(b, 0, b.length);
        }

        /** The output is over: the client sees EOF. */
        void finish();
    }

    /** What runs over a hijacked connection. */
    interface Session {
        /** The 101 is out and the connection is ours: start the process, pump its output. */
        void opened(Stream connection);

        /** Bytes the client sent (its stdin). */
        void input(ByteBuffer data);

        /** The client closed its side (stdin EOF), or went away. */
        void inputClosed();

        /** The connection is gone. */
        default void closed() {}
    }

    /** Answers 101 and makes the connection session's. */
    static void upgrade(Exchange x, boolean tty, Session session) {
        if (x.request.getHeaders().get(HttpHeader.UPGRADE) == null) {
            // A client that did not ask to upgrade (docker-java's exec start, Testcontainers): dockerd
            // answers 200 and streams the output as the body; such a client sends no stdin.
            session.opened(new Body(x, x.stream(200, "application/vnd.docker.raw-stream")));
            session.inputClosed();
            return;
        }
        EndPoint endPoint = x.request.getConnectionMetaData().getConnection().getEndPoint();
        Executor executor = x.request.getComponents().getExecutor();
        Raw raw = new Raw(endPoint, executor, session, x.api);
        x.request.setAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE, raw);
        x.response.setStatus(101);
        x.response.getHeaders().put(HttpHeader.CONNECTION, "Upgrade");
        x.response.getHeaders().put(HttpHeader.UPGRADE, "tcp");
        x.response.getHeaders().put(HttpHeader.CONTENT_TYPE, tty ? "application/vnd.docker.raw-stream"
                : "application/vnd.docker.multiplexed-stream");
        x.markAnswered();
        x.response.write(true, null, x.callback);
    }

    /** The output as a response body (chunked), for a client that did not upgrade. */
    private record Body(Exchange x, java.io.OutputStream out) implements Stream {
        @Override
        public synchronized boolean write(byte[] data, int off, int len) {
            try {
                out.write(data, off, len);
                out.flush();
                return true;
            } catch (IOException e) {
                return false;
            }
        }

        @Override
        public void finish() {
            x.finish(out);
        }
    }

    /** The connection after the 101: blocking writes for the output pumps, reads handed to the session. */
    static final class Raw extends AbstractConnection implements Connection.UpgradeTo, Stream {
        private final Session session;
        private final ByteBuffer buffer = BufferUtil.allocate(65536);
        private volatile boolean inputDone;
        private final DockerApiServer api;

        Raw(EndPoint endPoint, Executor executor, Session session, DockerApiServer api) {
            super(endPoint, executor);
            this.session = session;
            this.api = api;
        }

        @Override
        public void onUpgradeTo(ByteBuffer prefilled) {
            if (prefilled != null && prefilled.hasRemaining()) {
                session.input(prefilled.slice());
            }
        }

        @Override
        public void onOpen() {
            super.onOpen();
            api.rawOpened();
            session.opened(this); // before the first read: input finds the session ready
            fillInterested();
        }

        @Override
        public void onFillable() {
            try {
                for (;;) {
                    BufferUtil.clear(buffer);
                    int n = getEndPoint().fill(buffer);
                    if (n > 0) {
                        session.input(buffer.slice());
                    } else if (n == 0) {
                        fillInterested();
                        return;
                    } else {
                        endOfInput();
                        return;
                    }
                }
            } catch (IOException e) {
                endOfInput();
            }
        }

        private void endOfInput() {
            if (!inputDone) {
                inputDone = true;
                session.inputClosed();
            }
        }

        @Override
        public void onClose(Throwable cause) {
            super.onClose(cause);
            api.rawClosed();
            endOfInput();
            session.closed();
        }

        @Override
        public synchronized boolean write(byte[] data, int off, int len) {
            if (!getEndPoint().isOpen()) {
                return false;
            }
            FutureCallback done = new FutureCallback();
            getEndPoint().write(done, ByteBuffer.wrap(data, off, len));
            try {
                done.get();
                return true;
            } catch (ExecutionException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        @Override
        public void finish() {
            try {
                getEndPoint().shutdownOutput();
            } finally {
                getEndPoint().close();
            }
        }
    }

    /**
     * The descriptors a container's (or exec's) stdio get, bridged to a hijacked connection:
     * socket pairs whose other ends this side reads (stdout, stderr) and writes (stdin).
     */
    static class Bridge implements Session {
        final boolean tty;
        final boolean stdin;
        /** For the process: stdin, stdout, stderr. */
        final int[] theirs = {-1, -1, -1};
        private int stdinOurs = -1;
        private final int[] outOurs = {-1, -1};
        private volatile Stream raw;
        private final java.util.concurrent.CompletableFuture<Stream> connected = new java.util.concurrent.CompletableFuture<>();
        private final java.util.concurrent.CountDownLatch outputDone;
        private final boolean wantStdout;
        private final boolean wantStderr;
        /** The process's exit code: the connection ends only once it is known (exec inspect, wait). */
        private final java.util.concurrent.CompletableFuture<Integer> exit = new java.util.concurrent.CompletableFuture<>();
        private volatile Runnable onClientGone;
        /** The keys that detach (their bytes), for a terminal with stdin; null: none. */
        volatile String detachKeys;
        /** The process runs with theirs (set by the start). */
        volatile boolean started;
        /** Runs on the connection before the output is pumped (attach?logs=1's replay, the monitor's join). */
        volatile java.util.function.Consumer<Stream> prelude;

        Bridge(boolean tty, boolean stdin, boolean stdout, boolean stderr) throws LinuxException {
            this(tty, stdin, stdout, stderr, false);
        }

        private Bridge(boolean tty, boolean stdin, boolean stdout, boolean stderr, boolean discard)
                throws LinuxException {
            this.tty = tty;
            this.stdin = stdin;
            this.wantStdout = stdout;
            this.wantStderr = stderr;
            if (discard) {
                theirs[0] = Syscalls.open("/dev/null", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
                theirs[1] = Syscalls.open("/dev/null", Syscalls.O_WRONLY | Syscalls.O_CLOEXEC, 0);
                theirs[2] = Syscalls.open("/dev/null", Syscalls.O_WRONLY | Syscalls.O_CLOEXEC, 0);
                outputDone = new java.util.concurrent.CountDownLatch(0);
                return;
            }
            if (stdin) {
                int[] p = Syscalls.socketpair();
                theirs[0] = p[0];
                stdinOurs = p[1];
            } else {
                theirs[0] = Syscalls.open("/dev/null", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
            }
            int[] out = Syscalls.socketpair();
            theirs[1] = out[0];
            outOurs[0] = out[1];
            if (tty) { // one stream: the terminal's
                theirs[2] = Syscalls.open("/dev/null", Syscalls.O_WRONLY | Syscalls.O_CLOEXEC, 0);
            } else {
                int[] err = Syscalls.socketpair();
                theirs[2] = err[0];
                outOurs[1] = err[1];
            }
            outputDone = new java.util.concurrent.CountDownLatch(tty ? 1 : 2);
        }

        /** The process has its copies: ours go, so the output ends when the process's copies do. */
        synchronized void releaseTheirs() {
            for (int i = 0; i < 3; i++) {
                if (theirs[i] >= 0) {
                    Syscalls.close(theirs[i]);
                    theirs[i] = -1;
                }
            }
        }

        @Override
        public void opened(Stream connection) {
            raw = connection;
            java.util.function.Consumer<Stream> first = prelude;
            if (first != null) {
                first.accept(connection);
            }
            connected.complete(connection);
            for (int i = 0; i < (tty ? 1 : 2); i++) {
                int stream = i + 1;
                int fd = outOurs[i];
                boolean wanted = i == 0 ? wantStdout : wantStderr;
                Thread.ofPlatform().daemon().name("hull-api-out-" + fd).start(() -> pump(fd, stream, wanted));
            }
        }

        private void pump(int fd, int stream, boolean wanted) {
            byte[] buf = new byte[32768];
            boolean clientGone = false;
            try {
                int n;
                while ((n = Syscalls.read(fd, buf, 0, buf.length)) > 0) {
                    if (clientGone || !wanted) {
                        continue; // keep draining: the monitor must never block on us
                    }
                    clientGone = !(tty ? raw.write(buf, 0, n) : raw.frame(stream, buf, 0, n));
                    if (clientGone) { // its connection took no more: the client is gone, not just its stdin
                        closed();
                    }
                }
            } catch (IOException e) {
                // the process's end is gone
            } finally {
                Syscalls.close(fd);
                outputDone.countDown();
                if (outputDone.getCount() == 0) {
                    try {
                        exit.get(60, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (Exception e) {
                        // finish anyway
                    }
                    raw.finish();
                }
            }
        }

        @Override
        public void input(ByteBuffer data) {
            int fd = stdinOurs;
            if (fd < 0) {
                return;
            }
            byte[] b = new byte[data.remaining()];
            data.get(b);
            try {
                Syscalls.writeFully(fd, b);
            } catch (IOException e) {
                inputClosed(); // the process closed its stdin
            }
        }

        @Override
        public void inputClosed() {
            synchronized (this) {
                if (stdinOurs >= 0) {
                    Syscalls.close(stdinOurs);
                    stdinOurs = -1;
                }
            }
        }

        @Override
        public void closed() {
            Runnable gone = onClientGone;
            if (gone != null) {
                gone.run();
            }
        }

        /** r runs when the connection closes (a pending attachment is dropped then). */
        void onClientGone(Runnable r) {
            this.onClientGone = r;
        }

        /** The process ended with code: the output may end the connection now. */
        void exited(int code) {
            exit.complete(code);
        }

        /** For a detached process: every stdio descriptor /dev/null, nothing relayed. */
        static Bridge discarding() throws LinuxException {
            return new Bridge(false, false, false, false, true);
        }

        /** Waits until the client's connection is ours (the 101 was written). */
        Stream awaitConnected(long millis) throws IOException {
            try {
                return connected.get(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException | ExecutionException e) {
                throw new IOException("the hijacked connection was not established");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }

        /** Nothing will run: every descriptor goes, and the client sees its connection end. */
        void abandon() {
            exit.complete(-1); // nothing to wait for: the connection may end as soon as the output does
            releaseTheirs();
            inputClosed();
            Stream r = raw;
            if (r == null) {
                for (int fd : outOurs) {
                    if (fd >= 0) {
                        Syscalls.close(fd);
                    }
                }
            }
            // with a connection, the pumps see EOF (their ends are closed above) and finish it
        }

        /** Sends an error text on the stream (stderr frame, or raw with a terminal). */
        void say(String text) {
            Stream r = raw;
            if (r != null) {
                byte[] b = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                if (tty) {
                    r.write(b, 0, b.length);
                } else {
                    r.frame(2, b, 0, b.length);
                }
            }
        }
    }
}
