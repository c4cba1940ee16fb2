package dev.hull.linux;

import static dev.hull.linux.Native.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Extended attributes of an open file ({@code flistxattr}, {@code fgetxattr}, {@code fsetxattr}):
 * for copies that hold each entry by a descriptor and never look a path up twice. A file system
 * without xattrs reads as having none.
 */
public final class FdXattrs {
    private static final int ENOTSUP = 95;

    private FdXattrs() {}

    private static final class FLISTXATTR {
        static final MemorySegment F = symbol("flistxattr");
    }
    private static final class FGETXATTR {
        static final MemorySegment F = symbol("fgetxattr");
    }
    private static final class FSETXATTR {
        static final MemorySegment F = symbol("fsetxattr");
    }

    /** Every attribute of fd, name to value, in the order the file system lists them. */
    public static Map<String, byte[]> read(int fd) throws LinuxException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            byte[] names = null;
            while (names == null) {
                long size = (long) call(st, FLISTXATTR.F, fd, 0, 0L);
                if (size == 0) {
                    return out;
                }
                if (size > 0) {
                    MemorySegment buf = arena.allocate(size);
                    long r = (long) call(st, FLISTXATTR.F, fd, buf.address(), size);
                    if (r >= 0) {
                        names = buf.asSlice(0, r).toArray(JAVA_BYTE);
                        break;
                    }
                }
                int e = errno(st);
                if (e == ENOTSUP) {
                    return out;
                }
                if (e != Errno.ERANGE) { // ERANGE: the list grew between the two calls
                    throw new LinuxException("flistxattr(" + fd + ")", e);
                }
            }
            int start = 0;
            for (int i = 0; i < names.length; i++) {
                if (names[i] == 0) {
                    String name = new String(names, start, i - start, StandardCharsets.UTF_8);
                    start = i + 1;
                    byte[] v = get(arena, st, fd, name);
                    if (v != null) {
                        out.put(name, v);
                    }
                }
            }
            return out;
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static byte[] get(Arena arena, MemorySegment st, int fd, String name) throws Throwable {
        MemorySegment n = cstr(arena, name);
        for (;;) {
            long size = (long) call(st, FGETXATTR.F, fd, n.address(), 0, 0L);
            if (size >= 0) {
                MemorySegment buf = arena.allocate(Math.max(1, size));
                long r = (long) call(st, FGETXATTR.F, fd, n.address(), buf.address(), size);
                if (r >= 0) {
                    return buf.asSlice(0, r).toArray(JAVA_BYTE);
                }
            }
            int e = errno(st);
            if (e == Errno.ENODATA) {
                return null; // removed meanwhile
            }
            if (e != Errno.ERANGE) {
                throw new LinuxException("fgetxattr(" + fd + ", " + name + ")", e);
            }
        }
    }

    /** fsetxattr(fd, name, value, 0): creates or replaces the attribute. */
    public static void set(int fd, String name, byte[] value) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment v = arena.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, v, JAVA_BYTE, 0, value.length);
            int r = (int) call(st, FSETXATTR.F, fd, cstr(arena, name).address(), v.address(), (long) value.length, 0);
            if (r != 0) {
                throw new LinuxException("fsetxattr(" + fd + ", " + name + ", " + value.length + " bytes)", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }
}
