package dev.hull.image.registry;

/** Bytes transferred so far of one blob (total -1 when unknown). Called from the transferring thread. */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = (done, total) -> {};

    void progress(long done, long total);
}
