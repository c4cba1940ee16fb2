package dev.hull.cli;

/** Picocli command objects made from their classes, for the command lines that add commands in code. */
final class CommandObjects {
    private CommandObjects() {}

    /** A new c, through its no-argument constructor (private or not). */
    static Object of(Class<?> c) {
        try {
            var ctor = c.getDeclaredConstructor();
            ctor.setAccessible(true);
            return ctor.newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot make command " + c.getName(), e);
        }
    }
}
