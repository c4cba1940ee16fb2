package dev.hull.service;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.function.IntConsumer;

/**
 * One client's command as the service runs it.
 *
 * @param cwd the client's working directory
 * @param out the client's stdout (writes stop once the command is over or cancelled)
 * @param err the client's stderr, likewise
 * @param stdio the client's stdin, stdout and stderr descriptors (a container's stdio, terminal checks)
 * @param onStarted what to do with a foreground container's pid: signals the client relays go to it
 */
public record Session(Path cwd, PrintStream out, PrintStream err, int[] stdio, IntConsumer onStarted) {}
