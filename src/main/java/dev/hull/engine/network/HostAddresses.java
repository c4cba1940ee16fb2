package dev.hull.engine.network;

import dev.hull.linux.LinuxException;
import dev.hull.linux.net.Netlink;

/** The host's own IPv4 addresses, read through netlink. */
final class HostAddresses {
    private HostAddresses() {}

    /** An address of the host inside s ("10.90.0.5 on eth1"), or null. */
    static String overlapping(Subnet s) {
        try (Netlink nl = Netlink.open()) {
            for (Netlink.Address a : nl.addresses()) {
                int ip = Subnet.parseIp(a.address().getHostAddress());
                if (new Subnet(ip, Math.max(8, Math.min(30, a.prefix()))).overlaps(s)) {
                    return a.address().getHostAddress() + "/" + a.prefix() + " (link " + a.index() + ")";
                }
            }
            return null;
        } catch (LinuxException e) {
            return null;
        }
    }
}
