package dev.hull.engine.network;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IPv4 subnet (CIDR): addresses are ints, compared unsigned. */
public record Subnet(int base, int prefix) {

    public Subnet {
        if (prefix < 8 || prefix > 30) {
            throw new IllegalArgumentException("prefix /" + prefix + ": use /8 to /30");
        }
        base = base & mask(prefix);
    }

    /** 10.89.0.0/16; IllegalArgumentException naming what is wrong. */
    public static Subnet parse(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException(cidr + ": a subnet is ADDRESS/PREFIX, e.g. 10.90.1.0/24");
        }
        int prefix;
        try {
            prefix = Integer.parseInt(cidr.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(cidr + ": a subnet is ADDRESS/PREFIX, e.g. 10.90.1.0/24");
        }
        int addr = parseIp(cidr.substring(0, slash));
        if ((addr & ~mask(prefix)) != 0) {
            throw new IllegalArgumentException(cidr + ": host bits are set; the subnet is "
                    + format(addr & mask(prefix)) + "/" + prefix);
        }
        return new Subnet(addr, prefix);
    }

    /** Dotted quad to int; IllegalArgumentException for anything else (no names, no IPv6). */
    public static int parseIp(String s) {
        String[] p = s.split("\\.", -1);
        if (p.length != 4) {
            throw new IllegalArgumentException(s + ": not an IPv4 address (a.b.c.d)");
        }
        int v = 0;
        for (String x : p) {
            if (!x.matches("[0-9]{1,3}") || Integer.parseInt(x) > 255) {
                throw new IllegalArgumentException(s + ": not an IPv4 address (a.b.c.d)");
            }
            v = (v << 8) | Integer.parseInt(x);
        }
        return v;
    }

    public static String format(int ip) {
        return (ip >>> 24) + "." + ((ip >>> 16) & 255) + "." + ((ip >>> 8) & 255) + "." + (ip & 255);
    }

    public static Inet4Address inet(int ip) {
        try {
            return (Inet4Address) InetAddress.getByAddress(new byte[] {(byte) (ip >>> 24), (byte) (ip >>> 16),
                    (byte) (ip >>> 8), (byte) ip});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    static int mask(int prefix) {
        return prefix == 0 ? 0 : -1 << (32 - prefix);
    }

    public int size() {
        return 1 << (32 - prefix);
    }

    public int broadcast() {
        return base | ~mask(prefix);
    }

    public boolean contains(int ip) {
        return (ip & mask(prefix)) == base;
    }

    /** An address a container may have: inside, not the network's own or broadcast address. */
    public boolean host(int ip) {
        return contains(ip) && ip != base && ip != broadcast();
    }

    public boolean overlaps(Subnet o) {
        int p = Math.min(prefix, o.prefix);
        return (base & mask(p)) == (o.base & mask(p));
    }

    @Override
    public String toString() {
        return format(base) + "/" + prefix;
    }
}
