package dev.hull.engine;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * docker's State.Health (Status starting, healthy or unhealthy; FailingStreak; the last results), and
 * the start it is of (the monitor's startedAt: a new start begins again at starting).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record HealthState(@JsonProperty("Status") String status, @JsonProperty("FailingStreak") int failingStreak,
        @JsonProperty("Log") List<Result> log, @JsonProperty("startedAt") String startedAt) {

    /** One run of the check (docker's HealthcheckResult); ExitCode -1: it could not run, or timed out. */
    public record Result(@JsonProperty("Start") String start, @JsonProperty("End") String end,
            @JsonProperty("ExitCode") int exitCode, @JsonProperty("Output") String output) {}
}
