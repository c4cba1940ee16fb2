package dev.hull.linux;

import static dev.hull.linux.Native.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The kernel's key retention service (keyctl(2), add_key(2)): "user" keys in the caller's user
 * keyring, which Hull reads a disk's key-encryption key from ({@code --key-file keyring:NAME}).
 */
public final class Keyring {
    private static final long SYS_ADD_KEY = 248, SYS_KEYCTL = 250;
    private static final long KEY_SPEC_USER_KEYRING = -4;
    private static final int KEYCTL_UNLINK = 9, KEYCTL_SEARCH = 10, KEYCTL_READ = 11, KEYCTL_SETPERM = 5;
    /** A user key's largest payload (32 KiB). */
    private static final int MAX = 32767;

    private static final class SYSCALL {
        static final MemorySegment F = symbol("syscall");
    }

    private Keyring() {}

    /** The payload of the "user" key called name in the caller's user keyring (found by keyctl search). */
    public static byte[] readUserKey(String name) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            long id = call(st, SYSCALL.F, SYS_KEYCTL, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING,
                    cstr(arena, "user").address(), cstr(arena, name).address(), 0);
            if (id < 0) {
                throw new LinuxException("keyctl search user " + name, errno(st));
            }
            MemorySegment buf = arena.allocate(MAX);
            long n = call(st, SYSCALL.F, SYS_KEYCTL, KEYCTL_READ, id, buf.address(), MAX);
            if (n < 0) {
                throw new LinuxException("keyctl read " + name, errno(st));
            }
            byte[] out = buf.asSlice(0, Math.min(n, MAX)).toArray(ValueLayout.JAVA_BYTE);
            buf.fill((byte) 0);
            return out;
        }
    }

    /** Adds (or replaces) the "user" key name with payload to the caller's user keyring, readable by the user; its id. */
    public static long addUserKey(String name, byte[] payload) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment p = arena.allocateFrom(ValueLayout.JAVA_BYTE, payload);
            long id = call(st, SYSCALL.F, SYS_ADD_KEY, cstr(arena, "user").address(), cstr(arena, name).address(),
                    p.address(), payload.length, KEY_SPEC_USER_KEYRING);
            p.fill((byte) 0);
            if (id < 0) {
                throw new LinuxException("add_key user " + name, errno(st));
            }
            // possessor all; user view, read, search (a process that does not possess the user keyring
            // still finds and reads it: the service, a shell's children)
            if (call(st, SYSCALL.F, SYS_KEYCTL, KEYCTL_SETPERM, id, 0x3f0b0000L) < 0) {
                throw new LinuxException("keyctl setperm " + name, errno(st));
            }
            return id;
        }
    }

    /** Removes the key id from the caller's user keyring. */
    public static void unlink(long id) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            if (call(st, SYSCALL.F, SYS_KEYCTL, KEYCTL_UNLINK, id, KEY_SPEC_USER_KEYRING) < 0) {
                throw new LinuxException("keyctl unlink " + id, errno(st));
            }
        }
    }
}
