package dev.hull.linux;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * fscrypt's ioctls (v2 policies): a master key added to or removed from a filesystem's own
 * keyring, and a directory's policy. The kernel names a v2 key by a 16-byte identifier it derives
 * from the key.
 */
public final class Fscrypt {
    private static final long ADD_KEY = 0xC0506617L, REMOVE_KEY = 0xC0406618L, SET_POLICY = 0x800C6613L,
            KEY_STATUS = 0xC080661AL;
    private static final int SPEC_TYPE_IDENTIFIER = 2, SPEC_SIZE = 40, ID_OFFSET = 8, ID_SIZE = 16;
    /** fscrypt_add_key_arg: key_spec, raw_size, key_id, 8 reserved u32, then the raw key. */
    private static final int ADD_HEADER = 80;
    private static final byte MODE_AES_256_XTS = 1, MODE_AES_256_CTS = 4, PAD_32 = 3;
    public static final int KEY_ABSENT = 1, KEY_PRESENT = 2, KEY_INCOMPLETELY_REMOVED = 3;
    /** Removal left files in use: their contents stay readable until they are closed. */
    public static final int REMOVAL_FILES_BUSY = 1;

    private Fscrypt() {}

    /** Adds the raw key (64 bytes) to the keyring of the filesystem fd lies on; returns its identifier. */
    public static byte[] addKey(int fd, byte[] raw) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment arg = arena.allocate(ADD_HEADER + raw.length);
            arg.set(JAVA_INT, 0, SPEC_TYPE_IDENTIFIER);
            arg.set(JAVA_INT, SPEC_SIZE, raw.length);
            MemorySegment.copy(raw, 0, arg, JAVA_BYTE, ADD_HEADER, raw.length);
            try {
                Ioctl.call(fd, ADD_KEY, arg, "ioctl(FS_IOC_ADD_ENCRYPTION_KEY)");
                return arg.asSlice(ID_OFFSET, ID_SIZE).toArray(JAVA_BYTE);
            } finally {
                arg.asSlice(ADD_HEADER, raw.length).fill((byte) 0);
            }
        }
    }

    /** Removes the key from the filesystem's keyring; returns the removal status flags. */
    public static int removeKey(int fd, byte[] identifier) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment arg = spec(arena, 64, identifier);
            Ioctl.call(fd, REMOVE_KEY, arg, "ioctl(FS_IOC_REMOVE_ENCRYPTION_KEY)");
            return arg.get(JAVA_INT, SPEC_SIZE);
        }
    }

    /** KEY_ABSENT, KEY_PRESENT or KEY_INCOMPLETELY_REMOVED. */
    public static int keyStatus(int fd, byte[] identifier) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment arg = spec(arena, 128, identifier);
            Ioctl.call(fd, KEY_STATUS, arg, "ioctl(FS_IOC_GET_ENCRYPTION_KEY_STATUS)");
            return arg.get(JAVA_INT, SPEC_SIZE + 24);
        }
    }

    /** Sets a v2 policy on the empty directory fd: AES-256-XTS contents, AES-256-CTS names. */
    public static void setPolicy(int fd, byte[] identifier) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(24);
            p.set(JAVA_BYTE, 0, (byte) 2);
            p.set(JAVA_BYTE, 1, MODE_AES_256_XTS);
            p.set(JAVA_BYTE, 2, MODE_AES_256_CTS);
            p.set(JAVA_BYTE, 3, PAD_32);
            MemorySegment.copy(identifier, 0, p, JAVA_BYTE, 8, ID_SIZE);
            Ioctl.call(fd, SET_POLICY, p, "ioctl(FS_IOC_SET_ENCRYPTION_POLICY)");
        }
    }

    private static MemorySegment spec(Arena arena, int size, byte[] identifier) {
        MemorySegment arg = arena.allocate(size);
        arg.set(JAVA_INT, 0, SPEC_TYPE_IDENTIFIER);
        MemorySegment.copy(identifier, 0, arg, JAVA_BYTE, ID_OFFSET, ID_SIZE);
        return arg;
    }
}
