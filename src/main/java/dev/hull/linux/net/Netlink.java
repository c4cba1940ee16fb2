package dev.hull.linux.net;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.hull.linux.LinuxException;
import dev.hull.linux.Native;
import dev.hull.linux.Syscalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.net.Inet4Address;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * An rtnetlink (AF_NETLINK / NETLINK_ROUTE) socket, through the FFM API: links
 * (bridges, veth pairs, up/down, MTU, master, network namespace, delete), IPv4
 * addresses and IPv4 routes. Every request asks for an ack; a failure throws
 * {@link LinuxException} whose call names the operation and its link, e.g.
 * {@code netlink create bridge "br0": EEXIST (File exists)}, with the
 * kernel's extended-ack message when it sent one.
 *
 * <p>A socket works on the network namespace it was created in, whatever the
 * thread using it later: {@link #openIn} creates one in another namespace.
 * Requests on one socket are serialized.
 */
public final class Netlink implements AutoCloseable {

    /** A network interface as RTM_GETLINK reports it; kind is null for links without IFLA_INFO_KIND (lo, eth). */
    public record Link(String name, int index, int flags, int mtu, String kind, int master) {
        public boolean up() {
            return (flags & IFF_UP) != 0;
        }
    }

    /** An IPv4 address on the link with the given index. */
    public record Address(int index, Inet4Address address, int prefix) {}

    public static final int IFF_UP = 0x1;

    private static final int AF_UNSPEC = 0, AF_INET = 2, AF_NETLINK = 16, SOCK_RAW = 3, SOCK_CLOEXEC = 02000000,
            NETLINK_ROUTE = 0, SOL_NETLINK = 270, NETLINK_EXT_ACK = 11, MSG_TRUNC = 0x20, CLONE_NEWNET = 0x40000000;
    private static final int NLMSG_ERROR = 2, NLMSG_DONE = 3;
    private static final int RTM_NEWLINK = 16, RTM_DELLINK = 17, RTM_GETLINK = 18, RTM_SETLINK = 19,
            RTM_NEWADDR = 20, RTM_DELADDR = 21, RTM_GETADDR = 22, RTM_NEWROUTE = 24, RTM_DELROUTE = 25;
    private static final int NLM_F_REQUEST = 0x1, NLM_F_ACK = 0x4, NLM_F_DUMP_INTR = 0x10,
            NLM_F_DUMP = 0x300,
            NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400, NLM_F_ACK_TLVS = 0x200, NLMSGERR_ATTR_MSG = 1;
    private static final int IFLA_ADDRESS = 1, IFLA_IFNAME = 3, IFLA_MTU = 4, IFLA_MASTER = 10, IFLA_LINKINFO = 18,
            IFLA_NET_NS_FD = 28, IFLA_INFO_KIND = 1, IFLA_INFO_DATA = 2, VETH_INFO_PEER = 1;
    private static final int IFA_ADDRESS = 1, IFA_LOCAL = 2;
    private static final int RTA_DST = 1, RTA_OIF = 4, RTA_GATEWAY = 5, RT_TABLE_MAIN = 254, RTPROT_BOOT = 3,
            RT_SCOPE_UNIVERSE = 0, RT_SCOPE_LINK = 253, RTN_UNICAST = 1;
    private static final int NLMSGHDR = 16, IFINFOMSG = 16, IFADDRMSG = 8, RTMSG = 12, RECV_BUFFER = 1 << 16;

    // libc's functions, called through Native's one downcall shape
    private static final StructLayout CALL_STATE = Native.CALL_STATE;
    private static final MemorySegment SOCKET = Native.symbol("socket"), BIND = Native.symbol("bind"),
            SETSOCKOPT = Native.symbol("setsockopt"), SENDTO = Native.symbol("sendto"),
            RECVMSG = Native.symbol("recvmsg");
    private static final int EINTR = 4;

    private final int fd;
    private int seq = (int) (System.nanoTime() & 0x3fffffff);
    private boolean closed;

    private Netlink(int fd) {
        this.fd = fd;
    }

    /** A socket on the caller's network namespace (the JVM's). */
    public static Netlink open() throws LinuxException {
        return new Netlink(openSocket());
    }

    /**
     * A socket on the network namespace of netnsFile (/run/netns/NAME,
     * /proc/PID/ns/net ...). setns(CLONE_NEWNET) changes only the calling
     * thread, so a fresh platform thread joins the namespace, creates the
     * socket (which stays bound to that namespace), goes back, and ends; no
     * other JVM thread ever sees the namespace.
     */
    public static Netlink openIn(Path netnsFile) throws LinuxException {
        try {
            return new Netlink(NetworkNamespaces.callIn(netnsFile, "netlink-setns", Netlink::openSocket,
                    Syscalls::close));
        } catch (LinuxException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("opening a netlink socket in " + netnsFile, e);
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Syscalls.close(fd);
        }
    }

    // ---- links ----

    /** The interface index of name; ENODEV when there is none. */
    public int index(String name) throws LinuxException {
        return link(name).index();
    }

    public Link link(String name) throws LinuxException {
        Msg m = new Msg(RTM_GETLINK, 0).ifinfo(AF_UNSPEC, 0, 0, 0).str(IFLA_IFNAME, name);
        List<Link> out = new ArrayList<>();
        transact(m, "get link " + q(name), b -> out.add(parseLink(b)));
        if (out.size() != 1) {
            throw new IllegalStateException("netlink get link " + q(name) + ": " + out.size() + " answers");
        }
        return out.getFirst();
    }

    public List<Link> links() throws LinuxException {
        List<Link> out = new ArrayList<>();
        dump(() -> new Msg(RTM_GETLINK, NLM_F_DUMP).ifinfo(AF_UNSPEC, 0, 0, 0), "list links", out,
                b -> out.add(parseLink(b)));
        return out;
    }

    public void createBridge(String name) throws LinuxException {
        Msg m = new Msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL).ifinfo(AF_UNSPEC, 0, 0, 0).str(IFLA_IFNAME, name);
        int info = m.begin(IFLA_LINKINFO);
        m.str(IFLA_INFO_KIND, "bridge").end(info);
        transact(m, "create bridge " + q(name), null);
    }

    /** A veth pair name/peer, both here; see {@link #createVeth(String, String, int)}. */
    public void createVeth(String name, String peer) throws LinuxException {
        createVeth(name, peer, -1);
    }

    /** A veth pair name/peer; peer is created directly in the network namespace of peerNetnsFd unless that is -1. */
    public void createVeth(String name, String peer, int peerNetnsFd) throws LinuxException {
        Msg m = new Msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL).ifinfo(AF_UNSPEC, 0, 0, 0).str(IFLA_IFNAME, name);
        int info = m.begin(IFLA_LINKINFO);
        m.str(IFLA_INFO_KIND, "veth");
        int data = m.begin(IFLA_INFO_DATA);
        int p = m.begin(VETH_INFO_PEER);
        m.ifinfo(AF_UNSPEC, 0, 0, 0).str(IFLA_IFNAME, peer);
        if (peerNetnsFd >= 0) {
            m.u32(IFLA_NET_NS_FD, peerNetnsFd);
        }
        m.end(p).end(data).end(info);
        transact(m, "create veth " + q(name) + " peer " + q(peer), null);
    }

    public void setUp(String name, boolean up) throws LinuxException {
        Msg m = new Msg(RTM_SETLINK, 0).ifinfo(AF_UNSPEC, 0, up ? IFF_UP : 0, IFF_UP).str(IFLA_IFNAME, name);
        transact(m, "set link " + q(name) + (up ? " up" : " down"), null);
    }

    public void setMtu(String name, int mtu) throws LinuxException {
        Msg m = new Msg(RTM_SETLINK, 0).ifinfo(AF_UNSPEC, 0, 0, 0).str(IFLA_IFNAME, name).u32(IFLA_MTU, mtu);
        transact(m, "set link " + q(name) + " mtu " + mtu, null);
    }

    /** Sets the link's hardware (MAC) address: 6 bytes for ethernet links. */
    public void setMac(String name, byte[] mac) throws LinuxException {
        Msg m = new Msg(RTM_SETLINK, 0).ifinfo(AF_UNSPEC, 0, 0, 0).str(IFLA_IFNAME, name).bytes(IFLA_ADDRESS, mac);
        transact(m, "set link " + q(name) + " address " + formatMac(mac), null);
    }

    /** aa:bb:cc:dd:ee:ff */
    public static String formatMac(byte[] mac) {
        StringBuilder b = new StringBuilder();
        for (byte x : mac) {
            if (!b.isEmpty()) {
                b.append(':');
            }
            b.append(String.format("%02x", x & 0xff));
        }
        return b.toString();
    }

    /** Parses aa:bb:cc:dd:ee:ff (also with '-'); IllegalArgumentException otherwise. */
    public static byte[] parseMac(String s) {
        String[] p = s.split("[:-]");
        if (p.length != 6) {
            throw new IllegalArgumentException(s + ": a MAC address is six hex bytes, aa:bb:cc:dd:ee:ff");
        }
        byte[] out = new byte[6];
        for (int i = 0; i < 6; i++) {
            if (!p[i].matches("[0-9a-fA-F]{2}")) {
                throw new IllegalArgumentException(s + ": a MAC address is six hex bytes, aa:bb:cc:dd:ee:ff");
            }
            out[i] = (byte) Integer.parseInt(p[i], 16);
        }
        return out;
    }

    /** The link's hardware address, aa:bb:..; null for links without one. */
    public String mac(String name) throws LinuxException {
        Msg m = new Msg(RTM_GETLINK, 0).ifinfo(AF_UNSPEC, 0, 0, 0).str(IFLA_IFNAME, name);
        String[] out = new String[1];
        transact(m, "get link " + q(name), b -> {
            attrs(b, IFINFOMSG, (t, v) -> {
                if (t == IFLA_ADDRESS) {
                    out[0] = formatMac(bytes(v));
                }
            });
        });
        return out[0];
    }

    /** Enslaves name to the bridge (or bond) master; a null master releases it. */
    public void setMaster(String name, String master) throws LinuxException {
        int masterIndex = master == null ? 0 : index(master);
        Msg m = new Msg(RTM_SETLINK, 0).ifinfo(AF_UNSPEC, 0, 0, 0).str(IFLA_IFNAME, name)
                .u32(IFLA_MASTER, masterIndex);
        transact(m, "set link " + q(name) + (master == null ? " nomaster" : " master " + q(master)), null);
    }

    /** Moves name into the network namespace of netnsFd (an open /run/netns/NAME or /proc/PID/ns/net). */
    public void moveToNetns(String name, int netnsFd) throws LinuxException {
        Msg m = new Msg(RTM_SETLINK, 0).ifinfo(AF_UNSPEC, 0, 0, 0).str(IFLA_IFNAME, name)
                .u32(IFLA_NET_NS_FD, netnsFd);
        transact(m, "move link " + q(name) + " to netns fd " + netnsFd, null);
    }

    public void deleteLink(String name) throws LinuxException {
        Msg m = new Msg(RTM_DELLINK, 0).ifinfo(AF_UNSPEC, 0, 0, 0).str(IFLA_IFNAME, name);
        transact(m, "delete link " + q(name), null);
    }

    // ---- IPv4 addresses ----

    public void addAddress(String link, Inet4Address address, int prefix) throws LinuxException {
        transact(addressMsg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, link, address, prefix),
                "add address " + address.getHostAddress() + "/" + prefix + " to " + q(link), null);
    }

    public void removeAddress(String link, Inet4Address address, int prefix) throws LinuxException {
        transact(addressMsg(RTM_DELADDR, 0, link, address, prefix),
                "remove address " + address.getHostAddress() + "/" + prefix + " from " + q(link), null);
    }

    private Msg addressMsg(int type, int flags, String link, Inet4Address address, int prefix) throws LinuxException {
        checkPrefix(prefix);
        int index = index(link);
        Msg m = new Msg(type, flags);
        m.buf.put((byte) AF_INET).put((byte) prefix).put((byte) 0).put((byte) RT_SCOPE_UNIVERSE).putInt(index);
        return m.bytes(IFA_LOCAL, address.getAddress()).bytes(IFA_ADDRESS, address.getAddress());
    }

    /** The IPv4 addresses of every link. */
    public List<Address> addresses() throws LinuxException {
        List<Address> out = new ArrayList<>();
        dump(() -> {
            Msg m = new Msg(RTM_GETADDR, NLM_F_DUMP);
            m.buf.put((byte) AF_INET).put(new byte[7]);
            return m;
        }, "list addresses", out, b -> {
            int prefix = b.get(b.position() + 1) & 0xff;
            int index = b.getInt(b.position() + 4);
            byte[][] found = new byte[3][];
            attrs(b, IFADDRMSG, (type, v) -> {
                if (type == IFA_LOCAL || type == IFA_ADDRESS) {
                    found[type] = bytes(v);
                }
            });
            byte[] a = found[IFA_LOCAL] != null ? found[IFA_LOCAL] : found[IFA_ADDRESS];
            if (a != null) {
                out.add(new Address(index, inet4(a), prefix));
            }
        });
        return out;
    }

    // ---- IPv4 routes (main table) ----

    /**
     * A route to destination/prefix (null destination: the default route) via
     * gateway (null: directly on the link) out of link (null: the kernel
     * finds it from the gateway).
     */
    public void addRoute(Inet4Address destination, int prefix, Inet4Address gateway, String link)
            throws LinuxException {
        transact(routeMsg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, destination, prefix, gateway, link),
                "add route " + route(destination, prefix, gateway, link), null);
    }

    public void removeRoute(Inet4Address destination, int prefix, Inet4Address gateway, String link)
            throws LinuxException {
        transact(routeMsg(RTM_DELROUTE, 0, destination, prefix, gateway, link),
                "remove route " + route(destination, prefix, gateway, link), null);
    }

    /** The default route via gateway. */
    public void addDefaultRoute(Inet4Address gateway) throws LinuxException {
        addRoute(null, 0, gateway, null);
    }

    private Msg routeMsg(int type, int flags, Inet4Address destination, int prefix, Inet4Address gateway, String link)
            throws LinuxException {
        int dstLen = destination == null ? 0 : prefix;
        checkPrefix(dstLen);
        Integer oif = link == null ? null : index(link);
        Msg m = new Msg(type, flags);
        m.buf.put((byte) AF_INET).put((byte) dstLen).put((byte) 0).put((byte) 0).put((byte) RT_TABLE_MAIN)
                .put((byte) RTPROT_BOOT).put((byte) (gateway == null ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE))
                .put((byte) RTN_UNICAST).putInt(0);
        if (destination != null) {
            m.bytes(RTA_DST, destination.getAddress());
        }
        if (gateway != null) {
            m.bytes(RTA_GATEWAY, gateway.getAddress());
        }
        if (oif != null) {
            m.u32(RTA_OIF, oif);
        }
        return m;
    }

    private static String route(Inet4Address destination, int prefix, Inet4Address gateway, String link) {
        return (destination == null ? "default" : destination.getHostAddress() + "/" + prefix)
                + (gateway == null ? "" : " via " + gateway.getHostAddress()) + (link == null ? "" : " dev " + q(link));
    }

    private static void checkPrefix(int prefix) {
        if (prefix < 0 || prefix > 32) {
            throw new IllegalArgumentException("IPv4 prefix length " + prefix);
        }
    }

    // ---- messages ----

    /** A request being built: nlmsghdr, then the family header and attributes the caller adds. */
    private static final class Msg {
        final ByteBuffer buf = ByteBuffer.allocate(4096).order(ByteOrder.nativeOrder());
        final int type, flags;

        Msg(int type, int flags) {
            this.type = type;
            this.flags = flags;
            buf.position(NLMSGHDR);
        }

        Msg ifinfo(int family, int index, int ifFlags, int change) {
            buf.put((byte) family).put((byte) 0).putShort((short) 0).putInt(index).putInt(ifFlags).putInt(change);
            return this;
        }

        Msg bytes(int attr, byte[] value) {
            buf.putShort((short) (4 + value.length)).putShort((short) attr).put(value);
            pad();
            return this;
        }

        Msg str(int attr, String value) {
            byte[] s = value.getBytes(StandardCharsets.UTF_8);
            byte[] z = new byte[s.length + 1];
            System.arraycopy(s, 0, z, 0, s.length);
            return bytes(attr, z);
        }

        Msg u32(int attr, int value) {
            buf.putShort((short) 8).putShort((short) attr).putInt(value);
            return this;
        }

        /** Starts a nested attribute; returns where it starts, for {@link #end}. */
        int begin(int attr) {
            int at = buf.position();
            buf.putShort((short) 0).putShort((short) attr);
            return at;
        }

        Msg end(int at) {
            buf.putShort(at, (short) (buf.position() - at));
            return this;
        }

        void pad() {
            while ((buf.position() & 3) != 0) {
                buf.put((byte) 0);
            }
        }

        byte[] finish(int seq) {
            int len = buf.position();
            buf.putInt(0, len).putShort(4, (short) type).putShort(6, (short) (flags | NLM_F_REQUEST | NLM_F_ACK))
                    .putInt(8, seq).putInt(12, 0);
            byte[] out = new byte[len];
            buf.get(0, out);
            return out;
        }
    }

    /**
     * A dump into out, again from scratch (up to 5 times) when the kernel
     * flags it NLM_F_DUMP_INTR: the table changed while it was being read.
     */
    private void dump(java.util.function.Supplier<Msg> request, String what, List<?> out,
            Consumer<ByteBuffer> onMessage) throws LinuxException {
        for (int attempt = 1;; attempt++) {
            out.clear();
            if (!transact(request.get(), what, onMessage) || attempt == 5) {
                return;
            }
        }
    }

    /**
     * Sends m and reads the answer: each data message (a buffer positioned at
     * its family header, limited to the message) goes to onMessage; returns
     * at the ack (or NLMSG_DONE of a dump), true when a dump was interrupted
     * (NLM_F_DUMP_INTR: inconsistent, worth redoing); an error ack throws
     * naming what.
     */
    private synchronized boolean transact(Msg m, String what, Consumer<ByteBuffer> onMessage) throws LinuxException {
        if (closed) {
            throw new IllegalStateException("netlink socket closed");
        }
        int mySeq = ++seq;
        send(m.finish(mySeq), what);
        boolean dump = (m.flags & NLM_F_DUMP) == NLM_F_DUMP;
        boolean interrupted = false;
        for (;;) {
            ByteBuffer b = receive(what);
            while (b.remaining() >= NLMSGHDR) {
                int start = b.position();
                int len = b.getInt(start);
                int type = b.getShort(start + 4) & 0xffff;
                int flags = b.getShort(start + 6) & 0xffff;
                int msgSeq = b.getInt(start + 8);
                if (len < NLMSGHDR || start + len > b.limit()) {
                    throw new IllegalStateException("netlink " + what + ": malformed answer");
                }
                ByteBuffer body = b.duplicate().order(ByteOrder.nativeOrder()).position(start + NLMSGHDR)
                        .limit(start + len);
                b.position(Math.min(b.limit(), start + align(len)));
                if (msgSeq != mySeq) {
                    continue; // a late answer to an earlier, abandoned request
                }
                if (type == NLMSG_ERROR) {
                    int error = body.getInt(body.position());
                    if (error == 0) {
                        if (!dump) {
                            return false;
                        }
                        continue;
                    }
                    throw new LinuxException("netlink " + what + extAckMessage(body, flags), -error);
                }
                if (type == NLMSG_DONE) {
                    if (body.remaining() >= 4 && body.getInt(body.position()) < 0) {
                        throw new LinuxException("netlink " + what, -body.getInt(body.position()));
                    }
                    return interrupted || (flags & NLM_F_DUMP_INTR) != 0;
                }
                interrupted |= (flags & NLM_F_DUMP_INTR) != 0;
                if (onMessage != null) {
                    onMessage.accept(body);
                }
            }
        }
    }

    /** ": kernel message" from an extended ack's NLMSGERR_ATTR_MSG, or "". */
    private static String extAckMessage(ByteBuffer body, int flags) {
        if ((flags & NLM_F_ACK_TLVS) == 0) {
            return "";
        }
        // error (4), then the request's nlmsghdr (capped: header only) or the whole request
        int origLen = body.getInt(body.position() + 4);
        int capped = (flags & 0x100) != 0 ? NLMSGHDR : align(origLen);
        int tlvs = body.position() + 4 + capped;
        if (tlvs > body.limit()) {
            return "";
        }
        String[] msg = {""};
        ByteBuffer t = body.duplicate().order(ByteOrder.nativeOrder()).position(tlvs);
        attrs(t, 0, (type, v) -> {
            if (type == NLMSGERR_ATTR_MSG) {
                msg[0] = " (kernel: " + cstring(v) + ")";
            }
        });
        return msg[0];
    }

    private static Link parseLink(ByteBuffer b) {
        int p = b.position();
        int index = b.getInt(p + 4);
        int flags = b.getInt(p + 8);
        String[] name = {null}, kind = {null};
        int[] mtu = {0}, master = {0};
        attrs(b, IFINFOMSG, (type, v) -> {
            switch (type) {
                case IFLA_IFNAME -> name[0] = cstring(v);
                case IFLA_MTU -> mtu[0] = v.getInt(v.position());
                case IFLA_MASTER -> master[0] = v.getInt(v.position());
                case IFLA_LINKINFO -> attrs(v, 0, (t2, v2) -> {
                    if (t2 == IFLA_INFO_KIND) {
                        kind[0] = cstring(v2);
                    }
                });
                default -> {}
            }
        });
        return new Link(name[0], index, flags, mtu[0], kind[0], master[0]);
    }

    private interface AttrVisitor {
        void visit(int type, ByteBuffer value);
    }

    /** Visits the rtattrs after skip bytes of family header in b (positioned at that header). */
    private static void attrs(ByteBuffer b, int skip, AttrVisitor visitor) {
        int p = b.position() + skip;
        while (p + 4 <= b.limit()) {
            int len = b.getShort(p) & 0xffff;
            int type = b.getShort(p + 2) & 0x3fff; // without NLA_F_NESTED / NLA_F_NET_BYTEORDER
            if (len < 4 || p + len > b.limit()) {
                break;
            }
            visitor.visit(type, b.duplicate().order(ByteOrder.nativeOrder()).position(p + 4).limit(p + len));
            p += align(len);
        }
    }

    private static int align(int len) {
        return (len + 3) & ~3;
    }

    private static byte[] bytes(ByteBuffer v) {
        byte[] out = new byte[v.remaining()];
        v.get(v.position(), out);
        return out;
    }

    private static String cstring(ByteBuffer v) {
        byte[] raw = bytes(v);
        int n = 0;
        while (n < raw.length && raw[n] != 0) {
            n++;
        }
        return new String(raw, 0, n, StandardCharsets.UTF_8);
    }

    private static Inet4Address inet4(byte[] a) {
        try {
            return (Inet4Address) Inet4Address.getByAddress(a);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String q(String s) {
        return '"' + s + '"';
    }

    // ---- the socket, through FFM ----

    private static int errno(MemorySegment st) {
        return Native.errno(st);
    }

    /** sockaddr_nl {AF_NETLINK, 0, pid 0 (the kernel), groups 0}. */
    private static MemorySegment kernelAddress(Arena arena) {
        MemorySegment sa = arena.allocate(12);
        sa.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 0, (short) AF_NETLINK);
        return sa;
    }

    private static int openSocket() throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int fd = (int) Native.call(st, SOCKET, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
            if (fd < 0) {
                throw new LinuxException("socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)", errno(st));
            }
            try {
                // the kernel picks the port id when the address's pid is 0
                if ((int) Native.call(st, BIND, fd, kernelAddress(arena).address(), 12) != 0) {
                    throw new LinuxException("bind(netlink socket " + fd + ")", errno(st));
                }
                // best effort: error acks then carry the kernel's message (since Linux 4.12)
                MemorySegment one = arena.allocateFrom(JAVA_INT, 1);
                int ignored = (int) Native.call(st, SETSOCKOPT, fd, SOL_NETLINK, NETLINK_EXT_ACK, one.address(), 4);
                return fd;
            } catch (Throwable t) {
                Syscalls.close(fd);
                throw t;
            }
        } catch (LinuxException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private void send(byte[] request, String what) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment seg = arena.allocate(request.length);
            MemorySegment.copy(request, 0, seg, JAVA_BYTE, 0, request.length);
            for (;;) {
                long r = Native.call(st, SENDTO, fd, seg.address(), request.length, 0, kernelAddress(arena).address(),
                        12);
                if (r == request.length) {
                    return;
                }
                if (r >= 0) {
                    throw new IllegalStateException("netlink " + what + ": short send");
                }
                if (errno(st) != EINTR) {
                    throw new LinuxException("sendto(netlink: " + what + ")", errno(st));
                }
            }
        } catch (LinuxException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** One datagram (one or more netlink messages), as a native-order buffer. */
    private ByteBuffer receive(String what) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment data = arena.allocate(RECV_BUFFER);
            MemorySegment iov = arena.allocate(16);
            iov.set(ADDRESS, 0, data);
            iov.set(JAVA_LONG, 8, RECV_BUFFER);
            MemorySegment sa = arena.allocate(12);
            // struct msghdr: name, namelen, iov, iovlen, control, controllen, flags
            MemorySegment msg = arena.allocate(56, 8);
            for (;;) {
                msg.fill((byte) 0);
                msg.set(ADDRESS, 0, sa);
                msg.set(JAVA_INT, 8, 12);
                msg.set(ADDRESS, 16, iov);
                msg.set(JAVA_LONG, 24, 1);
                long r = Native.call(st, RECVMSG, fd, msg.address(), 0);
                if (r >= 0) {
                    if ((msg.get(JAVA_INT, 48) & MSG_TRUNC) != 0) {
                        throw new IllegalStateException("netlink " + what + ": answer larger than " + RECV_BUFFER);
                    }
                    byte[] out = data.asSlice(0, r).toArray(JAVA_BYTE);
                    return ByteBuffer.wrap(out).order(ByteOrder.nativeOrder());
                }
                if (errno(st) != EINTR) {
                    throw new LinuxException("recvmsg(netlink: " + what + ")", errno(st));
                }
            }
        } catch (LinuxException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
