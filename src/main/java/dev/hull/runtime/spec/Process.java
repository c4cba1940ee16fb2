package dev.hull.runtime.spec;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * {@code process} of a config. {@code consoleSize}, {@code capabilities}, {@code commandLine},
 * {@code apparmorProfile}, {@code oomScoreAdj}, {@code selinuxLabel} are null when absent;
 * {@code user} defaults to uid 0 / gid 0 when absent. {@code raw} is the process object as read
 * (for fields not modelled here: scheduler, ioPriority, execCPUAffinity, ...).
 */
public record Process(
        boolean terminal,
        ConsoleSize consoleSize,
        User user,
        List<String> args,
        String commandLine,
        List<String> env,
        String cwd,
        boolean noNewPrivileges,
        Capabilities capabilities,
        List<Rlimit> rlimits,
        String apparmorProfile,
        Integer oomScoreAdj,
        String selinuxLabel,
        JsonNode raw) {
    public Process {
        args = List.copyOf(args);
        env = List.copyOf(env);
        rlimits = List.copyOf(rlimits);
    }
}
