package dev.hull.linux.seccomp;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Syscall name → number, per architecture. The tables are generated at build time from the
 * kernel's uapi headers (src/main/scripts/gen-syscall-tables.sh, run by Maven in
 * generate-resources) and read from the classpath: none is typed by hand. They know the syscalls
 * of the headers' kernel version (Debian 12: Linux 6.1).
 */
public final class SyscallTable {
    private static final Map<Arch, Map<String, Integer>> TABLES = new EnumMap<>(Arch.class);

    private SyscallTable() {}

    /** The syscall's number on this architecture (x32 numbers include the x32 bit). */
    public static OptionalInt number(Arch arch, String name) {
        Integer n = table(arch).get(name);
        return n == null ? OptionalInt.empty() : OptionalInt.of(n);
    }

    /** The whole table, in the kernel's order. */
    public static synchronized Map<String, Integer> table(Arch arch) {
        return TABLES.computeIfAbsent(arch, SyscallTable::load);
    }

    private static Map<String, Integer> load(Arch arch) {
        String resource = "syscalls-" + arch.tableName() + ".txt";
        Map<String, Integer> t = new LinkedHashMap<>();
        try (InputStream in = SyscallTable.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the generated syscall table " + resource
                        + " is missing from the classpath (it is made by the Maven build from the kernel headers)");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.trim().split(" ");
                t.put(f[0], Integer.parseInt(f[1]));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Collections.unmodifiableMap(t);
    }
}
