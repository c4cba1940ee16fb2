package dev.hull.cli.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The functions a docker template can call: Go's builtins and docker's own (json, join, split, title...). */
final class Functions {
    /** A function's failure, reported as "error calling NAME: message". */
    static final class CallError extends Exception {
        CallError(String message) {
            super(message);
        }
    }

    static final Set<String> NAMES = Set.of("and", "or", "not", "len", "index", "slice", "print", "printf", "println",
            "eq", "ne", "lt", "le", "gt", "ge", "html", "js", "urlquery", "json", "split", "join", "title", "lower",
            "upper", "pad", "truncate");

    /** docker's own functions (the rest are Go's). */
    static final Set<String> DOCKER = Set.of("json", "split", "join", "title", "lower", "upper", "pad", "truncate");

    private static final ObjectMapper JSON = new ObjectMapper();

    private Functions() {
    }

    static Object call(String name, List<Object> a) throws CallError {
        return switch (name) {
            case "not" -> !Values.truth(one(name, a, 1).get(0));
            case "len" -> len(one(name, a, 1).get(0));
            case "index" -> index(a);
            case "slice" -> slice(a);
            case "print" -> sprint(a);
            case "println" -> String.join(" ", a.stream().map(Values::print).toList()) + "\n";
            case "printf" -> {
                if (a.isEmpty() || !(a.get(0) instanceof String f)) {
                    throw new CallError("wrong number of args for printf: want at least 1 got " + a.size());
                }
                yield GoFmt.sprintf(f, a.subList(1, a.size()));
            }
            case "eq" -> eq(a);
            case "ne" -> !Compare.equal(one(name, a, 2).get(0), a.get(1));
            case "lt" -> Compare.order(one(name, a, 2).get(0), a.get(1)) < 0;
            case "le" -> Compare.order(one(name, a, 2).get(0), a.get(1)) <= 0;
            case "gt" -> Compare.order(one(name, a, 2).get(0), a.get(1)) > 0;
            case "ge" -> Compare.order(one(name, a, 2).get(0), a.get(1)) >= 0;
            case "html" -> sprint(a).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                    .replace("\"", "&#34;").replace("'", "&#39;").replace("\0", "\uFFFD");
            case "js" -> sprint(a).replace("\\", "\\\\").replace("'", "\\'").replace("\"", "\\\"")
                    .replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026").replace("=", "\\u003D");
            case "urlquery" -> java.net.URLEncoder.encode(sprint(a), StandardCharsets.UTF_8);
            case "json" -> json(one(name, a, 1).get(0));
            case "split" -> Arrays.asList(split(string(one(name, a, 2).get(0)), string(a.get(1))));
            case "join" -> join(one(name, a, 2).get(0), string(a.get(1)));
            case "title" -> title(string(one(name, a, 1).get(0)));
            case "lower" -> string(one(name, a, 1).get(0)).toLowerCase(Locale.ROOT);
            case "upper" -> string(one(name, a, 1).get(0)).toUpperCase(Locale.ROOT);
            case "pad" -> {
                String s = string(one(name, a, 3).get(0));
                yield s.isEmpty() ? s : " ".repeat(integer(a.get(1))) + s + " ".repeat(integer(a.get(2)));
            }
            case "truncate" -> {
                String s = string(one(name, a, 2).get(0));
                int n = integer(a.get(1));
                yield s.length() < n ? s : s.substring(0, n);
            }
            default -> throw new CallError("function " + name + " not defined");
        };
    }

    private static List<Object> one(String name, List<Object> a, int want) throws CallError {
        if (a.size() != want) {
            throw new CallError("wrong number of args for " + name + ": want " + want + " got " + a.size());
        }
        return a;
    }

    static String string(Object v) throws CallError {
        if (v instanceof String s) {
            return s;
        }
        throw new CallError("wrong type for value; expected string; got " + Values.typeName(v));
    }

    static int integer(Object v) throws CallError {
        if (Values.isInteger(v)) {
            return ((Number) v).intValue();
        }
        throw new CallError("wrong type for value; expected int; got " + Values.typeName(v));
    }

