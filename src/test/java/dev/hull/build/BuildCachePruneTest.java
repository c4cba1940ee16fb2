package dev.hull.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** builder prune's choice (until, reserved, max used and min free space) and the until filter's syntax. */
class BuildCachePruneTest {
    private static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");

    private static BuildCachePrune.Item item(String name, long size, long hoursAgo, boolean inUse) {
        return new BuildCachePrune.Item(Path.of("/x", name), name, size, NOW.minusSeconds(hoursAgo * 3600), inUse);
    }

    private static final List<BuildCachePrune.Item> ITEMS = List.of(item("new", 100, 1, false),
            item("old", 300, 50, false), item("mid", 200, 30, false), item("held", 1000, 100, true));

    private static List<String> names(BuildCachePrune.Options o, long free) {
        return BuildCachePrune.select(ITEMS, o, () -> free).stream().map(BuildCachePrune.Item::name).toList();
    }

    @Test
    void everythingNotInUseOldestFirst() {
        assertThat(names(BuildCachePrune.Options.ALL, 0)).containsExactly("old", "mid", "new");
    }

    @Test
    void untilKeepsWhatWasUsedSince() {
        assertThat(names(new BuildCachePrune.Options(NOW.minusSeconds(24 * 3600), 0, 0, 0), 0))
                .containsExactly("old", "mid");
        assertThat(names(new BuildCachePrune.Options(NOW.minusSeconds(100 * 3600), 0, 0, 0), 0)).isEmpty();
    }

    @Test
    void spaceBounds() {
        // 1600 in all: reserved 1300 lets only the oldest go (1300 left); 1g keeps everything
        assertThat(names(new BuildCachePrune.Options(null, 1300, 0, 0), 0)).containsExactly("old");
        assertThat(names(new BuildCachePrune.Options(null, 1L << 30, 0, 0), 0)).isEmpty();
        // at most 1200 used: old and mid go (1100 left)
        assertThat(names(new BuildCachePrune.Options(null, 0, 1200, 0), 0)).containsExactly("old", "mid");
        // 450 free wanted with 100 free: old (300) and mid (200) give 600
        assertThat(names(new BuildCachePrune.Options(null, 0, 0, 450), 100)).containsExactly("old", "mid");
        assertThat(names(new BuildCachePrune.Options(null, 0, 0, 450), 1000)).isEmpty();
        // a reserve wins over a target: never below 1250
        assertThat(names(new BuildCachePrune.Options(null, 1250, 0, 1L << 40), 0)).containsExactly("old");
        // until and a bound together: only what is old enough, and only as much as needed
        assertThat(names(new BuildCachePrune.Options(NOW.minusSeconds(40 * 3600), 0, 100, 0), 0))
                .containsExactly("old");
    }

    @Test
    void untilSyntax() {
        assertThat(BuildCachePrune.until("24h", NOW)).isEqualTo(NOW.minusSeconds(24 * 3600));
        assertThat(BuildCachePrune.until("1h30m", NOW)).isEqualTo(NOW.minusSeconds(5400));
        assertThat(BuildCachePrune.until("1.5h", NOW)).isEqualTo(NOW.minusSeconds(5400));
        assertThat(BuildCachePrune.until("90s", NOW)).isEqualTo(NOW.minusSeconds(90));
        assertThat(BuildCachePrune.until("1700000000", NOW)).isEqualTo(Instant.ofEpochSecond(1700000000));
        assertThat(BuildCachePrune.until("1700000000.5", NOW)).isEqualTo(Instant.ofEpochSecond(1700000000, 500_000_000));
        assertThat(BuildCachePrune.until("2026-12-01T00:00:00Z", NOW)).isEqualTo(Instant.parse("2026-12-01T00:00:00Z"));
        assertThat(BuildCachePrune.until("2026-12-01T01:00:00+01:00", NOW)).isEqualTo(Instant.parse("2026-12-01T00:00:00Z"));
        for (String bad : List.of("", "h", "24x", "1h-5m", "yesterday")) {
            assertThatThrownBy(() -> BuildCachePrune.until(bad, NOW)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
