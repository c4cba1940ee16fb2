package dev.hull.build;

import dev.hull.image.Reference;
import java.util.ArrayList;
import java.util.List;

/** What a finished build says last, as docker's classic builder says it: hull build and the API's /build. */
public final class BuildSummary {
    private BuildSummary() {}

    /** The image id alone (-q), else "Successfully built SHORT" and a "Successfully tagged NAME" per tag. */
    public static List<String> lines(Builder.Result r, boolean quiet) {
        if (quiet) {
            return List.of(r.image().id());
        }
        List<String> out = new ArrayList<>();
        out.add("Successfully built " + r.image().digest().shortHex());
        for (String t : r.tags()) {
            out.add("Successfully tagged " + Reference.parse(t).familiar());
        }
        return out;
    }
}
