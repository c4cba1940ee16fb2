package dev.hull.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.ContainerRuntime;
import dev.hull.runtime.RuntimeError;
import dev.hull.runtime.spec.DefaultSpec;
import dev.hull.runtime.spec.Features;
import dev.hull.runtime.spec.Json;
import dev.hull.runtime.spec.State;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/** The subcommands of {@code hull-runtime} that report rather than change containers: list, spec, features. */
final class RuntimeInfoCommands {
    private RuntimeInfoCommands() {}

    static final class ListCmd extends RuntimeCli.Sub {
        String format;
        boolean quiet;

        @Override
        void define(CommandModel m) {
            m.describe("List containers.");
            m.option("-f, --format=<format>", String.class, v -> format = v, "table or json.").defaultValue("table");
            m.flag("-q, --quiet", v -> quiet = v, "Print ids only.");
        }

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            List<State> states = rt.list();
            if (quiet) {
                states.forEach(s -> parent.inv.out().println(s.id()));
                return 0;
            }
            switch (format) {
                case "json" -> {
                    ArrayNode arr = JsonNodeFactory.instance.arrayNode();
                    for (State s : states) {
                        ObjectNode n = arr.addObject();
                        n.put("ociVersion", s.ociVersion());
                        n.put("id", s.id());
                        n.put("pid", s.pid());
                        n.put("status", s.status());
                        n.put("bundle", s.bundle());
                        n.put("rootfs", rt.store().load(s.id()).rootfs());
                        n.put("created", rt.store().load(s.id()).created());
                        ObjectNode ann = n.putObject("annotations");
                        s.annotations().forEach(ann::put);
                    }
                    parent.inv.out().println(Json.write(arr, true));
                }
                case "table" -> {
                    PrintWriter out = parent.inv.out();
                    out.printf("%-20s %-8s %-10s %-40s %s%n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
                    for (State s : states) {
                        out.printf("%-20s %-8d %-10s %-40s %s%n", s.id(), s.pid(), s.status(), s.bundle(),
                                rt.store().load(s.id()).created());
                    }
                }
                default -> throw new RuntimeError(RuntimeError.Kind.BAD_INPUT,
                        "--format must be table or json, not " + format);
            }
            return 0;
        }
    }

    static final class Spec extends RuntimeCli.Sub {
        Path bundle;
        boolean rootlessSpec;

        @Override
        void define(CommandModel m) {
            m.describe("Write a default config.json (like runc spec) into the bundle directory.");
            m.option("-b, --bundle=<bundle>", Path.class, v -> bundle = v, "Where to write config.json.").defaultValue(".");
            m.flag("--rootless", v -> rootlessSpec = v, "A spec for a rootless container (user namespace).");
        }

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            Path file = parent.inv.resolve(bundle).resolve("config.json");
            try {
                Files.write(file, Json.write(DefaultSpec.create(rootlessSpec), true).getBytes(StandardCharsets.UTF_8),
                        StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException e) {
                throw new RuntimeError(RuntimeError.Kind.EXISTS, "File " + file + " exists. Remove it first");
            }
            return 0;
        }
    }

    static final class FeaturesCmd extends RuntimeCli.Sub {
        @Override
        void define(CommandModel m) {
            m.describe("Print what this runtime supports, as JSON (the OCI features schema).");
        }

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            parent.inv.out().println(Json.write(Features.create(), true));
            return 0;
        }
    }
}
