package dev.hull.image.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/** TLS for registries: the JDK's trust store plus certs.d CAs per host, or no checks for an insecure registry. */
final class RegistryTls {
    private RegistryTls() {}

    static SSLContext context(RegistryOptions options, String host) throws IOException {
        try {
            if (options.isInsecure(host)) {
                SSLContext ctx = SSLContext.getInstance("TLS");
                ctx.init(null, new TrustManager[] {new TrustAll()}, null);
                return ctx;
            }
            List<X509Certificate> extra = extraCertificates(options, host);
            if (extra.isEmpty()) {
                return SSLContext.getDefault();
            }
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            for (int i = 0; i < extra.size(); i++) {
                ks.setCertificateEntry("certs.d-" + i, extra.get(i));
            }
            TrustManagerFactory extraTmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            extraTmf.init(ks);
            TrustManagerFactory defaultTmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            defaultTmf.init((KeyStore) null);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {new EitherTrust(x509(defaultTmf), x509(extraTmf))}, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot set up TLS for " + host + ": " + e.getMessage(), e);
        }
    }

    /** CA certificates from {@code <certsDir>/<host>/*.crt}. */
    private static List<X509Certificate> extraCertificates(RegistryOptions options, String host) throws IOException, GeneralSecurityException {
        List<X509Certificate> out = new ArrayList<>();
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        for (Path dir : options.certsDirs()) {
            Path hostDir = dir.resolve(host);
            if (!Files.isDirectory(hostDir)) {
                continue;
            }
            try (DirectoryStream<Path> files = Files.newDirectoryStream(hostDir, "*.crt")) {
                for (Path f : files) {
                    try (InputStream in = Files.newInputStream(f)) {
                        for (var c : cf.generateCertificates(in)) {
                            out.add((X509Certificate) c);
                        }
                    } catch (CertificateException e) {
                        throw new IOException(f + " is not a PEM certificate: " + e.getMessage(), e);
                    }
                }
            }
        }
        return out;
    }

    private static X509ExtendedTrustManager x509(TrustManagerFactory tmf) {
        for (TrustManager tm : tmf.getTrustManagers()) {
            if (tm instanceof X509ExtendedTrustManager x) {
                return x;
            }
        }
        throw new IllegalStateException("no X509 trust manager");
    }

    /** Trusts what the JDK's default store trusts, or what the registry's certs.d CAs sign. */
    private static final class EitherTrust extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager a;
        private final X509ExtendedTrustManager b;

        EitherTrust(X509ExtendedTrustManager a, X509ExtendedTrustManager b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            try {
                a.checkServerTrusted(chain, authType, engine);
            } catch (CertificateException e) {
                b.checkServerTrusted(chain, authType, engine);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, java.net.Socket socket)
                throws CertificateException {
            try {
                a.checkServerTrusted(chain, authType, socket);
            } catch (CertificateException e) {
                b.checkServerTrusted(chain, authType, socket);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            try {
                a.checkServerTrusted(chain, authType);
            } catch (CertificateException e) {
                b.checkServerTrusted(chain, authType);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("not a server");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, java.net.Socket socket)
                throws CertificateException {
            throw new CertificateException("not a server");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("not a server");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            List<X509Certificate> all = new ArrayList<>(List.of(a.getAcceptedIssuers()));
            all.addAll(List.of(b.getAcceptedIssuers()));
            return all.toArray(X509Certificate[]::new);
        }
    }

    /** For insecure registries: any certificate, any host name (the extended interface skips the name check). */
    private static final class TrustAll extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] c, String a, java.net.Socket s) {}

        @Override
        public void checkServerTrusted(X509Certificate[] c, String a, java.net.Socket s) {}

        @Override
        public void checkClientTrusted(X509Certificate[] c, String a, SSLEngine e) {}

        @Override
        public void checkServerTrusted(X509Certificate[] c, String a, SSLEngine e) {}

        @Override
        public void checkClientTrusted(X509Certificate[] c, String a) {}

        @Override
        public void checkServerTrusted(X509Certificate[] c, String a) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
