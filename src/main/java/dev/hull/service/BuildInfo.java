package dev.hull.service;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * Which build this jar is: Maven writes the same value into dev/hull/build.properties and into the
 * executor (the warm path's client sends it). A service runs commands only for clients of its own
 * build, so a rebuilt or upgraded Hull never has its new command lines run by old code.
 */
public final class BuildInfo {
    private static final String ID = load();

    private BuildInfo() {}

    /** This build's identity, e.g. "0.1.0-SNAPSHOT-20261206T203209.123"; "unknown" outside a Maven build. */
    public static String id() {
        return ID;
    }

    private static String load() {
        try (InputStream in = BuildInfo.class.getResourceAsStream("/dev/hull/build.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            String id = p.getProperty("build", "unknown").trim();
            return id.isEmpty() || id.startsWith("${") ? "unknown" : id;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
