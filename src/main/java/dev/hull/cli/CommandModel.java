package dev.hull.cli;

import java.io.PrintWriter;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.IHelpCommandInitializable2;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.IGetter;
import picocli.CommandLine.Model.ISetter;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Range;
import picocli.CommandLine.TypeConversionException;

/**
 * A picocli command declared in code, one line per option, instead of with annotations.
 *
 * <p>Why: the JDK makes every annotation instance a {@link java.lang.reflect.Proxy} whose class
 * is spun at run time, and JDK 25's AOT cache cannot hold such classes: reading picocli's
 * annotations cost a cold {@code hull-runtime} call ~50 ms of CPU (7 proxy classes). A model built
 * here reads none ({@link CommandSpec#wrapWithoutInspection}); each option sets its field through a
 * lambda. Names as picocli writes them: {@code "-b, --bundle=<bundle>"} (the part after '=' is the
 * value's label in help); flags have none.
 */
final class CommandModel {
    /**
     * Paths as picocli's built-in converter makes them (same message for a bad one), without its
     * reflective call: Method.invoke spins method handle classes at run time (~10 ms cold).
     */
    private static final ITypeConverter<Path> PATH = s -> {
        try {
            return Path.of(s);
        } catch (InvalidPathException e) {
            throw new TypeConversionException("cannot convert '" + s + "' to " + Path.class + " (" + e + ")");
        }
    };

    private final CommandSpec spec;
    private final List<Arg> args = new ArrayList<>();

    private CommandModel(CommandSpec spec) {
        this.spec = spec;
    }

    /** A command named name whose user object (run when it is called: a Callable or Runnable) is command. */
    static CommandModel of(String name, Object command) {
        return new CommandModel(CommandSpec.wrapWithoutInspection(command).name(name));
    }

    /** The usage help's description lines. */
    CommandModel describe(String... lines) {
        spec.usageMessage().description(lines);
        return this;
    }

    /** An option taking one value of type (converted by picocli), set into a field by set. */
    <T> Arg option(String names, Class<T> type, Consumer<? super T> set, String... description) {
        // a primitive field starts at its zero, as a field does (picocli sets it before each parse)
        OptionSpec.Builder b = option(names, description).type(type);
        if (type == Path.class) {
            b.converters(PATH);
        }
        return add(new Arg(b, null), set,
                type.isPrimitive() ? java.lang.reflect.Array.get(java.lang.reflect.Array.newInstance(type, 1), 0) : null);
    }

    /** A boolean option without a value. */
    Arg flag(String names, Consumer<Boolean> set, String... description) {
        return add(new Arg(option(names, description).type(boolean.class), null), set, false);
    }

    /** A repeatable option, each occurrence adding one value to a list. */
    <T> Arg repeated(String names, Class<T> element, Consumer<List<T>> set, String... description) {
        return add(new Arg(option(names, description).type(List.class).auxiliaryTypes(element), null), set, List.of());
    }

    /** The positional parameter at index (required unless it has a default value). */
    <T> Arg param(int index, String label, Class<T> type, Consumer<? super T> set, String... description) {
        return add(new Arg(null, PositionalParamSpec.builder().index(Integer.toString(index)).paramLabel(label)
                .type(type).required(true).description(description)), set, null);
    }

    /** The positional parameters from index on, as a list (none is fine). */
    <T> Arg rest(int from, String label, Class<T> element, Consumer<List<T>> set, String... description) {
        return add(new Arg(null, PositionalParamSpec.builder().index(from + "..*").paramLabel(label).type(List.class)
                .auxiliaryTypes(element).arity(Range.valueOf("0..1").unspecified(true)).description(description)),
                set, List.of());
    }

    /** The spec, with every option and parameter added in the order declared. */
    CommandSpec spec() {
        for (Arg a : args) {
            if (a.option != null) {
                spec.addOption(a.option.build());
            } else {
                spec.addPositional(a.positional.build());
            }
        }
        args.clear();
        return spec;
    }

