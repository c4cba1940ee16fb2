package dev.hull.image.registry;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How a {@link RegistryClient} talks to registries.
 *
 * @param insecureRegistries hosts ("host" or "host:port") for which plain HTTP is allowed (HTTPS is tried
 *        first) and TLS certificates are not verified, like docker's insecure-registries
 * @param certsDirs directories holding {@code <host:port>/*.crt} extra CA certificates per registry
 * @param mirrors registry → mirror hosts tried, in order, before the registry itself for pulls
 * @param retries how many times a failed request is retried (connect errors, 429, 5xx, truncated bodies)
 * @param retryDelay the first retry's delay; it doubles on each retry, with jitter
 * @param parallelism how many layers transfer at once
 * @param userAgent the User-Agent header
 * @param credentials where credentials come from
 * @param connectTimeout TCP connect timeout
 */
public record RegistryOptions(Set<String> insecureRegistries, List<Path> certsDirs, Map<String, List<String>> mirrors,
        int retries, Duration retryDelay, int parallelism, String userAgent, CredentialsSource credentials,
        Duration connectTimeout) {
    public static final String VERSION = "0.1.0";
    public static final List<Path> DEFAULT_CERTS_DIRS = List.of(Path.of("/etc/containers/certs.d"),
            Path.of("/etc/docker/certs.d"));

    public RegistryOptions {
        insecureRegistries = Set.copyOf(insecureRegistries);
        certsDirs = List.copyOf(certsDirs);
        Map<String, List<String>> m = new LinkedHashMap<>();
        mirrors.forEach((k, v) -> m.put(k, List.copyOf(v)));
        mirrors = Map.copyOf(m);
        if (retries < 0 || parallelism < 1) {
            throw new IllegalArgumentException("retries must be >= 0 and parallelism >= 1");
        }
    }

    public static RegistryOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Whether host is listed insecure (docker.io's API host counts as docker.io). */
    public boolean isInsecure(String host) {
        return insecureRegistries.contains(host);
    }

    public List<String> mirrorsOf(String registry) {
        return mirrors.getOrDefault(registry, List.of());
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.insecure.addAll(insecureRegistries);
        b.certsDirs = new ArrayList<>(certsDirs);
        b.mirrors.putAll(mirrors);
        b.retries = retries;
        b.retryDelay = retryDelay;
        b.parallelism = parallelism;
        b.userAgent = userAgent;
        b.credentials = credentials;
        b.connectTimeout = connectTimeout;
        return b;
    }

    public static final class Builder {
        private final Set<String> insecure = new LinkedHashSet<>();
        private List<Path> certsDirs = new ArrayList<>(DEFAULT_CERTS_DIRS);
        private final Map<String, List<String>> mirrors = new LinkedHashMap<>();
        private int retries = 3;
        private Duration retryDelay = Duration.ofMillis(200);
        private int parallelism = 3;
        private String userAgent = "hull/" + VERSION;
        private CredentialsSource credentials = CredentialsSource.NONE;
        private Duration connectTimeout = Duration.ofSeconds(30);

        private Builder() {}

        public Builder insecure(String... hosts) {
            insecure.addAll(List.of(hosts));
            return this;
        }

        /** Adds a directory searched (after the ones already set) for {@code <host:port>/*.crt}. */
        public Builder certsDir(Path dir) {
            certsDirs.add(dir);
            return this;
        }

        /** Replaces the certificate directories (the defaults are /etc/containers/certs.d, /etc/docker/certs.d). */
        public Builder certsDirs(List<Path> dirs) {
            certsDirs = new ArrayList<>(dirs);
            return this;
        }

        public Builder mirror(String registry, String... mirrorHosts) {
            mirrors.computeIfAbsent(registry, k -> new ArrayList<>()).addAll(List.of(mirrorHosts));
            return this;
        }

        public Builder retries(int n) {
            retries = n;
            return this;
        }

        public Builder retryDelay(Duration d) {
            retryDelay = d;
            return this;
        }

        public Builder parallelism(int n) {
            parallelism = n;
            return this;
        }

        public Builder userAgent(String ua) {
            userAgent = ua;
            return this;
        }

        public Builder credentials(CredentialsSource source) {
            credentials = source;
            return this;
        }

        public Builder connectTimeout(Duration d) {
            connectTimeout = d;
            return this;
        }

        public RegistryOptions build() {
            return new RegistryOptions(insecure, certsDirs, mirrors, retries, retryDelay, parallelism, userAgent,
                    credentials, connectTimeout);
        }
    }
}
