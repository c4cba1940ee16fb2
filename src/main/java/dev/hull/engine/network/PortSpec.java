package dev.hull.engine.network;

import java.util.ArrayList;
import java.util.List;

/**
 * One published port as -p asks for it: hostPort 0 means "any free port" (-p 80, -P); hostIp
 * null means every host address.
 */
public record PortSpec(String protocol, String hostIp, int hostPort, int containerPort) {

    /**
     * docker's -p forms: {@code [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]}, ports or ranges
     * (8000-8009:80-89); IllegalArgumentException naming what is wrong.
     */
    public static List<PortSpec> parse(String spec) {
        String body = spec;
        String protocol = "tcp";
        int slash = spec.lastIndexOf('/');
        if (slash >= 0) {
            protocol = spec.substring(slash + 1).toLowerCase(java.util.Locale.ROOT);
            body = spec.substring(0, slash);
            if (!protocol.equals("tcp") && !protocol.equals("udp")) {
                throw new IllegalArgumentException("-p " + spec + ": protocol " + protocol + ": use tcp or udp");
            }
        }
        String hostIp = null;
        String hostPart = null;
        String containerPart;
        String[] p = body.split(":", -1);
        switch (p.length) {
            case 1 -> containerPart = p[0];
            case 2 -> {
                hostPart = p[0];
                containerPart = p[1];
            }
            case 3 -> {
                hostIp = p[0];
                hostPart = p[1];
                containerPart = p[2];
            }
            default -> throw new IllegalArgumentException("-p " + spec
                    + ": use [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp]");
        }
        if (hostIp != null) {
            try {
                Subnet.parseIp(hostIp);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("-p " + spec + ": host address " + e.getMessage());
            }
            if (hostIp.equals("0.0.0.0")) {
                hostIp = null;
            }
        }
        int[] container = range(containerPart, spec, "container port");
        int[] host = hostPart == null || hostPart.isEmpty() ? null : range(hostPart, spec, "host port");
        int n = container[1] - container[0] + 1;
        if (host != null && host[1] - host[0] + 1 != n) {
            throw new IllegalArgumentException("-p " + spec + ": the host range and the container range differ in size");
        }
        List<PortSpec> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new PortSpec(protocol, hostIp, host == null ? 0 : host[0] + i, container[0] + i));
        }
        return out;
    }

    private static int[] range(String s, String spec, String what) {
        String[] r = s.split("-", -1);
        String flag = what.startsWith("exposed") ? "--expose " : "-p ";
        if (r.length > 2) {
            throw new IllegalArgumentException(flag + spec + ": " + what + " " + s + ": a port or a range A-B");
        }
        int a = port(r[0], spec, what);
        int b = r.length == 2 ? port(r[1], spec, what) : a;
        if (b < a) {
            throw new IllegalArgumentException(flag + spec + ": " + what + " range " + s + " ends before it starts");
        }
        return new int[] {a, b};
    }

    private static int port(String s, String spec, String what) {
        try {
            int v = Integer.parseInt(s);
            if (v >= 1 && v <= 65535) {
                return v;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException((what.startsWith("exposed") ? "--expose " : "-p ") + spec + ": " + what
                + " " + s + ": a number from 1 to 65535");
    }

    /**
     * An image's ExposedPorts key or an --expose value ("80/tcp", "53/udp", "8080", "7000-7003")
     * as -P publications to any free port.
     */
    public static List<PortSpec> exposed(String key) {
        String[] p = key.split("/", 2);
        int[] r = range(p[0], key, "exposed port");
        String proto = p.length == 2 ? p[1].toLowerCase(java.util.Locale.ROOT) : "tcp";
        if (!proto.equals("tcp") && !proto.equals("udp")) {
            throw new IllegalArgumentException("exposed port " + key + ": protocol " + proto + ": use tcp or udp");
        }
        List<PortSpec> out = new ArrayList<>();
        for (int port = r[0]; port <= r[1]; port++) {
            out.add(new PortSpec(proto, null, 0, port));
        }
        return out;
    }
}