    private static OptionSpec.Builder option(String names, String[] description) {
        int eq = names.indexOf('=');
        OptionSpec.Builder b = OptionSpec.builder((eq < 0 ? names : names.substring(0, eq)).split(", "))
                .description(description);
        return eq < 0 ? b : b.paramLabel(names.substring(eq + 1));
    }

    private Arg add(Arg a, Consumer<?> set, Object initial) {
        Binding binding = new Binding(set);
        if (a.option != null) {
            a.option.getter(binding).setter(binding).initialValue(initial);
        } else {
            a.positional.getter(binding).setter(binding).initialValue(initial);
        }
        args.add(a);
        return a;
    }

    /** One option or parameter being declared: what the declaring line can add to it. */
    static final class Arg {
        // one of these (picocli's common builder type is not public)
        private final OptionSpec.Builder option;
        private final PositionalParamSpec.Builder positional;

        private Arg(OptionSpec.Builder option, PositionalParamSpec.Builder positional) {
            this.option = option;
            this.positional = positional;
        }

        /** The value when the command line has none (also shown by help's ${DEFAULT-VALUE}). */
        Arg defaultValue(String value) {
            if (option != null) {
                option.defaultValue(value);
            } else {
                positional.defaultValue(value);
            }
            return this;
        }

        /** This option asks for the usage help (-h, --help). */
        Arg usageHelp() {
            option.usageHelp(true);
            return this;
        }

        /** This option asks for the version (-V, --version). */
        Arg versionHelp() {
            option.versionHelp(true);
            return this;
        }

        /** Accepted but not listed in help. */
        Arg hidden() {
            if (option != null) {
                option.hidden(true);
            } else {
                positional.hidden(true);
            }
            return this;
        }
    }

    /**
     * A help subcommand ({@code help [COMMAND]}), as picocli's annotated {@code HelpCommand} is:
     * the same options, texts and behaviour.
     */
    static CommandLine helpCommand() {
        HelpCommand help = new HelpCommand();
        CommandModel m = of("help", help).describe("%nWhen no COMMAND is given, the usage help for the main command"
                + " is displayed.", "If a COMMAND is specified, the help for that command is shown.%n");
        m.flag("-h, --help", v -> { }, "Show usage help for the help command and exit.").usageHelp();
        m.add(new Arg(null, PositionalParamSpec.builder().paramLabel("COMMAND").type(String.class).arity("0..1")
                .description("The COMMAND to display the usage help message for.")), v -> help.command = (String) v, null);
        CommandSpec spec = m.spec().helpCommand(true);
        spec.usageMessage().header("Display help information about the specified command.").synopsisHeading("%nUsage: ");
        return new CommandLine(spec);
    }

    /** What {@link #helpCommand} runs: the usage of its parent command, or of the command named. */
    private static final class HelpCommand implements IHelpCommandInitializable2, Callable<Integer> {
        private String command;
        private CommandLine self;
        private PrintWriter out;
        private Help.ColorScheme colors;

        @Override
        public void init(CommandLine helpCommandLine, Help.ColorScheme colorScheme, PrintWriter outWriter,
                PrintWriter errWriter) {
            self = helpCommandLine;
            colors = colorScheme;
            out = outWriter;
        }

        @Override
        public Integer call() {
            CommandLine parent = self.getParent();
            CommandLine shown = command == null ? parent : parent.getSubcommands().get(command);
            if (shown == null) {
                throw new ParameterException(parent, "Unknown subcommand '" + command + "'.", null, command);
            }
            shown.usage(out, colors);
            return shown.getCommandSpec().exitCodeOnUsageHelp();
        }
    }

    /**
     * Where picocli keeps a value: here (it reads back a list to add to) and in the command's field.
     * picocli resets every value to its initial one before each parse (a reused command line).
     */
    private static final class Binding implements IGetter, ISetter {
        private final Consumer<Object> sink;
        private Object value;

        @SuppressWarnings("unchecked")
        Binding(Consumer<?> sink) {
            this.sink = (Consumer<Object>) sink;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T get() {
            return (T) value;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T set(T v) {
            T old = (T) value;
            value = v;
            sink.accept(v);
            return old;
        }
    }
}
