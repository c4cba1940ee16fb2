package dev.hull.engines;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;
import runtime.v1.Api;
import runtime.v1.RuntimeServiceGrpc;

/**
 * containerd's CRI plugin (what the kubelet talks to) with Hull as a runtime handler (the runc shim
 * with BinaryName = hull-runtime, warm and cold) and runc as the control, driven over the CRI socket
 * by a gRPC client generated from the CRI contract (../shared/specs/cri-api/api.proto): a pod sandbox
 * (a pause image of the test's own), containers created, started, exec'd, one ending by itself
 * (its exit code and log seen), one stopped, both removed, the sandbox stopped and removed.
 * Host-network pods, and pods on a CNI bridge (Debian's bridge and host-local plugins, a test
 * subnet): containerd runs in a network namespace the test makes, so the bridge, the pods' veths
 * and the "node" network of host-network pods are all inside it, and the pods' namespaces are kept
 * in containerd's own state dir.
 */
class ContainerdCriTest {
    static final List<String> RUNTIMES = Engines.RUNTIMES;
    static final String NAMESPACE = "k8s.io";
    static final String BUSYBOX = "docker.io/library/busybox:latest";
    static final String PAUSE = "hull.test/pause:1";
    static final ObjectMapper JSON = new ObjectMapper();

    static final String SUBNET = "10.231.7.";

    static Path dir;
    static String netns;
    static Process server;
    static Containerd containerd;
    static EventLoopGroup group;
    static ManagedChannel channel;
    static RuntimeServiceGrpc.RuntimeServiceBlockingStub cri;

