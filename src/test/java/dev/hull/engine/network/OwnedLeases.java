package dev.hull.engine.network;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.stream.Stream;

/**
 * The address and port leases that belong to one test. The default network's addresses and the
 * host's ports are leased in /run/hull-net, shared by every Hull home on the host (several share
 * the default bridge): other Hulls take and give back leases there all the time. A lease is the
 * test's if its file names the test's Hull home, or one of the test's containers. Read from the
 * files as they are, without {@link NetworkStore#leases}'s clean-up of others' dead leases and
 * without taking a file another Hull is just writing (still empty) for one of this home's.
 */
public final class OwnedLeases {
    private OwnedLeases() {}

    /**
     * "NETWORK ADDRESS ID" for each address lease of the store's networks, and "PROTO-PORT ID" for
     * each host port lease, held by the store's home or by one of ids; sorted.
     */
    public static List<String> of(NetworkStore store, Collection<String> ids) throws IOException {
        String home = store.root().getParent().toAbsolutePath().toString();
        List<String> out = new ArrayList<>();
        for (NetworkInfo n : store.list()) {
            for (String[] l : read(store.leaseDir(n))) {
                if (l[2].equals(home) || ids.contains(l[1])) {
                    out.add(n.name() + " " + l[0] + " " + l[1]);
                }
            }
        }
        for (String[] l : read(store.ports())) {
            if (l[2].equals(home) || ids.contains(l[1])) {
                out.add(l[0] + " " + l[1]);
            }
        }
        out.sort(null);
        return out;
    }

    /** {file name, holder id, holder home} of each lease file in dir (home "" where the file names none). */
    private static List<String[]> read(Path dir) throws IOException {
        List<String[]> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.sorted().toList();
        }
        for (Path f : files) {
            String[] w;
            try {
                w = Files.readString(f, StandardCharsets.UTF_8).trim().split("\\s+", 2);
            } catch (NoSuchFileException e) {
                continue; // given back meanwhile
            }
            out.add(new String[] {f.getFileName().toString(), w[0], w.length > 1 ? w[1] : ""});
        }
        return out;
    }
}
