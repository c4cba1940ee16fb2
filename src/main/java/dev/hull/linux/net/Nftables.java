package dev.hull.linux.net;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * The kernel-NAT half of bridge networking (what docker's and podman's bridge
 * drivers do with iptables/nftables), driving the {@code nft} binary: every
 * change is one {@code nft -f -} script, applied by the kernel as one atomic
 * transaction; every read is {@code nft -j list table ...} parsed as JSON.
 * Everything lives in one IPv4 table, {@code ip <table>} ({@code ip hull} for
 * the engine); no other table is ever read, flushed or changed.
 *
 * <h2>Table layout</h2>
 * <pre>
 * table ip hull {
 *   set bridges { type ifname }                       # every bridge with network rules
 *   map tcp-ports      { type inet_service : ipv4_addr . inet_service }              # host port : container ip . port
 *   map udp-ports      { type inet_service : ipv4_addr . inet_service }
 *   map tcp-addr-ports { type ipv4_addr . inet_service : ipv4_addr . inet_service }  # host ip . port : container ip . port
 *   map udp-addr-ports { type ipv4_addr . inet_service : ipv4_addr . inet_service }
 *
 *   chain guard { type filter hook prerouting priority raw        # before conntrack and NAT
 *     iifname != "lo" ip daddr 127.0.0.0/8 drop }                  # route_localnet opens 127/8 to the bridges: close it
 *   chain prerouting { type nat hook prerouting priority dstnat    # traffic arriving from outside or from containers
 *     fib daddr type local dnat ip to ip daddr . tcp dport map @tcp-addr-ports
 *     fib daddr type local dnat ip to tcp dport map @tcp-ports
 *     (the same two for udp) }
 *   chain output { type nat hook output priority -100              # the host's own connections, 127.0.0.1 included
 *     (the same four rules) }
 *
 *   chain postrouting { type nat hook postrouting priority srcnat  # per network (2 if internal), comment "net BR SUBNET[ internal]"
 *     ip saddr SUBNET oifname != "BR" masquerade                   # containers going out (not for internal networks)
 *     ip saddr SUBNET oifname "BR" ct status dnat masquerade       # hairpin: container -> host:published port -> itself/sibling
 *     ip saddr 127.0.0.0/8 oifname "BR" masquerade }               # host 127.0.0.1 -> published port (route_localnet=1 on BR)
 *   chain forward { type filter hook forward priority filter      # per network (2 if internal), same comment
 *     iifname "BR" oifname != "BR" oifname @bridges ct status ! dnat drop   # isolation: no bridge-to-bridge traffic
 *     (internal instead:) iifname "BR" oifname != "BR" drop     # nothing leaves the bridge
 *                         oifname "BR" iifname != "BR" drop }   # nothing comes in from elsewhere
 * }
 * </pre>
 * ("ct status ! dnat" is what nft prints for the {@code ct status & dnat == 0} written: not DNAT'd.)
 *
 * <p><b>Ports</b> are map elements, not rules: publishing or unpublishing is
 * adding or deleting elements, and the rule count never grows. A mapping with
 * a specific host address ({@code *-addr-ports}) is looked up first, so it
 * wins over an any-address mapping of the same port; the maps cannot say
 * whether some host process also listens on the port (the engine checks that).
 * {@code fib daddr type local} makes every address of the host a published
 * address, the bridge's own included. DNAT keeps the client's address, so a
 * container sees remote clients as they are.
 *
 * <p><b>Networks</b> are rules tagged with the comment
 * {@code "net BRIDGE SUBNET"} (plus {@code " internal"}), found again by
 * handle in {@code nft -j -a list table} for {@link #removeNetwork} and
 * {@link #networks}. Each network also puts its bridge in the set
 * {@code bridges}; addNetwork does that with {@code create element}, which
 * fails the whole transaction if the bridge is already there, so two processes
 * adding the same network at once leave exactly one copy of its rules.
 * Isolation drops traffic from a Hull bridge to another Hull bridge unless it
 * was DNAT'd to a published port (a published port is reachable from every
 * network, as from anywhere else); an internal network has no masquerade and
 * its traffic may neither leave its bridge nor come in from elsewhere (a port
 * published to an internal container answers the host itself only).
 * These chains accept by default and only drop what is described above: if
 * another table of the host drops forwarded traffic (docker's iptables FORWARD
 * policy DROP), that verdict still applies, as nftables wants.
 *
 * <p><b>What the caller does around this class:</b> create the bridge (with
 * its gateway address) before {@link #addNetwork}; put each container's veth
 * port of the bridge in hairpin mode
 * ({@code /sys/class/net/PORT/brport/hairpin_mode} = 1): when br_netfilter is
 * loaded (bridge-nf-call-iptables=1, as where docker or kubernetes run) the DNAT of
 * a hairpin connection happens on the bridge path and the bridge sends the
 * packet back out the port it came in on only in hairpin mode (without it a
 * container cannot reach its own published port through a host address);
 * {@link #removeNetwork} leaves route_localnet as it is (the bridge usually
 * goes right after).
 *
 * <p><b>Concurrency.</b> Many processes may call these methods at once.
 * {@link #ensure} uses {@code add table/set/map/chain} (which succeed on what
 * exists) and then flushes and refills only {@code prerouting} and
 * {@code output}, whose four rules no other method touches, in the same
 * transaction, so two ensures end in the same state and never disturb port
 * elements or network rules added in between. Removals read first and delete
 * what they saw; if another process removed it meanwhile, the transaction
 * fails as a whole and is retried from a fresh read.
 *
 * <p>Errors are {@link IOException}s whose message names the operation and
 * includes nft's stderr; bad arguments are {@link IllegalArgumentException}s
 * thrown by the records' constructors. Needs root (CAP_NET_ADMIN) and the
 * {@code nft} binary (1.0 or later).
 */
public final class Nftables {

    /**
     * A bridge network: its bridge, its IPv4 subnet (stored with the host bits
     * cleared: "10.89.0.1/16" becomes "10.89.0.0/16") and whether it is
     * internal (no way out of the bridge, no masquerade).
     */
    public record NetworkRule(String bridge, String subnet /* CIDR e.g. "10.89.0.0/16" */, boolean internal) {
        public NetworkRule {
            bridge = checkIfname(bridge);
            subnet = canonicalSubnet(subnet);
        }
    }

    /**
     * A published port: protocol "tcp" or "udp" (any case); hostIp null (also
     * given as "" or "0.0.0.0") for every host address, else one IPv4 address
     * of the host; ports 1 to 65535. Stored normalized, so a mapping read back
     * by {@link #ports()} equals the one added.
     */
    public record PortMapping(String protocol /* "tcp"|"udp" */, String hostIp /* null or "0.0.0.0" = every host address */,
                              int hostPort, String containerIp, int containerPort) {
        public PortMapping {
            protocol = Objects.requireNonNull(protocol, "protocol").toLowerCase(Locale.ROOT);
            if (!protocol.equals("tcp") && !protocol.equals("udp")) {
                throw new IllegalArgumentException("protocol must be tcp or udp: " + protocol);
            }
            hostIp = hostIp == null || hostIp.isEmpty() || hostIp.equals("0.0.0.0") ? null : canonicalIp(hostIp);
            containerIp = canonicalIp(Objects.requireNonNull(containerIp, "containerIp"));
            checkPort(hostPort);
            checkPort(containerPort);
        }

        /** The key of this mapping in its map: protocol, host address, host port. */
        String key() {
            return protocol + " " + (hostIp == null ? "*" : hostIp) + ":" + hostPort;
        }

        String map() {
            return protocol + (hostIp == null ? "-ports" : "-addr-ports");
        }

        String element() {
            return (hostIp == null ? "" : hostIp + " . ") + hostPort + " : " + containerIp + " . " + containerPort;
        }

        @Override
        public String toString() {
            return protocol + " " + (hostIp == null ? "0.0.0.0" : hostIp) + ":" + hostPort + " -> " + containerIp
                    + ":" + containerPort;
        }
    }

    private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_-]{0,63}");
    private static final Pattern IFNAME = Pattern.compile("[A-Za-z0-9_.-]{1,15}");
    /** Changes whenever the rules ensure() or addNetwork() write change: callers re-apply them on a new one. */
    public static final int LAYOUT = 2;
    private static final String[] PROTOCOLS = {"tcp", "udp"};
    private static final String COMMENT = "net";
    private static final int RETRIES = 5;
    private static final long TIMEOUT_SECONDS = 60;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String NFT = locateNft();

    private final String table;

    /** The IPv4 table {@code ip <table>}: letters, digits, '_' and '-', starting with a letter. */
    public Nftables(String table) {
        if (table == null || !TABLE_NAME.matcher(table).matches()) {
            throw new IllegalArgumentException("bad nftables table name: " + table);
        }
        this.table = table;
    }

    /**
     * Creates what is missing of the table, its set, maps and chains, and
     * (re)writes the DNAT rules of prerouting and output, in one transaction;
     * then turns on IPv4 forwarding (/proc/sys/net/ipv4/ip_forward). Safe to
     * call any number of times, from any number of processes at once.
     */
    public void ensure() throws IOException {
        String t = "ip " + table;
        StringBuilder s = new StringBuilder();
        s.append("add table ").append(t).append('\n');
        s.append("add set ").append(t).append(" bridges { type ifname; }\n");
        for (String p : PROTOCOLS) {
            s.append("add map ").append(t).append(' ').append(p)
                    .append("-ports { type inet_service : ipv4_addr . inet_service; }\n");
            s.append("add map ").append(t).append(' ').append(p)
                    .append("-addr-ports { type ipv4_addr . inet_service : ipv4_addr . inet_service; }\n");
        }
        s.append("add chain ").append(t).append(" prerouting { type nat hook prerouting priority dstnat; policy accept; }\n");
        s.append("add chain ").append(t).append(" output { type nat hook output priority -100; policy accept; }\n");
        s.append("add chain ").append(t).append(" postrouting { type nat hook postrouting priority srcnat; policy accept; }\n");
        s.append("add chain ").append(t).append(" forward { type filter hook forward priority filter; policy accept; }\n");
        // route_localnet on the bridges (for 127.0.0.1 → a published port) must not let anyone else
        // reach 127.0.0.0/8: a packet to it that did not come from lo is dropped before NAT sees it
        // (CVE-2020-8558's class: a LAN neighbour or a container sending to 127.0.0.1)
        s.append("add chain ").append(t).append(" guard { type filter hook prerouting priority raw; policy accept; }\n");
        s.append("flush chain ").append(t).append(" guard\n");
        s.append("add rule ").append(t).append(" guard iifname != \"lo\" ip daddr 127.0.0.0/8 drop\n");
        for (String chain : List.of("prerouting", "output")) {
            s.append("flush chain ").append(t).append(' ').append(chain).append('\n');
            for (String p : PROTOCOLS) {
                s.append("add rule ").append(t).append(' ').append(chain).append(" fib daddr type local dnat ip to ip daddr . ")
                        .append(p).append(" dport map @").append(p).append("-addr-ports\n");
                s.append("add rule ").append(t).append(' ').append(chain).append(" fib daddr type local dnat ip to ")
                        .append(p).append(" dport map @").append(p).append("-ports\n");
            }
        }
        apply("ensure table " + t, s.toString());
        writeSysctl("ensure table " + t, Path.of("/proc/sys/net/ipv4/ip_forward"));
    }

    /**
     * Adds a network's rules (see the class comment) and sets
     * /proc/sys/net/ipv4/conf/BRIDGE/route_localnet to 1, so the bridge must
     * exist. Does nothing if the bridge already has the same network; fails if
     * it has rules for another subnet or internal flag (remove it first).
     * {@link #ensure} must have run.
     */
    public void addNetwork(NetworkRule n) throws IOException {
        String op = "add network " + n.bridge() + " " + n.subnet() + (n.internal() ? " internal" : "");
        writeSysctl(op, Path.of("/proc/sys/net/ipv4/conf", n.bridge(), "route_localnet"));
        String t = "ip " + table;
        String br = '"' + n.bridge() + '"';
        String c = " comment \"" + COMMENT + " " + n.bridge() + " " + n.subnet() + (n.internal() ? " internal" : "") + "\"\n";
        StringBuilder s = new StringBuilder();
        // fails the whole transaction if the bridge is already there: one copy of the rules, whatever the races
        s.append("create element ").append(t).append(" bridges { ").append(br).append(" }\n");
        String post = "add rule " + t + " postrouting ";
        if (!n.internal()) {
            s.append(post).append("ip saddr ").append(n.subnet()).append(" oifname != ").append(br).append(" masquerade").append(c);
        }
        s.append(post).append("ip saddr ").append(n.subnet()).append(" oifname ").append(br).append(" ct status dnat masquerade").append(c);
        s.append(post).append("ip saddr 127.0.0.0/8 oifname ").append(br).append(" masquerade").append(c);
        String fwd = "add rule " + t + " forward ";
        if (n.internal()) {
            s.append(fwd).append("iifname ").append(br).append(" oifname != ").append(br).append(" drop").append(c);
            s.append(fwd).append("oifname ").append(br).append(" iifname != ").append(br).append(" drop").append(c);
        } else {
            s.append(fwd).append("iifname ").append(br).append(" oifname != ").append(br)
                    .append(" oifname @bridges ct status & dnat == 0 drop").append(c);
        }
        for (int attempt = 1; ; attempt++) {
            Result r = run(op, s.toString(), "-f", "-");
            if (r.exit() == 0) {
                return;
            }
            if (!r.err().contains("File exists")) {
                throw failure(op, r);
            }
            NetworkRule existing = networks().stream().filter(x -> x.bridge().equals(n.bridge())).findFirst().orElse(null);
            if (n.equals(existing)) {
                return;
            }
            if (existing != null) {
                throw new IOException("nft " + op + ": bridge " + n.bridge() + " already has the rules of network "
                        + existing.subnet() + (existing.internal() ? " internal" : "") + " (remove it first)");
            }
            if (attempt == RETRIES) { // in the set but no rules: not something these methods leave; removeNetwork clears it
                throw new IOException("nft " + op + ": bridge " + n.bridge() + " is in set bridges of table " + t
                        + " without rules (removeNetwork clears it): " + r.err().strip());
            }
        }
    }

    /** Deletes every rule tagged with this bridge and its element of {@code bridges}; nothing to do is no error. */
    public void removeNetwork(String bridge) throws IOException {
        checkIfname(bridge);
        String op = "remove network " + bridge;
        for (int attempt = 1; ; attempt++) {
            JsonNode items = listTable(op, true);
            if (items == null) {
                return;
            }
            StringBuilder s = new StringBuilder();
            for (JsonNode item : items) {
                JsonNode set = item.get("set");
                if (set != null && "bridges".equals(set.path("name").asText())) {
                    for (JsonNode e : set.path("elem")) {
                        if (bridge.equals(e.asText())) {
                            s.append("delete element ip ").append(table).append(" bridges { \"").append(bridge).append("\" }\n");
                        }
                    }
                }
                JsonNode rule = item.get("rule");
                if (rule != null) {
                    NetworkRule n = parseComment(rule.path("comment").asText(null));
                    if (n != null && n.bridge().equals(bridge)) {
                        s.append("delete rule ip ").append(table).append(' ').append(rule.path("chain").asText())
                                .append(" handle ").append(rule.path("handle").asLong()).append('\n');
                    }
                }
            }
            if (s.isEmpty()) {
                return;
            }
            Result r = run(op, s.toString(), "-f", "-");
            if (r.exit() == 0) {
                return;
            }
            if (attempt == RETRIES || !r.err().contains("No such file or directory")) { // else: removed meanwhile
                throw failure(op, r);
            }
        }
    }

    /**
     * Publishes the ports, all or none (one transaction). Fails if one of the
     * keys (protocol, host address or any, host port) is already mapped, even
     * to the same container; the message lists them. Duplicate keys in the list
     * are an IllegalArgumentException. {@link #ensure} must have run.
     */
    public void addPorts(List<PortMapping> ports) throws IOException {
        Set<String> keys = new HashSet<>();
        StringBuilder s = new StringBuilder();
        for (PortMapping p : ports) {
            if (!keys.add(p.key())) {
                throw new IllegalArgumentException("port " + p.key() + " is given twice: " + ports);
            }
            s.append("create element ip ").append(table).append(' ').append(p.map()).append(" { ").append(p.element())
                    .append(" }\n");
        }
        if (ports.isEmpty()) {
            return;
        }
        String op = "add ports " + ports;
        Result r = run(op, s.toString(), "-f", "-");
        if (r.exit() == 0) {
            return;
        }
        if (r.err().contains("File exists")) {
            List<String> taken = new ArrayList<>();
            for (PortMapping now : ports()) {
                if (keys.contains(now.key())) {
                    taken.add(now.toString());
                }
            }
            throw new IOException("nft " + op + ": already mapped: " + (taken.isEmpty() ? "(gone again)" : taken)
                    + "; nothing added: " + r.err().strip());
        }
        throw failure(op, r);
    }

    /**
     * Unpublishes those of the ports that are mapped exactly so (same key and
     * same container address and port), in one transaction; a port that is
     * not mapped, or mapped to something else, is left alone.
     */
    public void removePorts(List<PortMapping> ports) throws IOException {
        if (ports.isEmpty()) {
            return;
        }
        String op = "remove ports " + ports;
        for (int attempt = 1; ; attempt++) {
            Set<PortMapping> present = new HashSet<>(ports());
            StringBuilder s = new StringBuilder();
            for (PortMapping p : new LinkedHashSet<>(ports)) { // once each, in the caller's order
                if (present.contains(p)) {
                    s.append("delete element ip ").append(table).append(' ').append(p.map()).append(" { ")
                            .append(p.element()).append(" }\n");
                }
            }
            if (s.isEmpty()) {
                return;
            }
            Result r = run(op, s.toString(), "-f", "-");
            if (r.exit() == 0) {
                return;
            }
            if (attempt == RETRIES || !r.err().contains("No such file or directory")) {
                throw failure(op, r);
            }
        }
    }

    /** Every published port now, from the four maps; empty if there is no table. */
    public List<PortMapping> ports() throws IOException {
        String op = "list ports of table ip " + table;
        JsonNode items = listTable(op, false);
        List<PortMapping> out = new ArrayList<>();
        if (items == null) {
            return out;
        }
        for (JsonNode item : items) {
            JsonNode map = item.get("map");
            if (map == null) {
                continue;
            }
            String name = map.path("name").asText();
            for (String p : PROTOCOLS) {
                boolean any = name.equals(p + "-ports");
                if (!any && !name.equals(p + "-addr-ports")) {
                    continue;
                }
                for (JsonNode e : map.path("elem")) {
                    try {
                        JsonNode key = unwrap(e.get(0));
                        JsonNode value = unwrap(e.get(1)).get("concat");
                        String hostIp = any ? null : key.get("concat").get(0).asText();
                        int hostPort = any ? key.asInt() : key.get("concat").get(1).asInt();
                        out.add(new PortMapping(p, hostIp, hostPort, value.get(0).asText(), value.get(1).asInt()));
                    } catch (RuntimeException x) {
                        throw new IOException("nft " + op + ": unexpected element in map " + name + ": " + e, x);
                    }
                }
            }
        }
        return out;
    }

    /** The networks whose rules are in the table now (from the rules' comments); empty if there is no table. */
    public List<NetworkRule> networks() throws IOException {
        JsonNode items = listTable("list networks of table ip " + table, false);
        Map<String, NetworkRule> out = new LinkedHashMap<>();
        if (items != null) {
            for (JsonNode item : items) {
                JsonNode rule = item.get("rule");
                NetworkRule n = rule == null ? null : parseComment(rule.path("comment").asText(null));
                if (n != null) {
                    out.putIfAbsent(n.bridge(), n);
                }
            }
        }
        return List.copyOf(out.values());
    }

    public boolean exists() throws IOException {
        Result r = run("list tables", null, "-j", "list", "tables", "ip");
        if (r.exit() != 0) {
            throw failure("list tables", r);
        }
        for (JsonNode item : parse("list tables", r).path("nftables")) {
            if (table.equals(item.path("table").path("name").asText(null))) {
                return true;
            }
        }
        return false;
    }

    /** Deletes the whole table (rules, maps, set) at once; no table is no error. */
    public void deleteTable() throws IOException {
        // add-then-delete in one transaction: succeeds whether or not the table was there
        apply("delete table ip " + table, "add table ip " + table + "\ndelete table ip " + table + "\n");
    }

    // ---- internals ----

    /** An element written {"elem": {"val": X, ...}} (with a timeout, counter ...) is X. */
    private static JsonNode unwrap(JsonNode n) {
        JsonNode elem = n.get("elem");
        return elem != null && elem.has("val") ? elem.get("val") : n;
    }

    private static NetworkRule parseComment(String comment) {
        if (comment == null) {
            return null;
        }
        String[] f = comment.split(" ");
        if (f.length < 3 || f.length > 4 || !f[0].equals(COMMENT) || (f.length == 4 && !f[3].equals("internal"))) {
            return null;
        }
        try {
            return new NetworkRule(f[1], f[2], f.length == 4);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The items of {@code nft -j [-a] list table}, or null if the table does not exist. */
    private JsonNode listTable(String op, boolean handles) throws IOException {
        Result r = handles ? run(op, null, "-j", "-a", "list", "table", "ip", table)
                : run(op, null, "-j", "list", "table", "ip", table);
        if (r.exit() != 0) {
            if (r.err().contains("No such file or directory")) {
                return null;
            }
            throw failure(op, r);
        }
        return parse(op, r).path("nftables");
    }

    private static JsonNode parse(String op, Result r) throws IOException {
        try {
            return JSON.readTree(r.out());
        } catch (IOException e) {
            throw new IOException("nft " + op + ": cannot parse nft's JSON: " + e.getMessage(), e);
        }
    }

    private void apply(String op, String script) throws IOException {
        Result r = run(op, script, "-f", "-");
        if (r.exit() != 0) {
            throw failure(op, r);
        }
    }

    private static IOException failure(String op, Result r) {
        return new IOException("nft " + op + " failed (exit " + r.exit() + "): " + r.err().strip());
    }

    private static void writeSysctl(String op, Path file) throws IOException {
        try {
            if (!Files.readString(file).strip().equals("1")) {
                Files.writeString(file, "1\n");
            }
        } catch (NoSuchFileException e) {
            throw new IOException(op + ": no " + file + (file.toString().contains("/conf/")
                    ? " (does the bridge exist?)" : ""), e);
        } catch (IOException e) {
            throw new IOException(op + ": cannot write 1 to " + file + ": " + e, e);
        }
    }

    private record Result(int exit, String out, String err) {}

    /** Runs nft with args and the script (or nothing) on stdin, in the C locale (its messages are matched). */
    private static Result run(String op, String stdin, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(args));
        cmd.addFirst(NFT);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("LC_ALL", "C");
        if (stdin == null) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException("nft " + op + ": cannot run " + NFT + ": " + e.getMessage(), e);
        }
        FutureTask<byte[]> out = drain(p.getInputStream());
        FutureTask<byte[]> err = drain(p.getErrorStream());
        try {
            if (stdin != null) {
                try (OutputStream in = p.getOutputStream()) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    // nft stopped reading (it failed early): its stderr says why
                }
            }
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("nft " + op + ": " + String.join(" ", cmd) + " did not finish in " + TIMEOUT_SECONDS + "s");
            }
            return new Result(p.exitValue(), new String(out.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8),
                    new String(err.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("nft " + op + ": interrupted");
        } catch (ExecutionException | TimeoutException e) {
            p.destroyForcibly();
            throw new IOException("nft " + op + ": reading the output of " + String.join(" ", cmd) + ": " + e, e);
        }
    }

    private static FutureTask<byte[]> drain(InputStream s) {
        FutureTask<byte[]> f = new FutureTask<>(() -> {
            try (s) {
                return s.readAllBytes();
            }
        });
        Thread.ofVirtual().name("nft-output").start(f);
        return f;
    }

    private static String locateNft() {
        for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin")) {
            if (Files.isExecutable(Path.of(dir, "nft"))) {
                return dir + "/nft";
            }
        }
        return "nft"; // from PATH, or a clear "Cannot run program" at the first call
    }

    private static String checkIfname(String name) {
        if (name == null || !IFNAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("bad bridge name (1-15 of A-Z a-z 0-9 _ . -): " + name);
        }
        return name;
    }

    private static void checkPort(int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range 1-65535: " + port);
        }
    }

    /** Dotted-quad IPv4 (no name lookups), as four decimal numbers without leading zeros. */
    private static String canonicalIp(String s) {
        return ipString(ipValue(s));
    }

    private static long ipValue(String s) {
        String[] f = s.split("\\.", -1);
        if (f.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address: " + s);
        }
        long v = 0;
        for (String x : f) {
            if (x.isEmpty() || x.length() > 3 || !x.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
                throw new IllegalArgumentException("not an IPv4 address: " + s);
            }
            int b = Integer.parseInt(x);
            if (b > 255) {
                throw new IllegalArgumentException("not an IPv4 address: " + s);
            }
            v = v << 8 | b;
        }
        return v;
    }

    private static String ipString(long v) {
        return (v >> 24 & 255) + "." + (v >> 16 & 255) + "." + (v >> 8 & 255) + "." + (v & 255);
    }

    private static String canonicalSubnet(String cidr) {
        Objects.requireNonNull(cidr, "subnet");
        int slash = cidr.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("subnet must be CIDR, e.g. 10.89.0.0/16: " + cidr);
        }
        String len = cidr.substring(slash + 1);
        if (len.isEmpty() || len.length() > 2 || !len.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
            throw new IllegalArgumentException("bad prefix length in " + cidr);
        }
        int prefix = Integer.parseInt(len);
        if (prefix < 1 || prefix > 32) {
            throw new IllegalArgumentException("prefix length must be 1-32: " + cidr);
        }
        long mask = (0xffffffffL << (32 - prefix)) & 0xffffffffL;
        return ipString(ipValue(cidr.substring(0, slash)) & mask) + "/" + prefix;
    }
}
