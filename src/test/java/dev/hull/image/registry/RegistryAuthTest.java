package dev.hull.image.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hull.image.ImageRecord;
import dev.hull.image.ImageStore;
import dev.hull.image.Platform;
import dev.hull.image.Reference;
import dev.hull.image.testing.RegistryServer;
import dev.hull.image.testing.TestImages;
import dev.hull.image.testing.TokenServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryAuthTest {
    @TempDir
    Path tmp;

    private RegistryClient client(String host, CredentialsSource creds) {
        return new RegistryClient(RegistryOptions.builder().insecure(host).retryDelay(Duration.ofMillis(20))
                .certsDirs(List.of()).credentials(creds).build());
    }

    @Test
    void basicAuthLoginPullPushLogout() throws Exception {
        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry")).htpasswd("alice", "s3cret")
                .start()) {
            Path authFile = tmp.resolve("auth/config.json");
            DockerCredentials creds = new DockerCredentials(authFile);
            ImageStore source = new ImageStore(tmp.resolve("source"));
            TestImages.Image img = TestImages.build(source.content(), Platform.LINUX_AMD64, 3_000, 11);
            Reference ref = Reference.parse(registry.host() + "/private/app:1");
            try (RegistryClient client = client(registry.host(), creds)) {
                assertThatThrownBy(() -> new Pusher(client, source).push(img.record(), ref, null))
                        .isInstanceOf(RegistryException.class).hasMessageContaining(registry.host())
                        .hasMessageContaining("401").hasMessageContaining("login");
                assertThatThrownBy(() -> new Puller(client, new ImageStore(tmp.resolve("x"))).pull(ref, null, null))
                        .hasMessageContaining(registry.host()).hasMessageContaining("authentication required");

                assertThatThrownBy(() -> creds.login(client, registry.host(), "alice", "wrong"))
                        .hasMessage("login to " + registry.host() + " failed: bad username or password");
                assertThat(Files.exists(authFile)).isFalse();

                creds.login(client, registry.host(), "alice", "s3cret");
                assertThat(Files.getPosixFilePermissions(authFile))
                        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
                assertThat(creds.lookup(registry.host())).contains(new Credential("alice", "s3cret"));

                assertThat(new Pusher(client, source).push(img.record(), ref, null)).isEqualTo(img.manifestDigest());
                ImageRecord r = new Puller(client, new ImageStore(tmp.resolve("dest"))).pull(ref, null, null);
                assertThat(r.manifestDigest()).isEqualTo(img.manifestDigest().toString());

                assertThat(creds.logout(registry.host())).isTrue();
                assertThat(creds.lookup(registry.host())).isEmpty();
                assertThat(creds.logout(registry.host())).isFalse();
            }
            // a fresh client (no cached state) without credentials is refused again
            try (RegistryClient client = client(registry.host(), creds)) {
                assertThatThrownBy(() -> client.fetchManifest(ref)).hasMessageContaining(registry.host())
                        .hasMessageContaining("no credentials");
            }
        }
    }

    @Test
    void tokenAuthPullAndPushWithScopes() throws Exception {
        try (TokenServer tokens = TokenServer.start(tmp.resolve("token"), "bob", "hunter2");
                RegistryServer registry = RegistryServer.builder(tmp.resolve("registry")).tokenAuth(tokens).start()) {
            ImageStore source = new ImageStore(tmp.resolve("source"));
            TestImages.Image img = TestImages.build(source.content(), Platform.LINUX_AMD64, 3_000, 12);
            Reference ref = Reference.parse(registry.host() + "/team/app:1");

            try (RegistryClient anonymous = client(registry.host(), CredentialsSource.NONE)) {
                assertThatThrownBy(() -> new Pusher(anonymous, source).push(img.record(), ref, null))
                        .isInstanceOf(RegistryException.class).hasMessageContaining(registry.host());
            }
            CredentialsSource wrong = r -> java.util.Optional.of(new Credential("bob", "nope"));
            try (RegistryClient bad = client(registry.host(), wrong)) {
                assertThatThrownBy(() -> bad.fetchManifest(ref)).hasMessageContaining(registry.host())
                        .hasMessageContaining("bad username or password");
                DockerCredentials file = new DockerCredentials(tmp.resolve("auth.json"));
                assertThatThrownBy(() -> file.login(bad, registry.host(), "bob", "nope"))
                        .hasMessage("login to " + registry.host() + " failed: bad username or password");
                file.login(bad, registry.host(), "bob", "hunter2");
                assertThat(file.lookup(registry.host())).contains(new Credential("bob", "hunter2"));
            }

            CredentialsSource good = r -> r.equals(registry.host())
                    ? java.util.Optional.of(new Credential("bob", "hunter2")) : java.util.Optional.empty();
            try (RegistryClient client = client(registry.host(), good)) {
                assertThat(new Pusher(client, source).push(img.record(), ref, null)).isEqualTo(img.manifestDigest());
                ImageRecord r = new Puller(client, new ImageStore(tmp.resolve("dest"))).pull(ref, null, null);
                assertThat(r.manifestDigest()).isEqualTo(img.manifestDigest().toString());
            }
            assertThat(tokens.requests()).anyMatch(q -> "repository:team/app:pull,push".equals(q.scope())
                    && "bob".equals(q.user()) && q.status() == 200);
            assertThat(tokens.requests()).anyMatch(q -> "repository:team/app:pull".equals(q.scope())
                    && "bob".equals(q.user()));
            assertThat(tokens.requests()).anyMatch(q -> "nope".equals(q.user()) || q.status() == 401);

            // anonymous pulls of public/ repositories work
            Reference pub = Reference.parse(registry.host() + "/public/app:1");
            try (RegistryClient client = client(registry.host(), good)) {
                new Pusher(client, source).push(img.record(), pub, null);
            }
            try (RegistryClient anonymous = client(registry.host(), CredentialsSource.NONE)) {
                assertThat(anonymous.fetchManifest(pub).digest()).isEqualTo(img.manifestDigest());
            }
        }
    }
}
