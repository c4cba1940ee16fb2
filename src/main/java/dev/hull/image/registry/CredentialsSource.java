package dev.hull.image.registry;

import java.io.IOException;
import java.util.Optional;

/** Where a {@link RegistryClient} finds credentials for a registry ("host" or "host:port"). */
@FunctionalInterface
public interface CredentialsSource {
    CredentialsSource NONE = registry -> Optional.empty();

    Optional<Credential> lookup(String registry) throws IOException;
}
