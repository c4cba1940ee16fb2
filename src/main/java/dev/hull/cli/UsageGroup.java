package dev.hull.cli;

import picocli.CommandLine;

/** A noun's command ({@code hull machine}): given no verb, it prints its usage. */
abstract class UsageGroup implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
