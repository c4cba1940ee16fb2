package dev.hull.cli.format;

import java.math.BigDecimal;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Go's view of the Java values a template handles: how they print (fmt's %v), their truth and type names. */
final class Values {
    /** An invalid reflect.Value: a missing map key; prints "<no value>". */
    static final Object MISSING = new Object() {
        @Override
        public String toString() {
            return "<no value>";
        }
    };

    private Values() {
    }

    /** fmt.Sprint of one value. */
    static String print(Object v) {
        if (v == MISSING) {
            return "<no value>";
        }
        if (v == null) {
            return "<nil>";
        }
        if (v instanceof Double d) {
            return formatFloat(d);
        }
        if (v instanceof Float f) {
            return formatFloat(f.doubleValue());
        }
        if (v instanceof Collection<?> c) {
            StringBuilder sb = new StringBuilder("[");
            for (Object e : c) {
                if (sb.length() > 1) {
                    sb.append(' ');
                }
                sb.append(print(e));
            }
            return sb.append(']').toString();
        }
        if (v instanceof Map<?, ?> m) {
            StringBuilder sb = new StringBuilder("map[");
            boolean first = true;
            for (var e : sorted(m).entrySet()) {
                if (!first) {
                    sb.append(' ');
                }
                first = false;
                sb.append(print(e.getKey())).append(':').append(print(e.getValue()));
            }
            return sb.append(']').toString();
        }
        if (v instanceof GoStruct s) {
            StringBuilder sb = new StringBuilder("{");
            for (String name : s.fieldNames()) {
                if (sb.length() > 1) {
                    sb.append(' ');
                }
                sb.append(print(s.fields().get(name)));
            }
            return sb.append('}').toString();
        }
        return v.toString();
    }

    /** A map in Go's printing order: sorted keys. */
    static Map<String, Object> sorted(Map<?, ?> m) {
        Map<String, Object> s = new TreeMap<>();
        m.forEach((k, v) -> s.put(String.valueOf(k), v));
        return s;
    }

    /** strconv.FormatFloat(d, 'g', -1, 64), as fmt's %v prints a float64. */
    static String formatFloat(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "+Inf" : "-Inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0" : "0";
        }
        BigDecimal b = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = b.unscaledValue().toString();
        int exp = digits.length() - b.scale() - 1;
        String sign = d < 0 ? "-" : "";
        if (exp < -4 || exp >= 6) { // strconv's shortest %g decides at precision 6
            String mant = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return sign + mant + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
        }
        return sign + b.toPlainString();
    }

    /** text/template's truth: false, 0, nil, empty string, slice or map are false. */
    static boolean truth(Object v) {
        if (v == null || v == MISSING) {
            return false;
        }
        return switch (v) {
            case Boolean b -> b;
            case String s -> !s.isEmpty();
            case Number n -> n.doubleValue() != 0;
            case Collection<?> c -> !c.isEmpty();
            case Map<?, ?> m -> !m.isEmpty();
            default -> true;
        };
    }

    /** Go's name of a value's type, for errors. */
    static String typeName(Object v) {
        if (v == null || v == MISSING) {
            return "interface {}";
        }
        return switch (v) {
            case String s -> "string";
            case Boolean b -> "bool";
            case Double d -> "float64";
            case Float f -> "float64";
            case Number n -> "int";
            case List<?> l -> "[]interface {}";
            case Collection<?> c -> "[]interface {}";
            case Map<?, ?> m -> "map[string]interface {}";
            case GoStruct s -> s.typeName();
            default -> v.getClass().getSimpleName();
        };
    }

    static boolean isInteger(Object v) {
        return v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte
                || v instanceof java.math.BigInteger;
    }
}
