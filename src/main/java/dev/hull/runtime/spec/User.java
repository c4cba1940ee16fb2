package dev.hull.runtime.spec;

import java.util.List;

/** {@code process.user}. IDs are uint32 held in a long; {@code umask} and {@code username} may be null. */
public record User(long uid, long gid, Integer umask, List<Long> additionalGids, String username) {
    public User {
        additionalGids = List.copyOf(additionalGids);
    }
}
