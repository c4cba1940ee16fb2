package dev.hull.service;

import dev.hull.linux.FdControl;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * System.in, System.out and System.err per command. The {@code hull} commands print with
 * System.out/err (and load reads System.in); in the warm server many commands run at once,
 * each for another client. {@link #install()} (once, by the server) replaces the three with
 * streams that forward to the current thread's {@link Target} — the client's descriptors —
 * and to the process's own streams on any other thread. Threads a command starts (a pull's
 * downloads print progress) inherit its target.
 *
 * <p>The forwarding PrintStream takes no lock of its own: each call goes straight to the
 * target's PrintStream, so a client that does not read its output blocks only its own command.
 */
public final class Stdio {
    /** One client's streams; fds are its stdin, stdout, stderr (for terminal checks). */
    record Target(InputStream in, PrintStream out, PrintStream err, int[] fds) {}

    private static final InheritableThreadLocal<Target> CURRENT = new InheritableThreadLocal<>();
    private static PrintStream realOut;
    private static PrintStream realErr;
    private static InputStream realIn;

    private Stdio() {}

    /** Routes System.in/out/err per thread from now on (idempotent). */
    static synchronized void install() {
        if (realOut != null) {
            return;
        }
        realOut = System.out;
        realErr = System.err;
        realIn = System.in;
        System.setOut(new Forward(true));
        System.setErr(new Forward(false));
        System.setIn(new ForwardIn());
    }

    /** Runs body with System.in/out/err going to target on this thread (and threads it starts). */
    static <T> T with(Target target, Callable<T> body) throws Exception {
        Target before = CURRENT.get();
        CURRENT.set(target);
        try {
            return body.call();
        } finally {
            if (target != null) {
                target.out().flush();
                target.err().flush();
            }
            if (before == null) {
                CURRENT.remove();
            } else {
                CURRENT.set(before);
            }
        }
    }

    /**
     * Whether the command's stdin and stdout are a terminal (what {@code System.console()
     * .isTerminal()} tells a cold command): the client's descriptors on the warm path.
     */
    public static boolean isTerminal() {
        Target t = CURRENT.get();
        if (t == null || t.fds() == null) {
            var console = System.console();
            return console != null && console.isTerminal();
        }
        return FdControl.isTerminal(t.fds()[0]) && FdControl.isTerminal(t.fds()[1]);
    }

    private static final class ForwardIn extends InputStream {
        private static InputStream target() {
            Target t = CURRENT.get();
            return t != null ? t.in() : realIn;
        }

        @Override
        public int read() throws IOException {
            return target().read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return target().read(b, off, len);
        }

        @Override
        public int available() throws IOException {
            return target().available();
        }

        @Override
        public void close() throws IOException {
            Target t = CURRENT.get();
            if (t != null) {
                t.in().close(); // the process's own stdin stays open
            }
        }
    }

    /** A PrintStream that forwards every call to the current thread's target. */
    private static final class Forward extends PrintStream {
        private final boolean out;

        Forward(boolean out) {
            super(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
            this.out = out;
        }

        private PrintStream t() {
            Target t = CURRENT.get();
            if (t == null) {
                return out ? realOut : realErr;
            }
            return out ? t.out() : t.err();
        }

        @Override public void flush() { t().flush(); }
        @Override public void close() { t().flush(); } // never closes the client's (or the process's) stream
        @Override public boolean checkError() { return t().checkError(); }
        @Override public void write(int b) { t().write(b); }
        @Override public void write(byte[] buf, int off, int len) { t().write(buf, off, len); }
        @Override public void write(byte[] buf) throws IOException { t().write(buf); }
        @Override public void writeBytes(byte[] buf) { t().writeBytes(buf); }
        @Override public void print(boolean b) { t().print(b); }
        @Override public void print(char c) { t().print(c); }
        @Override public void print(int i) { t().print(i); }
        @Override public void print(long l) { t().print(l); }
        @Override public void print(float f) { t().print(f); }
        @Override public void print(double d) { t().print(d); }
        @Override public void print(char[] s) { t().print(s); }
        @Override public void print(String s) { t().print(s); }
        @Override public void print(Object obj) { t().print(obj); }
        @Override public void println() { t().println(); }
        @Override public void println(boolean x) { t().println(x); }
        @Override public void println(char x) { t().println(x); }
        @Override public void println(int x) { t().println(x); }
        @Override public void println(long x) { t().println(x); }
        @Override public void println(float x) { t().println(x); }
        @Override public void println(double x) { t().println(x); }
        @Override public void println(char[] x) { t().println(x); }
        @Override public void println(String x) { t().println(x); }
        @Override public void println(Object x) { t().println(x); }
        @Override public PrintStream printf(String format, Object... args) { t().printf(format, args); return this; }
        @Override public PrintStream printf(Locale l, String format, Object... args) {
            t().printf(l, format, args);
            return this;
        }
        @Override public PrintStream format(String format, Object... args) { t().format(format, args); return this; }
        @Override public PrintStream format(Locale l, String format, Object... args) {
            t().format(l, format, args);
            return this;
        }
        @Override public PrintStream append(CharSequence csq) { t().append(csq); return this; }
        @Override public PrintStream append(CharSequence csq, int start, int end) {
            t().append(csq, start, end);
            return this;
        }
        @Override public PrintStream append(char c) { t().append(c); return this; }
        @Override public java.nio.charset.Charset charset() { return t().charset(); }
    }
}
