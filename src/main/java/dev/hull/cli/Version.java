package dev.hull.cli;

import dev.hull.runtime.ContainerRuntime;
import picocli.CommandLine;

/** Version lines for --version. */
final class Version implements CommandLine.IVersionProvider {
    static final String HULL = "0.1.0";

    @Override
    public String[] getVersion() {
        return new String[] {"hull version " + HULL, "spec: " + ContainerRuntime.OCI_VERSION,
            "java: " + System.getProperty("java.version")};
    }
}
