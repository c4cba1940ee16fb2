package dev.hull.engine.network;

import java.util.List;

/**
 * What a container asks of the network, from its create options: the mode (bridge, a network's
 * name, none, host, container:NAME), the networks it joins with their --ip and --network-alias,
 * published ports, and what goes into its /etc/hosts and /etc/resolv.conf.
 */
public record NetworkRequest(String id, String name, String hostname, String mode, List<Attachment> attachments,
        List<PortSpec> ports, String mac, List<String> dns, List<String> dnsSearch, List<String> dnsOptions,
        List<String> addHosts) {

    /** One network the container is on: its name, the address asked for (null: any), its aliases there. */
    public record Attachment(String network, String ip, List<String> aliases) {}

    /** bridge or a user-defined network: Hull makes and wires the container's network namespace. */
    public boolean wired() {
        return wired(mode);
    }

    /** Whether --network MODE is bridge or a user-defined network (not none, host or container:NAME). */
    public static boolean wired(String mode) {
        return !mode.equals("none") && !mode.equals("host") && !mode.startsWith("container:");
    }
}
