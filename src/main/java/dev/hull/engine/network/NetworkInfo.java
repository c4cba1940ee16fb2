package dev.hull.engine.network;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.Map;

/**
 * A network as {@code networks/NAME/network.json} records it: a Linux bridge (its kernel name),
 * the subnet containers get addresses from, the gateway (the bridge's own address).
 * internal: no route out and no NAT; dns: containers find each other by name (user-defined networks).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record NetworkInfo(String id, String name, String driver, String bridge, String subnet, String gateway,
        boolean internal, boolean dns, Map<String, String> labels, String created) {

    public Subnet parsedSubnet() {
        return Subnet.parse(subnet);
    }

    public int gatewayIp() {
        return Subnet.parseIp(gateway);
    }
}