    /** fmt.Sprint: a space between operands when neither is a string. */
    static String sprint(List<Object> a) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < a.size(); i++) {
            if (i > 0 && !(a.get(i) instanceof String) && !(a.get(i - 1) instanceof String)) {
                sb.append(' ');
            }
            sb.append(Values.print(a.get(i)));
        }
        return sb.toString();
    }

    private static Object len(Object v) throws CallError {
        return switch (v) {
            case String s -> s.getBytes(StandardCharsets.UTF_8).length;
            case Collection<?> c -> c.size();
            case Map<?, ?> m -> m.size();
            case null -> throw new CallError("len of nil pointer");
            default -> throw new CallError("len of type " + Values.typeName(v));
        };
    }

    private static Object index(List<Object> a) throws CallError {
        if (a.isEmpty()) {
            throw new CallError("wrong number of args for index: want at least 1 got 0");
        }
        Object item = a.get(0);
        for (Object idx : a.subList(1, a.size())) {
            if (item == null || item == Values.MISSING) {
                throw new CallError("index of untyped nil");
            }
            switch (item) {
                case List<?> l -> {
                    int i = position(idx, l.size());
                    if (i >= l.size()) {
                        throw new CallError("index out of range: " + i);
                    }
                    item = l.get(i);
                }
                case String s -> {
                    int i = position(idx, s.length());
                    if (i >= s.length()) {
                        throw new CallError("index out of range: " + i);
                    }
                    item = (long) s.getBytes(StandardCharsets.UTF_8)[i];
                }
                case Map<?, ?> m -> {
                    if (!(idx instanceof String key)) {
                        throw new CallError("value has type " + Values.typeName(idx) + "; should be string");
                    }
                    // a missing key gives the map's zero value: "" for string maps such as labels
                    item = m.containsKey(key) ? m.get(key)
                            : m.values().stream().allMatch(x -> x instanceof String) ? "" : Values.MISSING;
                }
                case GoStruct s -> throw new CallError("can't index item of type " + s.typeName());
                default -> throw new CallError("can't index item of type " + Values.typeName(item));
            }
        }
        return item;
    }

    private static int position(Object idx, int cap) throws CallError {
        if (!Values.isInteger(idx)) {
            throw new CallError("cannot index slice/array with type " + Values.typeName(idx));
        }
        long i = ((Number) idx).longValue();
        if (i < 0 || i > Integer.MAX_VALUE) {
            throw new CallError("index out of range: " + i);
        }
        return (int) i;
    }

    private static Object slice(List<Object> a) throws CallError {
        if (a.isEmpty() || a.size() > 3) {
            throw new CallError("wrong number of args for slice: want 1 to 3 got " + a.size());
        }
        Object item = a.get(0);
        int len = item instanceof String s ? s.length() : item instanceof List<?> l ? l.size() : -1;
        if (len < 0) {
            throw new CallError("can't slice item of type " + Values.typeName(item));
        }
        int from = a.size() > 1 ? position(a.get(1), len) : 0;
        int to = a.size() > 2 ? position(a.get(2), len) : len;
        if (from > to || to > len) {
            throw new CallError("index out of range: " + (from > to ? from : to));
        }
        return item instanceof String s ? s.substring(from, to) : new ArrayList<>(((List<?>) item).subList(from, to));
    }

    private static boolean eq(List<Object> a) throws CallError {
        if (a.size() < 2) {
            throw new CallError("missing argument for comparison");
        }
        for (Object other : a.subList(1, a.size())) {
            if (Compare.equal(a.get(0), other)) {
                return true;
            }
        }
        return false;
    }

    private static String[] split(String s, String sep) {
        if (sep.isEmpty()) {
            return s.codePoints().mapToObj(Character::toString).toArray(String[]::new);
        }
        return s.split(java.util.regex.Pattern.quote(sep), -1);
    }

    private static String join(Object list, String sep) throws CallError {
        if (!(list instanceof Collection<?> c)) {
            throw new CallError("wrong type for value; expected []string; got " + Values.typeName(list));
        }
        List<String> parts = new ArrayList<>();
        for (Object o : c) {
            parts.add(Values.print(o));
        }
        return String.join(sep, parts);
    }

    /** strings.Title: the first letter of every word in upper case. */
    private static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean start = true;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(start ? Character.toTitleCase(c) : c);
            start = !(Character.isLetterOrDigit(c) || c == '_' || c == '\'');
        }
        return sb.toString();
    }

    /** docker's json: encoding/json without HTML escaping, no trailing newline. */
    static String json(Object v) throws CallError {
        try {
            return JSON.writeValueAsString(plain(v));
        } catch (JsonProcessingException e) {
            throw new CallError(e.getOriginalMessage());
        }
    }

    private static Object plain(Object v) {
        if (v == Values.MISSING) {
            return null;
        }
        if (v instanceof GoStruct s) {
            return plain(s.fields());
        }
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(String.valueOf(k), plain(x)));
            return out;
        }
        if (v instanceof Collection<?> c) {
            return c.stream().map(Functions::plain).toList();
        }
        return v;
    }
}
