package dev.hull.image.registry;

import dev.hull.image.Descriptor;

/**
 * Per-layer events of a pull or a push. Implementations must be thread-safe:
 * layers transfer in parallel and report from their own threads.
 */
public interface PullProgress {
    String ALREADY_EXISTS = "Already exists";
    String PULL_COMPLETE = "Pull complete";
    String PUSHED = "Pushed";
    String LAYER_ALREADY_EXISTS = "Layer already exists";

    PullProgress NONE = new PullProgress() {};

    /** A layer is about to be transferred (or found present); shortId is its 12-digit short digest. */
    default void started(Descriptor layer, String shortId) {}

    default void progress(Descriptor layer, long done, long total) {}

    /** The layer is finished; status is one of the constants above. */
    default void done(Descriptor layer, String status) {}
}
