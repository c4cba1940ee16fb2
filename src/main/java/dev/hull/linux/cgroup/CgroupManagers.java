package dev.hull.linux.cgroup;

import java.util.ArrayList;
import java.util.List;

/** Chooses and configures the {@link CgroupManager} for a container. */
public final class CgroupManagers {

    /** Where containers go when config.json has no linux.cgroupsPath, and the base for relative paths. */
    public static final String DEFAULT_PARENT = "/hull";
    /**
     * The cgroup path recorded for a container made without a cgroup ({@link NoCgroupManager}, the
     * runtime's {@code run.hull.cgroup.none} annotation); {@link #forContainer} still refuses it as a
     * config.json's cgroupsPath.
     */
    public static final String NONE = "";

    private CgroupManagers() {}

    /**
     * The manager for a container.
     *
     * <p>Path rules for {@code cgroupsPath} (config.json {@code linux.cgroupsPath}):
     * <ul>
     *   <li>{@code null}: {@code /hull/<containerId>}.</li>
     *   <li>absolute ({@code /a/b}): relative to the root of each hierarchy's mount (not to the caller's own
     *       cgroup).</li>
     *   <li>relative ({@code a/b}): relative to {@code /hull}, i.e. {@code /hull/a/b}. (The OCI spec leaves
     *       relative paths to the runtime; runc makes them relative to its own cgroup, Hull does not.)</li>
     *   <li>the systemd form {@code slice:prefix:name} (no "/"): without {@code --systemd-cgroup} (which Hull
     *       does not support) runc's cgroupfs driver takes it as a plain relative path, one directory named
     *       {@code slice:prefix:name}; so does Hull ({@code /hull/slice:prefix:name}). containerd's CRI plugin
     *       writes this form whenever the pod's cgroup parent ends in ".slice" (critest's default parent is
     *       {@code /test.slice} when the CRI has no RuntimeConfig, as containerd 1.6), even with
     *       {@code SystemdCgroup = false}.</li>
     *   <li>rejected with {@link IllegalArgumentException}: "." or ".." components, empty components
     *       ("a//b", trailing "/", the root "/" itself), NUL or newline characters.</li>
     * </ul>
     * On a {@link CgroupLayout.Mode#V2} host the result is a {@link CgroupV2Manager}, otherwise a
     * {@link CgroupV1Manager} (which also manages the cgroup2 mount on a hybrid host).
     */
    public static CgroupManager forContainer(CgroupLayout layout, String cgroupsPath, String containerId) {
        String path = resolve(cgroupsPath, containerId);
        return switch (layout.mode()) {
            case V2 -> new CgroupV2Manager(layout.unifiedMount(), path);
            case HYBRID, LEGACY -> new CgroupV1Manager(layout, path);
        };
    }

    /** The manager of a container without a cgroup of its own ({@link NoCgroupManager}). */
    public static CgroupManager none() {
        return new NoCgroupManager();
    }

    /** The manager of a recorded container: its cgroup path as recorded, {@link #NONE} for none. */
    public static CgroupManager forRecord(CgroupLayout layout, String recordedPath, String containerId) {
        return NONE.equals(recordedPath) ? none() : forContainer(layout, recordedPath, containerId);
    }

    /** Applies the rules of {@link #forContainer} and returns the normalized absolute path. */
    public static String resolve(String cgroupsPath, String containerId) {
        if (cgroupsPath == null) {
            if (containerId == null || containerId.isEmpty() || containerId.contains("/")
                    || containerId.equals(".") || containerId.equals("..")) {
                throw new IllegalArgumentException("container id '" + containerId
                        + "' cannot be used as a cgroup name");
            }
            return normalize(DEFAULT_PARENT + "/" + containerId);
        }
        return normalize(cgroupsPath.startsWith("/") ? cgroupsPath : DEFAULT_PARENT + "/" + cgroupsPath);
    }

    /** Validates an absolute cgroup path; returns it unchanged. */
    static String normalize(String path) {
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("linux.cgroupsPath: '" + path + "' is not absolute");
        }
        components(path);
        return path;
    }

    /** The components of an absolute cgroup path, validated. */
    static List<String> components(String absolutePath) {
        if (absolutePath.indexOf('\0') >= 0 || absolutePath.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("linux.cgroupsPath: '" + absolutePath.replace("\n", "\\n")
                    .replace("\0", "\\0") + "' contains a NUL or newline character");
        }
        if (absolutePath.equals("/")) {
            throw new IllegalArgumentException("linux.cgroupsPath: '/' (the root cgroup) cannot be a container's cgroup");
        }
        List<String> out = new ArrayList<>();
        String[] parts = absolutePath.substring(1).split("/", -1);
        for (String c : parts) {
            if (c.isEmpty()) {
                throw new IllegalArgumentException("linux.cgroupsPath: '" + absolutePath + "' has an empty component");
            }
            if (c.equals("..") || c.equals(".")) {
                throw new IllegalArgumentException("linux.cgroupsPath: '" + absolutePath
                        + "' must not contain '" + c + "' components");
            }
            out.add(c);
        }
        return out;
    }
}
