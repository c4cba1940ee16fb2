package dev.hull.runtime.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.linux.cgroup.CgroupResources;
import dev.hull.linux.cgroup.Resources;
import org.junit.jupiter.api.Test;

class ResourcesSpecTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static Resources parse(String json) throws Exception {
        return ResourcesSpec.parse(JSON.readTree(json), "linux.resources");
    }

    static void rejects(String json, String message) {
        assertThatThrownBy(() -> parse(json)).isInstanceOf(ConfigException.class).hasMessage(message);
    }

    @Test
    void readsEveryGroup() throws Exception {
        Resources r = parse("""
                {"memory":{"limit":1048576,"swap":-1,"swappiness":10,"disableOOMKiller":true},
                 "cpu":{"shares":1024,"quota":50000,"period":100000,"cpus":"0-1","idle":1},
                 "pids":{"limit":10},
                 "blockIO":{"weight":500,"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1000}]},
                 "hugepageLimits":[{"pageSize":"2MB","limit":4194304}],
                 "devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":3,"access":"wr"}],
                 "unified":{"memory.high":"max"},
                 "rdma":{"mlx5_1":{"hcaHandles":3}}}""");
        assertThat(r.memory().limit()).isEqualTo(1048576);
        assertThat(r.memory().swap()).isEqualTo(-1);
        assertThat(r.cpu().cpus()).isEqualTo("0-1");
        assertThat(r.pidsLimit()).isEqualTo(10);
        assertThat(r.blockIO().throttleReadBps().getFirst().rate()).isEqualTo(1000);
        assertThat(r.hugepageLimits().getFirst().pageSize()).isEqualTo("2MB");
        assertThat(r.devices()).hasSize(2);
        assertThat(r.devices().get(0).v1Line()).isEqualTo("a");
        assertThat(r.devices().get(1).v1Line()).isEqualTo("c 1:3 rw");
        assertThat(r.unified()).containsEntry("memory.high", "max");
        assertThat(r.rdma().get("mlx5_1").hcaHandles()).isEqualTo(3);
    }

    @Test
    void badValuesNameTheField() {
        rejects("{\"memory\":{\"limit\":\"1g\"}}", "linux.resources.memory.limit: must be an integer");
        rejects("{\"memory\":{\"limit\":-2}}", "linux.resources.memory.limit: must be an integer >= -1 (bytes; -1 is"
                + " unlimited), got -2");
        rejects("{\"memory\":{\"swappiness\":101}}",
                "linux.resources.memory.swappiness: must be an integer from 0 to 100, got 101");
        rejects("{\"cpu\":{\"cpus\":\"zero\"}}", "linux.resources.cpu.cpus: must be a list like \"0-3,6\", not \"zero\"");
        rejects("{\"pids\":{}}", "linux.resources.pids.limit: required");
        rejects("{\"blockIO\":{\"weight\":5}}",
                "linux.resources.blockIO.weight: must be an integer from 10 to 1000 (0: not set), got 5");
        rejects("{\"devices\":[{\"allow\":true,\"access\":\"rx\"}]}",
                "linux.resources.devices[0].access: must be a combination of r, w and m (e.g. \"rwm\"), not \"rx\"");
        rejects("{\"devices\":[{\"allow\":true,\"type\":\"u\"}]}",
                "linux.resources.devices[0].type: must be \"a\", \"c\" or \"b\", not \"u\"");
        rejects("{\"hugepageLimits\":[{\"pageSize\":\"2M\",\"limit\":1}]}", "linux.resources.hugepageLimits[0].pageSize:"
                + " invalid page size \"2M\" (expected <number>KB, <number>MB or <number>GB, e.g. \"2MB\")");
        rejects("{\"unified\":{\"../x\":\"1\"}}", "linux.resources.unified.../x: not a cgroup v2 interface file name"
                + " (expected <controller>.<file>, e.g. \"memory.high\")");
    }

    @Test
    void containersStartFromDenyAllAndGetRuncsDefaultDevices() throws Exception {
        Spec spec = SpecParser.parse(JSON.writeValueAsBytes(DefaultSpec.create(false)), "config.json");
        Resources r = ResourcesSpec.forContainer(spec);
        assertThat(r.devices().getFirst().v1Line()).isEqualTo("a");
        assertThat(r.devices().getFirst().allow()).isFalse();
        assertThat(r.devices()).endsWith(ResourcesSpec.DEFAULT_ALLOWED.toArray(Resources.DeviceRule[]::new));
    }

    @Test
    void v1ToV2ConversionsAreRuncs() {
        assertThat(CgroupResources.sharesToWeight(1024)).isEqualTo(39);
        assertThat(CgroupResources.sharesToWeight(2)).isEqualTo(1);
        assertThat(CgroupResources.sharesToWeight(262144)).isEqualTo(10000);
        assertThat(CgroupResources.blkioToIoWeight(10)).isEqualTo(1);
        assertThat(CgroupResources.blkioToIoWeight(1000)).isEqualTo(10000);
    }
}
