package dev.hull.engine;

import dev.hull.engine.network.NetworkInfo;
import dev.hull.engine.network.NetworkStore;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * {@code container prune} and {@code network prune}, for every front door (the hull command line,
 * the Docker API): what is not in use goes, among what the filter keeps in view (null: all).
 */
public final class Pruning {
    private Pruning() {}

    /** What a container prune removed: the containers and the bytes of their writable layers. */
    public record Containers(List<ContainerInfo> removed, long bytes) {}

    /** Every stopped container the filter accepts, and what killed creations left. */
    public static Containers containers(Engine engine, Predicate<ContainerInfo> filter) throws IOException {
        List<ContainerInfo> removed = new ArrayList<>();
        long bytes = 0;
        for (ContainerInfo c : engine.containers().list()) {
            if (filter != null && !filter.test(c) || engine.state(c).running()) {
                continue;
            }
            long size = VolumeStore.size(engine.containers().dir(c.id())
                    .resolve("overlay".equals(c.snapshotter()) ? "upper" : "rootfs"));
            try {
                engine.remove(c.id(), false);
                removed.add(c);
                bytes += size;
            } catch (RuntimeError e) {
                // started (or removed) meanwhile
            }
        }
        engine.containers().removeDebris();
        return new Containers(removed, bytes);
    }

    /**
     * Every user-defined network the filter accepts that no container uses; and what ended
     * containers left on the networks (addresses, published ports, namespaces). The names removed.
     */
    public static List<String> networks(Engine engine, Predicate<NetworkInfo> filter) throws IOException {
        engine.networking().reclaim();
        Map<String, List<String>> inUse = engine.networksInUse();
        List<String> removed = new ArrayList<>();
        for (NetworkInfo n : engine.networking().store().list()) {
            if (NetworkStore.predefined(n.name()) || inUse.containsKey(n.name())
                    || filter != null && !filter.test(n)) {
                continue;
            }
            try {
                engine.removeNetwork(n.name());
                removed.add(n.name());
            } catch (RuntimeError e) {
                // a container joined it meanwhile
            }
        }
        return removed;
    }
}
