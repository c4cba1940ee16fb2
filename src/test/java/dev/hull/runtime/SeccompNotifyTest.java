package dev.hull.runtime;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.linux.Syscalls;
import dev.hull.linux.UnixSocket;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SCMP_ACT_NOTIFY against the real kernel: a test agent listens on linux.seccomp.listenerPath,
 * receives the container process state and the listener fd, and answers the container's
 * notified syscalls (SECCOMP_IOCTL_NOTIF_RECV / _SEND through FFM).
 */
class SeccompNotifyTest {
    static Path base;
    static ContainerRuntime rt;

    @BeforeAll
    static void setUp() {
        base = Bundles.tempDir("scnotify");
        rt = new ContainerRuntime(ContainerTests.root(base));
    }

    @AfterAll
    static void tearDown() {
        Bundles.cleanUp(base);
    }

    // x86_64 uapi (linux/seccomp.h): struct seccomp_notif is 80 bytes (id u64, pid u32, flags u32,
    // struct seccomp_data at 16: nr s32, arch u32, ip u64, args u64[6]); seccomp_notif_resp is 24
    // bytes (id u64, val s64, error s32, flags u32). _IOWR('!', 0/1, ...).
    static final long NOTIF_RECV = 0xC0502100L, NOTIF_SEND = 0xC0182101L;
    static final int NOTIF_SIZE = 80, RESP_SIZE = 24, FLAG_CONTINUE = 1;
    static final int POLLIN = 1, POLLHUP = 0x10;
    static final int EACCES = 13, ENOSPC = 28, ENOENT = 2, EINTR = 4;
    static final Set<Integer> MKDIR_NRS = Set.of(83, 258); // mkdir, mkdirat

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final MethodHandle IOCTL = LINKER.downcallHandle(LINKER.defaultLookup().find("ioctl").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle POLL = LINKER.downcallHandle(LINKER.defaultLookup().find("poll").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    /** {error (positive errno, 0 for none), flags} for the n-th notification (0-based). */
    record Answer(int errno, int flags) {}

    /**
     * The listener side: accepts connections, keeps each payload, and serves each connection's
     * listener fd (on a thread of its own) until no process uses that filter any more.
     */
    static final class Agent implements AutoCloseable {
        final Path socket;
        final int listenFd;
        final IntFunction<Answer> policy;
        final List<Integer> notifiedNrs = Collections.synchronizedList(new ArrayList<>());
        final List<String> payloads = Collections.synchronizedList(new ArrayList<>());
        final List<Integer> receivedFds = Collections.synchronizedList(new ArrayList<>());
        final List<Thread> servers = Collections.synchronizedList(new ArrayList<>());
        final java.util.concurrent.atomic.AtomicInteger served = new java.util.concurrent.atomic.AtomicInteger();
        volatile boolean closing;
        volatile Throwable failure;
        final Thread acceptor;

        Agent(Path socket, IntFunction<Answer> policy) throws Exception {
            this.socket = socket;
            this.policy = policy;
            this.listenFd = UnixSocket.listen(socket.toString(), 4);
            this.acceptor = Thread.ofPlatform().daemon().name("test-seccomp-agent").start(this::acceptLoop);
        }

        private void acceptLoop() {
            try {
                while (true) {
                    int conn;
                    try {
                        conn = UnixSocket.accept(listenFd);
                    } catch (dev.hull.linux.LinuxException e) {
                        if (closing) {
                            return;
                        }
                        throw e;
                    }
                    UnixSocket.Message m;
                    try {
                        m = UnixSocket.receive(conn, 1 << 16, 4);
                    } finally {
                        Syscalls.close(conn);
                    }
                    payloads.add(new String(m.data(), StandardCharsets.UTF_8));
                    receivedFds.add(m.fds().length);
                    for (int i = 1; i < m.fds().length; i++) {
                        Syscalls.close(m.fds()[i]);
                    }
                    if (m.fds().length > 0) {
                        int nfd = m.fds()[0];
                        servers.add(Thread.ofPlatform().daemon().start(() -> serve(nfd)));
                    }
                }
            } catch (Throwable t) {
                failure = t;
            }
        }

        private void serve(int nfd) {
            try {
                notifications(nfd);
            } catch (Throwable t) {
                failure = t;
            } finally {
                Syscalls.close(nfd);
            }
        }

        /** Waits until every listener fd received so far has no process left under its filter. */
        void awaitServed() throws InterruptedException {
            for (Thread t : List.copyOf(servers)) {
                t.join(30_000);
            }
        }

        JsonNode payload(int i) throws Exception {
            return Bundles.JSON.readTree(payloads.get(i));
        }

        private void notifications(int nfd) throws Throwable {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment pfd = arena.allocate(8, 4);
                MemorySegment req = arena.allocate(NOTIF_SIZE, 8);
                MemorySegment resp = arena.allocate(RESP_SIZE, 8);
                MemorySegment st = arena.allocate(Linker.Option.captureStateLayout());
                for (int n = 0;;) {
                    pfd.set(JAVA_INT, 0, nfd);
                    pfd.set(JAVA_SHORT, 4, (short) POLLIN);
                    pfd.set(JAVA_SHORT, 6, (short) 0);
                    int r = (int) POLL.invokeExact(pfd, 1L, -1);
                    short rev = pfd.get(JAVA_SHORT, 6);
                    if (r < 0) {
                        continue; // EINTR
                    }
                    if ((rev & POLLIN) == 0 && (rev & POLLHUP) != 0) {
                        return; // no task uses the filter any more
                    }
                    req.fill((byte) 0); // the kernel wants it zeroed
                    if ((int) IOCTL.invokeExact(st, nfd, NOTIF_RECV, req) < 0) {
                        int e = st.get(JAVA_INT, 0);
                        if (e == ENOENT || e == EINTR) {
                            continue; // the caller went away meanwhile
                        }
                        throw new IllegalStateException("SECCOMP_IOCTL_NOTIF_RECV: errno " + e);
                    }
                    notifiedNrs.add(req.get(JAVA_INT, 16));
                    n++;
                    Answer a = policy.apply(served.getAndIncrement());
                    resp.fill((byte) 0);
                    resp.set(JAVA_LONG, 0, req.get(JAVA_LONG, 0));
                    resp.set(JAVA_INT, 16, -a.errno());
                    resp.set(JAVA_INT, 20, a.flags());
                    if ((int) IOCTL.invokeExact(st, nfd, NOTIF_SEND, resp) < 0) {
                        int e = st.get(JAVA_INT, 0);
                        if (e != ENOENT) {
                            throw new IllegalStateException("SECCOMP_IOCTL_NOTIF_SEND: errno " + e);
                        }
                    }
                }
            }
        }

        @Override
        public void close() throws Exception {
            closing = true;
            UnixSocket.shutdown(listenFd); // ends a wait in accept
            acceptor.join(30_000);
            awaitServed();
            Syscalls.close(listenFd);
            if (failure != null) {
                throw new AssertionError("agent failed", failure);
            }
        }
    }

    static ObjectNode notifyProfile(Path listener, String... names) {
        ObjectNode p = SeccompTest.profile("SCMP_ACT_ALLOW");
        SeccompTest.rule(p, "SCMP_ACT_NOTIFY", names);
        if (listener != null) {
            p.put("listenerPath", listener.toString());
        }
        return p;
    }

    Bundles.Bundle bundle(ObjectNode seccomp) {
        Bundles.Bundle b = Bundles.create(base, "b");
        b.linux().set("seccomp", seccomp);
        return b;
    }

    @Test
    void agentGetsTheStateAndAnswersMkdir() throws Exception {
        Path sock = base.resolve("agent-" + Bundles.id("a") + ".sock");
        ObjectNode p = notifyProfile(sock, "mkdir", "mkdirat");
        p.put("listenerMetadata", "agent-meta=1");
        Bundles.Bundle b = bundle(p); // the default spec: noNewPrivileges (filter loaded just before ready)
        b.script("mkdir /out/x; echo x=$?; mkdir /out/y; echo y=$?");
        b.write();
        String id = Bundles.id("scn");
        int code;
        try (Agent agent = new Agent(sock, n -> n == 0 ? new Answer(EACCES, 0) : new Answer(0, FLAG_CONTINUE))) {
            code = rt.run(id, b.dir, null, false, null);
            agent.awaitServed();
            assertThat(agent.receivedFds).containsExactly(1);
            JsonNode j = agent.payload(0);
            assertThat(j.path("ociVersion").asText()).isEqualTo(ContainerRuntime.OCI_VERSION);
            assertThat(j.path("fds").toString()).isEqualTo("[\"seccompFd\"]");
            assertThat(j.path("metadata").asText()).isEqualTo("agent-meta=1");
            int pid = j.path("pid").asInt();
            assertThat(pid).isPositive();
            JsonNode state = j.path("state");
            assertThat(state.path("id").asText()).isEqualTo(id);
            assertThat(state.path("status").asText()).isEqualTo("creating");
            assertThat(state.path("pid").asInt()).isEqualTo(pid);
            assertThat(state.path("bundle").asText()).isEqualTo(b.dir.toAbsolutePath().normalize().toString());
            assertThat(agent.notifiedNrs).isNotEmpty().allSatisfy(nr -> assertThat(MKDIR_NRS).contains(nr));
        }
        assertThat(code).as("stderr: %s", ContainerTests.read(b, "stderr")).isZero();
        assertThat(ContainerTests.read(b, "stdout")).isEqualTo("x=1\ny=0\n");
        assertThat(ContainerTests.read(b, "stderr")).contains("Permission denied");
        assertThat(b.out.resolve("x")).doesNotExist();
        assertThat(b.out.resolve("y")).isDirectory(); // CONTINUE: the kernel ran it
    }

    @Test
    void withoutNoNewPrivilegesTheFilterIsLoadedEarlyAndStillServed() throws Exception {
        Path sock = base.resolve("agent-" + Bundles.id("e") + ".sock");
        Bundles.Bundle b = bundle(notifyProfile(sock, "mkdir", "mkdirat"));
        b.process().put("noNewPrivileges", false);
        b.script("mkdir /out/z; echo z=$?");
        b.write();
        int code;
        try (Agent agent = new Agent(sock, n -> new Answer(ENOSPC, 0))) {
            code = rt.run(Bundles.id("scn"), b.dir, null, false, null);
            agent.awaitServed();
            assertThat(agent.payload(0).has("metadata")).isFalse();
            assertThat(agent.notifiedNrs).isNotEmpty();
        }
        assertThat(code).isZero();
        assertThat(ContainerTests.read(b, "stdout")).isEqualTo("z=1\n");
        assertThat(ContainerTests.read(b, "stderr")).contains("No space left on device");
        assertThat(b.out.resolve("z")).doesNotExist();
    }

    /** Until the agent has read n payloads (its own thread takes them off the socket), for up to 60 s. */
    private static void awaitPayloads(Agent agent, int n) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (agent.payloads.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    @Test
    void execGetsItsOwnFilterAndListener() throws Exception {
        Path sock = base.resolve("agent-" + Bundles.id("x") + ".sock");
        Bundles.Bundle b = bundle(notifyProfile(sock, "mkdir", "mkdirat"));
        b.script("sleep 1000");
        b.write();
        String id = Bundles.id("scn");
        Path root = ContainerTests.root(base);
        try (Agent agent = new Agent(sock, n -> new Answer(EACCES, 0))) {
            rt.create(id, b.dir, null);
            try {
                rt.start(id);
                awaitPayloads(agent, 1); // the agent reads on a thread of its own: wait for it, then count
                assertThat(agent.payloads).hasSize(1);
                Host.Result r = Host.cli(root, "exec", id, "sh", "-c", "mkdir /out/e; echo e=$?");
                assertThat(r.exit()).as("%s", r).isZero();
                assertThat(r.out()).isEqualTo("e=1\n");
                assertThat(r.err()).contains("Permission denied");
                assertThat(b.out.resolve("e")).doesNotExist();
                awaitPayloads(agent, 2);
                assertThat(agent.payloads).hasSize(2);
                JsonNode j = agent.payload(1);
                assertThat(j.path("state").path("id").asText()).isEqualTo(id);
                assertThat(j.path("state").path("status").asText()).isEqualTo("running");
                assertThat(j.path("pid").asInt()).isNotEqualTo(j.path("state").path("pid").asInt()); // the exec'd process
            } finally {
                rt.delete(id, true);
            }
        }
    }

    @Test
    void planLoadsANotifyingFilterBeforeReady() throws Exception {
        ObjectNode c = PlanSeccompTest.config(true);
        ObjectNode s = (ObjectNode) c.at("/linux/seccomp");
        s.put("listenerPath", "/run/agent.sock");
        ((ObjectNode) s.at("/syscalls/0")).put("action", "SCMP_ACT_NOTIFY");
        List<String> ops = PlanSeccompTest.ops(c);
        assertThat(ops).containsOnlyOnce("seccomp-notify").doesNotContain("seccomp");
        // with noNewPrivileges: after prctl(NO_NEW_PRIVS), right before ready (Java gets the fd during create)
        assertThat(ops.get(ops.indexOf("ready") - 1)).isEqualTo("seccomp-notify");
        assertThat(ops.get(ops.indexOf("ready") - 2)).isEqualTo("prctl");

        ObjectNode early = PlanSeccompTest.config(false);
        early.set("linux", c.get("linux"));
        List<String> eops = PlanSeccompTest.ops(early);
        assertThat(eops.indexOf("seccomp-notify")).isLessThan(eops.indexOf("setgid")).isLessThan(eops.indexOf("ready"));
    }

    @Test
    void nobodyListeningFailsCreateNamingTheFieldAndLeavesNothing() throws Exception {
        Path sock = base.resolve("nobody.sock");
        Bundles.Bundle b = bundle(notifyProfile(sock, "mkdir"));
        b.write();
        String id = Bundles.id("scn");
        Set<String> mounts = Host.mountPoints();
        assertThatThrownBy(() -> rt.create(id, b.dir, null)).isInstanceOf(RuntimeError.class)
                .hasMessageContaining("linux.seccomp.listenerPath " + sock)
                .hasMessageContaining("SCMP_ACT_NOTIFY");
        Host.assertNoTraces(ContainerTests.root(base), id, mounts);
        assertThat(rt.list().stream().map(s -> s.id())).doesNotContain(id);
    }

    @Test
    void notifyWithoutListenerPathIsBadInput() throws Exception {
        Bundles.Bundle b = bundle(notifyProfile(null, "mkdir"));
        b.write();
        String id = Bundles.id("scn");
        Set<String> mounts = Host.mountPoints();
        assertThatThrownBy(() -> rt.create(id, b.dir, null)).isInstanceOf(RuntimeError.class)
                .hasMessageStartingWith("config.json: linux.seccomp.listenerPath: required when an action is"
                        + " SCMP_ACT_NOTIFY (linux.seccomp.syscalls[0].action)")
                .satisfies(e -> assertThat(((RuntimeError) e).kind()).isEqualTo(RuntimeError.Kind.BAD_INPUT));
        Host.assertNoTraces(ContainerTests.root(base), id, mounts);
    }
}
