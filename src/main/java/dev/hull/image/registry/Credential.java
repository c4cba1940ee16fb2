package dev.hull.image.registry;

/**
 * Credentials for one registry: a username and password, or an identity
 * token (an OAuth2 refresh token, as {@code docker login} stores for some registries).
 */
public record Credential(String username, String password, String identityToken) {
    public Credential(String username, String password) {
        this(username, password, null);
    }

    @Override
    public String toString() {
        return "Credential[" + username + "]";
    }
}
