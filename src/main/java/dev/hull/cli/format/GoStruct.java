package dev.hull.cli.format;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What a template sees of one row: named fields (computed when asked for, like docker's formatter methods) and
 * methods with arguments ({@code .Label "k"}), under a Go type name for errors.
 */
public final class GoStruct {
    private final String typeName;
    private final Map<String, Supplier<Object>> fields = new LinkedHashMap<>();
    private final Map<String, Function<List<Object>, Object>> methods = new LinkedHashMap<>();
    private final Map<String, Integer> arity = new LinkedHashMap<>();

    public GoStruct(String typeName) {
        this.typeName = typeName;
    }

    public GoStruct field(String name, Supplier<Object> value) {
        fields.put(name, value);
        return this;
    }

    public GoStruct value(String name, Object value) {
        return field(name, () -> value);
    }

    /** A method taking argCount arguments, e.g. Label(name). */
    public GoStruct method(String name, int argCount, Function<List<Object>, Object> body) {
        methods.put(name, body);
        arity.put(name, argCount);
        return this;
    }

    public String typeName() {
        return typeName;
    }

    boolean has(String name) {
        return fields.containsKey(name) || methods.containsKey(name);
    }

    /** The field's value, or the method's result for args; an error text for a wrong call. */
    Object get(String name, List<Object> args) throws Functions.CallError {
        Supplier<Object> f = fields.get(name);
        if (f != null) {
            if (!args.isEmpty()) {
                throw new Functions.CallError("wrong number of args for " + name + ": want 0 got " + args.size());
            }
            return f.get();
        }
        int want = arity.get(name);
        if (args.size() != want) {
            throw new Functions.CallError("wrong number of args for " + name + ": want " + want + " got " + args.size());
        }
        return methods.get(name).apply(args);
    }

    /** The fields by name in sorted order, as docker's formatter contexts marshal themselves for {{json .}}. */
    public Map<String, Object> fields() {
        Map<String, Object> m = new TreeMap<>();
        fields.forEach((k, v) -> m.put(k, v.get()));
        return m;
    }

    /** The field names in the order they were added. */
    public List<String> fieldNames() {
        return List.copyOf(fields.keySet());
    }
}
