package dev.hull.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * Loop devices through /dev/loop-control and LOOP_CONFIGURE: a free device bound to a file in one
 * call, with autoclear, so the device lets go of its file when its last user (a mount) is gone and
 * nothing has to detach it later.
 */
public final class LoopDevices {
    private static final long LOOP_CTL_GET_FREE = 0x4C82, LOOP_CONFIGURE = 0x4C0A, LOOP_SET_CAPACITY = 0x4C07;
    private static final int LO_FLAGS_AUTOCLEAR = 4;
    /** sizeof(struct loop_config): fd, block_size, struct loop_info64 (232 bytes), 8 reserved u64. */
    private static final int CONFIG_SIZE = 304, FLAGS_OFFSET = 8 + 52, FILE_NAME_OFFSET = 8 + 56;
    private static final int EBUSY = 16;

    private LoopDevices() {}

    /**
     * A free loop device bound to the file (read-write, autoclear); returns its path and an open
     * descriptor on it, which the caller closes once something (a mount) holds the device.
     */
    public static Attached attach(String file) throws LinuxException {
        int control = Syscalls.open("/dev/loop-control", Syscalls.O_RDWR | Syscalls.O_CLOEXEC, 0);
        int backing = -1;
        try {
            backing = Syscalls.open(file, Syscalls.O_RDWR | Syscalls.O_CLOEXEC, 0);
            for (int tries = 0; ; tries++) {
                int n = Ioctl.call(control, LOOP_CTL_GET_FREE, 0L, "ioctl(/dev/loop-control, LOOP_CTL_GET_FREE)");
                String dev = "/dev/loop" + n;
                int fd = Syscalls.open(dev, Syscalls.O_RDWR | Syscalls.O_CLOEXEC, 0);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment cfg = arena.allocate(CONFIG_SIZE);
                    cfg.set(JAVA_INT, 0, backing);
                    cfg.set(JAVA_INT, FLAGS_OFFSET, LO_FLAGS_AUTOCLEAR);
                    byte[] name = file.getBytes(StandardCharsets.UTF_8);
                    MemorySegment.copy(name, 0, cfg, java.lang.foreign.ValueLayout.JAVA_BYTE, FILE_NAME_OFFSET,
                            Math.min(name.length, 63));
                    Ioctl.call(fd, LOOP_CONFIGURE, cfg, "ioctl(" + dev + ", LOOP_CONFIGURE, " + file + ")");
                    return new Attached(dev, fd);
                } catch (LinuxException e) {
                    Syscalls.close(fd);
                    if (e.errno() != EBUSY || tries > 20) { // another process took it between the two calls
                        throw e;
                    }
                }
            }
        } finally {
            if (backing >= 0) {
                Syscalls.close(backing);
            }
            Syscalls.close(control);
        }
    }

    /** A loop device bound to its file, and a descriptor on the device. */
    public record Attached(String device, int fd) implements AutoCloseable {
        @Override
        public void close() {
            Syscalls.close(fd);
        }
    }

    /** Makes the device see its file's new size (LOOP_SET_CAPACITY). */
    public static void refreshCapacity(String device) throws LinuxException {
        int fd = Syscalls.open(device, Syscalls.O_RDWR | Syscalls.O_CLOEXEC, 0);
        try {
            Ioctl.call(fd, LOOP_SET_CAPACITY, 0L, "ioctl(" + device + ", LOOP_SET_CAPACITY)");
        } finally {
            Syscalls.close(fd);
        }
    }

    /** Grows the ext4 filesystem that file descriptor fd lies on to blocks blocks (EXT4_IOC_RESIZE_FS, online). */
    public static void resizeExt4(int fd, long blocks) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocate(JAVA_LONG);
            n.set(JAVA_LONG, 0, blocks);
            Ioctl.call(fd, 0x40086610L, n, "ioctl(EXT4_IOC_RESIZE_FS, " + blocks + ")");
        }
    }
}