    @BeforeAll
    static void setUp() throws Exception {
        String missing = Containerd.missing();
        Assumptions.assumeTrue(missing == null, () -> "containerd cannot run: " + missing);
        Assumptions.assumeTrue(Engines.installed("/usr/bin/gcc"), "no gcc to build the pause image");
        dir = Engines.base("cri");
        Path socket = dir.resolve("runtime.sock");
        Engines.writeRuntimes(dir, socket);
        server = Engines.startServer(dir, socket);
        StringBuilder runtimes = new StringBuilder();
        for (String rt : RUNTIMES) {
            runtimes.append("""
                    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%1$s]
                      runtime_type = "io.containerd.runc.v2"
                    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%1$s.options]
                      BinaryName = "%2$s"
                      Root = "%3$s/runc-root/%1$s"
                    """.formatted(rt, Engines.runtime(dir, rt), dir));
        }
        Assumptions.assumeTrue(Engines.installed("/usr/lib/cni/bridge") && Engines.installed("/usr/lib/cni/host-local")
                && Engines.installed("/usr/lib/cni/loopback"),
                "no CNI plugins in /usr/lib/cni (./test installs Debian's containernetworking-plugins)");
        Files.createDirectories(dir.resolve("cni"));
        Files.writeString(dir.resolve("cni/10-hull-cri-test.conflist"), """
                {"cniVersion": "0.4.0", "name": "hull-cri-test", "plugins": [
                  {"type": "bridge", "bridge": "hullcri0", "isGateway": true, "ipMasq": false,
                   "ipam": {"type": "host-local", "ranges": [[{"subnet": "%1$s0/24"}]], "dataDir": "%2$s/cni-ipam"}}]}
                """.formatted(SUBNET, dir));
        netns = dir.getFileName().toString();
        Engines.Result add = Engines.run(dir, "ip", "netns", "add", netns);
        assertThat(add.exit()).as("%s", add).isZero();
        Engines.run(dir, "ip", "-n", netns, "link", "set", "lo", "up");
        containerd = Containerd.start(dir, NAMESPACE, """
                [plugins."io.containerd.grpc.v1.cri"]
                  sandbox_image = "%2$s"
                  restrict_oom_score_adj = true
                  disable_tcp_service = true
                  stream_server_address = "127.0.0.1"
                  stream_server_port = "0"
                  enable_cdi = false
                  netns_mounts_under_state_dir = true
                [plugins."io.containerd.grpc.v1.cri".cni]
                  bin_dir = "/usr/lib/cni"
                  conf_dir = "%1$s/cni"
                [plugins."io.containerd.grpc.v1.cri".containerd]
                  default_runtime_name = "runc"
                  snapshotter = "overlayfs"
                """.formatted(dir, PAUSE) + runtimes, List.of("nsenter", "--net=/run/netns/" + netns));
        Engines.Result imp = containerd.ctr("images", "import", Engines.busyboxArchive(dir).toString());
        assertThat(imp.exit()).as("%s", imp).isZero();
        imp = containerd.ctr("images", "import", pauseArchive().toString());
        assertThat(imp.exit()).as("%s", imp).isZero();
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(containerd.address.toString()))
                .eventLoopGroup(group).channelType(EpollDomainSocketChannel.class).overrideAuthority("localhost")
                .usePlaintext().build();
        cri = RuntimeServiceGrpc.newBlockingStub(channel);
        Api.VersionResponse v = cri().version(Api.VersionRequest.getDefaultInstance());
        assertThat(v.getRuntimeName()).isEqualTo("containerd");
        // The CRI plugin sees the images ctr imported into its namespace (it syncs them by events).
        assertThat(Engines.waitUntil(() -> imageKnown(BUSYBOX) && imageKnown(PAUSE))).isTrue();
    }

    static RuntimeServiceGrpc.RuntimeServiceBlockingStub cri() {
        return cri.withDeadlineAfter(Engines.LONG.toSeconds(), TimeUnit.SECONDS);
    }

    static boolean imageKnown(String name) {
        var images = runtime.v1.ImageServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                .imageStatus(Api.ImageStatusRequest.newBuilder().setImage(Api.ImageSpec.newBuilder().setImage(name))
                        .build());
        return images.hasImage();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (dir == null) {
            return;
        }
        if (cri != null) {
            try {
                for (Api.PodSandbox p : cri().listPodSandbox(Api.ListPodSandboxRequest.getDefaultInstance())
                        .getItemsList()) {
                    cri().stopPodSandbox(Api.StopPodSandboxRequest.newBuilder().setPodSandboxId(p.getId()).build());
                    cri().removePodSandbox(Api.RemovePodSandboxRequest.newBuilder().setPodSandboxId(p.getId()).build());
                }
            } catch (RuntimeException e) {
                System.err.println("CRI teardown: " + e);
            }
            channel.shutdownNow().awaitTermination(30, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(30, TimeUnit.SECONDS);
        }
        if (containerd != null) {
            containerd.close();
        }
        Engines.stop(server, dir);
        Engines.remove(dir);
        if (netns != null) {
            Engines.run(Path.of("/"), "ip", "netns", "del", netns);
        }
        for (String rt : RUNTIMES) {
            Engines.removeCgroups("hull-cri-test-pod-" + rt);
            Engines.removeCgroups("hull-cri-test-net-" + rt);
        }
    }

    /** A pause image of our own: a static binary that waits for a signal, as a docker-archive. */
    static Path pauseArchive() throws Exception {
        Path c = dir.resolve("pause.c");
        Files.writeString(c, """
                #include <signal.h>
                #include <unistd.h>
                #include <sys/wait.h>
                static void done(int s) { (void) s; _exit(0); }
                static void reap(int s) { (void) s; while (waitpid(-1, 0, WNOHANG) > 0) {} }
                int main(void) {
                    signal(SIGTERM, done);
                    signal(SIGINT, done);
                    signal(SIGCHLD, reap);
                    for (;;) pause();
                }
                """);
        Path bin = dir.resolve("pause");
        Engines.Result cc = Engines.run(dir, "gcc", "-static", "-O2", "-o", bin.toString(), c.toString());
        assertThat(cc.exit()).as("%s", cc).isZero();
        ByteArrayOutputStream layer = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(layer)) {
            byte[] data = Files.readAllBytes(bin);
            TarArchiveEntry e = new TarArchiveEntry("pause");
            e.setMode(0755);
            e.setSize(data.length);
            t.putArchiveEntry(e);
            t.write(data);
            t.closeArchiveEntry();
        }
        byte[] layerBytes = layer.toByteArray();
        String diffId = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(layerBytes));
        byte[] config = JSON.writeValueAsBytes(JSON.readTree("""
                {"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"]},
                 "rootfs":{"type":"layers","diff_ids":["%s"]}}""".formatted(diffId)));
        byte[] manifest = ("[{\"Config\":\"config.json\",\"RepoTags\":[\"" + PAUSE + "\"],\"Layers\":[\"layer.tar\"]}]")
                .getBytes(StandardCharsets.UTF_8);
        Path tar = dir.resolve("pause.tar");
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(Files.newOutputStream(tar))) {
            for (var f : List.of(java.util.Map.entry("layer.tar", layerBytes), java.util.Map.entry("config.json", config),
                    java.util.Map.entry("manifest.json", manifest))) {
                TarArchiveEntry e = new TarArchiveEntry(f.getKey());
                e.setSize(f.getValue().length);
                t.putArchiveEntry(e);
                t.write(f.getValue());
                t.closeArchiveEntry();
            }
        }
        return tar;
    }

    static Api.PodSandboxConfig sandboxConfig(String name) {
        return sandboxConfig(name, Api.NamespaceMode.NODE);
    }

    static Api.PodSandboxConfig sandboxConfig(String name, Api.NamespaceMode network) {
        return Api.PodSandboxConfig.newBuilder()
                .setMetadata(Api.PodSandboxMetadata.newBuilder().setName(name).setNamespace("hull-test").setUid(name))
                .setLogDirectory(dir.resolve("logs").resolve(name).toString())
                .setLinux(Api.LinuxPodSandboxConfig.newBuilder().setCgroupParent("/hull-cri-test-" + name)
                        .setSecurityContext(Api.LinuxSandboxSecurityContext.newBuilder().setNamespaceOptions(
                                Api.NamespaceOption.newBuilder().setNetwork(network))))
                .build();
    }

    static String createContainer(String pod, Api.PodSandboxConfig sandbox, String name, String... command) {
        Api.ContainerConfig config = Api.ContainerConfig.newBuilder()
                .setMetadata(Api.ContainerMetadata.newBuilder().setName(name))
                .setImage(Api.ImageSpec.newBuilder().setImage(BUSYBOX)).addAllCommand(List.of(command))
                .setLogPath(name + ".log").build();
        return cri().createContainer(Api.CreateContainerRequest.newBuilder().setPodSandboxId(pod).setConfig(config)
                .setSandboxConfig(sandbox).build()).getContainerId();
    }

    static Api.ContainerStatusResponse status(String id) {
        return cri().containerStatus(Api.ContainerStatusRequest.newBuilder().setContainerId(id).setVerbose(true).build());
    }

    @ParameterizedTest
    @FieldSource("RUNTIMES")
    void aPodsLifecycle(String runtime) throws Exception {
        Api.PodSandboxConfig sandbox = sandboxConfig("pod-" + runtime);
        String pod = cri().runPodSandbox(Api.RunPodSandboxRequest.newBuilder().setConfig(sandbox)
                .setRuntimeHandler(runtime).build()).getPodSandboxId();
        Api.PodSandboxStatusResponse ps = cri().podSandboxStatus(
                Api.PodSandboxStatusRequest.newBuilder().setPodSandboxId(pod).setVerbose(true).build());
        assertThat(ps.getStatus().getState()).isEqualTo(Api.PodSandboxState.SANDBOX_READY);
        JsonNode podInfo = JSON.readTree(ps.getInfoOrThrow("info"));
        assertThat(podInfo.path("runtimeHandler").asText()).isEqualTo(runtime);
        long pausePid = podInfo.path("pid").asLong();
        assertThat(Engines.waitUntil(() -> comm(pausePid).equals("pause"))).as(comm(pausePid)).isTrue();
        assertThat(Engines.cmdline(Engines.parent(pausePid))).startsWith(Containerd.SHIM)
                .contains(containerd.address.toString());

        // A long-running container: started, exec'd (exit code and output), then stopped. The pod shares
        // one pid namespace (the CRI's default): PID 1 in every container is the sandbox's pause, which
        // the runtime joins by path.
        String sleeper = createContainer(pod, sandbox, "sleeper", "sleep", "600");
        cri().startContainer(Api.StartContainerRequest.newBuilder().setContainerId(sleeper).build());
        Api.ContainerStatusResponse st = status(sleeper);
        assertThat(st.getStatus().getState()).isEqualTo(Api.ContainerState.CONTAINER_RUNNING);
        long pid = JSON.readTree(st.getInfoOrThrow("info")).path("pid").asLong();
        // runc's init execs the command just after start returns: wait for it.
        assertThat(Engines.waitUntil(() -> comm(pid).equals("sleep"))).as(comm(pid)).isTrue();
        assertThat(Engines.cmdline(Engines.parent(pid))).startsWith(Containerd.SHIM)
                .contains(containerd.address.toString());
        Api.ExecSyncResponse ex = cri().execSync(Api.ExecSyncRequest.newBuilder().setContainerId(sleeper)
                .addAllCmd(List.of("sh", "-c", "echo exec sees $(cat /proc/1/comm); echo err >&2; exit 3"))
                .setTimeout(120).build());
        assertThat(ex.getExitCode()).isEqualTo(3);
        assertThat(ex.getStdout()).isEqualTo(ByteString.copyFromUtf8("exec sees pause\n"));
        assertThat(ex.getStderr()).isEqualTo(ByteString.copyFromUtf8("err\n"));

        // Resources updated live (the runtime's update: the container's cgroup) and its stats.
        cri().updateContainerResources(Api.UpdateContainerResourcesRequest.newBuilder().setContainerId(sleeper)
                .setLinux(Api.LinuxContainerResources.newBuilder().setMemoryLimitInBytes(64L << 20)).build());
        assertThat(memoryLimit(pid)).isEqualTo(64L << 20);
        Api.ContainerStats stats = cri().containerStats(
                Api.ContainerStatsRequest.newBuilder().setContainerId(sleeper).build()).getStats();
        assertThat(stats.getAttributes().getId()).isEqualTo(sleeper);
        assertThat(stats.getMemory().getWorkingSetBytes().getValue()).isPositive();

        // A container that ends by itself: its exit code and its output in the pod's log.
        String ender = createContainer(pod, sandbox, "ender", "sh", "-c", "echo bye from a pod of $(cat /proc/1/comm); exit 5");
        cri().startContainer(Api.StartContainerRequest.newBuilder().setContainerId(ender).build());
        assertThat(Engines.waitUntil(() -> status(ender).getStatus().getState() == Api.ContainerState.CONTAINER_EXITED))
                .isTrue();
        assertThat(status(ender).getStatus().getExitCode()).isEqualTo(5);
        Path log = dir.resolve("logs").resolve("pod-" + runtime).resolve("ender.log");
        assertThat(Engines.waitUntil(() -> Engines.read(log).contains("bye from a pod of pause"))).as(Engines.read(log)).isTrue();

        // In the pod's shared pid namespace sleep is not PID 1: SIGTERM ends it (143).
        cri().stopContainer(Api.StopContainerRequest.newBuilder().setContainerId(sleeper).setTimeout(120).build());
        Api.ContainerStatus stopped = status(sleeper).getStatus();
        assertThat(stopped.getState()).isEqualTo(Api.ContainerState.CONTAINER_EXITED);
        assertThat(stopped.getExitCode()).isEqualTo(143);
        assertThat(Files.exists(Path.of("/proc/" + pid))).isFalse();
        for (String id : List.of(sleeper, ender)) {
            cri().removeContainer(Api.RemoveContainerRequest.newBuilder().setContainerId(id).build());
        }
        assertThat(cri().listContainers(Api.ListContainersRequest.newBuilder().setFilter(
                Api.ContainerFilter.newBuilder().setPodSandboxId(pod)).build()).getContainersList()).isEmpty();

        cri().stopPodSandbox(Api.StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        assertThat(cri().podSandboxStatus(Api.PodSandboxStatusRequest.newBuilder().setPodSandboxId(pod).build())
                .getStatus().getState()).isEqualTo(Api.PodSandboxState.SANDBOX_NOTREADY);
        assertThat(Files.exists(Path.of("/proc/" + pausePid))).isFalse();
        cri().removePodSandbox(Api.RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        assertThat(cri().listPodSandbox(Api.ListPodSandboxRequest.getDefaultInstance()).getItemsList())
                .noneMatch(p -> p.getId().equals(pod));
    }

    @ParameterizedTest
    @FieldSource("RUNTIMES")
    void aPodOnACniBridge(String runtime) {
        String name = "net-" + runtime;
        Api.PodSandboxConfig sandbox = sandboxConfig(name, Api.NamespaceMode.POD);
        String pod = cri().runPodSandbox(Api.RunPodSandboxRequest.newBuilder().setConfig(sandbox)
                .setRuntimeHandler(runtime).build()).getPodSandboxId();
        String ip = cri().podSandboxStatus(Api.PodSandboxStatusRequest.newBuilder().setPodSandboxId(pod).build())
                .getStatus().getNetwork().getIp();
        assertThat(ip).startsWith(SUBNET);
        String c = createContainer(pod, sandbox, "net", "sleep", "600");
        cri().startContainer(Api.StartContainerRequest.newBuilder().setContainerId(c).build());
        // The container is in the pod's network namespace: the CNI's eth0 with the pod's address, and the
        // bridge's gateway answers.
        Api.ExecSyncResponse addr = cri().execSync(Api.ExecSyncRequest.newBuilder().setContainerId(c)
                .addAllCmd(List.of("ip", "-4", "-o", "addr", "show", "eth0")).setTimeout(120).build());
        assertThat(addr.getExitCode()).as(addr.getStderr().toStringUtf8()).isZero();
        assertThat(addr.getStdout().toStringUtf8()).contains(" " + ip + "/24");
        Api.ExecSyncResponse ping = cri().execSync(Api.ExecSyncRequest.newBuilder().setContainerId(c)
                .addAllCmd(List.of("ping", "-c", "1", "-W", "30", SUBNET + "1")).setTimeout(120).build());
        assertThat(ping.getExitCode()).as(ping.getStdout().toStringUtf8() + ping.getStderr().toStringUtf8()).isZero();
        cri().stopPodSandbox(Api.StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        cri().removePodSandbox(Api.RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        assertThat(cri().listContainers(Api.ListContainersRequest.getDefaultInstance()).getContainersList())
                .noneMatch(x -> x.getId().equals(c));
    }

    /** The memory limit of the process's cgroup (v1 memory hierarchy). */
    static long memoryLimit(long pid) throws IOException {
        String path = Files.readAllLines(Path.of("/proc/" + pid + "/cgroup")).stream()
                .filter(l -> l.split(":", 3)[1].equals("memory")).findFirst().orElseThrow().split(":", 3)[2];
        return Long.parseLong(Files.readString(Path.of("/sys/fs/cgroup/memory" + path, "memory.limit_in_bytes")).strip());
    }

    static String comm(long pid) {
        try {
            return Engines.comm(pid);
        } catch (IOException e) {
            return "(gone: " + e + ")";
        }
    }
}
