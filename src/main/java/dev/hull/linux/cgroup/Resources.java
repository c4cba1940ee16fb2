package dev.hull.linux.cgroup;

import java.util.List;
import java.util.Map;

/**
 * The values of an OCI {@code linux.resources} object, already validated. A null field (or record) means "not
 * given": it is left alone. As in runc, a 0 for the memory sizes, cpu shares/quota/period and pids limit also
 * means "not given" (containerd sends zeros for unset fields). See {@link CgroupResources} for how each is written
 * on cgroup v1 and v2.
 *
 * @param devices device rules in order, or null when the device controller is not to be touched (update)
 */
public record Resources(Memory memory, Cpu cpu, Long pidsLimit, BlockIO blockIO, List<Hugepage> hugepageLimits,
        List<DeviceRule> devices, Map<String, String> unified, Map<String, Rdma> rdma, Network network) {

    public static final Resources NONE = new Resources(null, null, null, null, null, null, null, null, null);

    public record Memory(Long limit, Long reservation, Long swap, Long kernel, Long kernelTCP, Long swappiness,
            Boolean disableOOMKiller, Boolean useHierarchy, boolean checkBeforeUpdate) {}

    public record Cpu(Long shares, Long quota, Long burst, Long period, Long realtimeRuntime, Long realtimePeriod,
            String cpus, String mems, Long idle) {}

    public record BlockIO(Integer weight, Integer leafWeight, List<WeightDevice> weightDevice,
            List<ThrottleDevice> throttleReadBps, List<ThrottleDevice> throttleWriteBps,
            List<ThrottleDevice> throttleReadIops, List<ThrottleDevice> throttleWriteIops) {}

    public record WeightDevice(long major, long minor, Integer weight, Integer leafWeight) {}

    public record ThrottleDevice(long major, long minor, long rate) {}

    /** @param pageSize as in the spec and in the kernel's file names, e.g. "2MB", "1GB" */
    public record Hugepage(String pageSize, long limit) {}

    /**
     * One device cgroup rule.
     *
     * @param type   'a' (all), 'c' or 'b'
     * @param major  null for any
     * @param minor  null for any
     * @param access a non-empty subset of "rwm"
     */
    public record DeviceRule(boolean allow, char type, Long major, Long minor, String access) {
        /** The v1 devices.allow/deny line: "c 1:3 rwm", or "a" for all devices. */
        public String v1Line() {
            if (type == 'a') {
                return "a";
            }
            return type + " " + (major == null ? "*" : major.toString()) + ":" + (minor == null ? "*" : minor.toString())
                    + " " + access;
        }
    }

    public record Rdma(Long hcaHandles, Long hcaObjects) {}

    public record Network(Long classID, Map<String, Long> priorities) {}

    /** This with a different device rule list. */
    public Resources withDevices(List<DeviceRule> rules) {
        return new Resources(memory, cpu, pidsLimit, blockIO, hugepageLimits, rules, unified, rdma, network);
    }
}
