package dev.hull.engine.network;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.hull.linux.net.Nftables;
import java.util.List;

/**
 * A container's wiring while it runs, in {@code containers/ID/network.json}: written before each
 * piece is made, so whoever tears it down (stop, rm, a later start, reclaim after a crash) knows
 * everything that may exist.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record NetworkState(String name, String hostname, String netns, List<Endpoint> endpoints,
        List<Nftables.PortMapping> ports, List<String> addHosts) {

    /** The container on one network: its interface inside, the host end of its veth, its address there. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Endpoint(String network, String networkId, String ifname, String hostVeth, String ip, int prefix,
            String gateway, String mac, List<String> aliases, boolean dns) {}

    public NetworkState withEndpoints(List<Endpoint> e) {
        return new NetworkState(name, hostname, netns, e, ports, addHosts);
    }

    public NetworkState withPorts(List<Nftables.PortMapping> p) {
        return new NetworkState(name, hostname, netns, endpoints, p, addHosts);
    }
}
