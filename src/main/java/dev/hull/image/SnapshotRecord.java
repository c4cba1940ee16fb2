package dev.hull.image;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/** An unpacked layer: chain id, the directory under snapshots/ that holds it, its diff id and size. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record SnapshotRecord(String chainId, String dir, String diffId, long size, String created) {}
