package dev.hull.image;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** An image's platform: os/architecture[/variant]. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record Platform(String architecture, String os, String variant,
        @JsonProperty("os.version") String osVersion, @JsonProperty("os.features") List<String> osFeatures) {

    public static final Platform LINUX_AMD64 = new Platform("amd64", "linux", null, null, null);

    /** Parses os/arch[/variant], as {@code --platform} takes it. */
    public static Platform parse(String text) {
        String[] p = text.split("/");
        if (p.length < 2 || p.length > 3 || p[0].isEmpty() || p[1].isEmpty()) {
            throw new IllegalArgumentException("--platform " + text + ": use OS/ARCH[/VARIANT], e.g. linux/amd64");
        }
        return new Platform(p[1], p[0], p.length == 3 ? p[2] : null, null, null);
    }

    /** The platform of the machine Hull runs on. */
    public static Platform host() {
        String arch = switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64" -> "arm64";
            case "x86", "i386" -> "386";
            default -> System.getProperty("os.arch");
        };
        return new Platform(arch, "linux", null, null, null);
    }

    /** Whether a manifest for {@code candidate} runs here when {@code this} was asked for. */
    public boolean matches(Platform candidate) {
        if (candidate == null || !os.equals(candidate.os()) || !architecture.equals(candidate.architecture())) {
            return false;
        }
        return variant == null || variant.equals(candidate.variant());
    }

    @Override
    public String toString() {
        return os + "/" + architecture + (variant != null ? "/" + variant : "");
    }
}
