package dev.hull.cli.format;

import java.util.Collection;
import java.util.Map;

/** eq, ne, lt, le, gt and ge over Go's basic kinds, with Go's errors for the rest. */
final class Compare {
    private Compare() {
    }

    private enum Kind { BOOL, INT, FLOAT, STRING, NIL, OTHER }

    private static Kind kind(Object v) {
        if (v == null || v == Values.MISSING) {
            return Kind.NIL;
        }
        if (v instanceof Boolean) {
            return Kind.BOOL;
        }
        if (Values.isInteger(v)) {
            return Kind.INT;
        }
        if (v instanceof Number) {
            return Kind.FLOAT;
        }
        if (v instanceof String) {
            return Kind.STRING;
        }
        return Kind.OTHER;
    }

    static boolean equal(Object a, Object b) throws Functions.CallError {
        Kind ka = kind(a);
        Kind kb = kind(b);
        if (ka == Kind.OTHER || kb == Kind.OTHER) {
            if (a instanceof Collection<?> || a instanceof Map<?, ?> || b instanceof Collection<?>
                    || b instanceof Map<?, ?>) {
                throw new Functions.CallError("non-comparable type " + Values.typeName(ka == Kind.OTHER ? a : b));
            }
            return a == b;
        }
        if (ka == Kind.NIL || kb == Kind.NIL) {
            return ka == kb;
        }
        if (ka != kb) {
            throw new Functions.CallError("incompatible types for comparison");
        }
        return switch (ka) {
            case INT -> ((Number) a).longValue() == ((Number) b).longValue();
            case FLOAT -> ((Number) a).doubleValue() == ((Number) b).doubleValue();
            default -> a.equals(b);
        };
    }

    static int order(Object a, Object b) throws Functions.CallError {
        Kind ka = kind(a);
        Kind kb = kind(b);
        if (ka == Kind.BOOL || ka == Kind.NIL || ka == Kind.OTHER || kb == Kind.BOOL || kb == Kind.NIL
                || kb == Kind.OTHER) {
            throw new Functions.CallError("invalid type for comparison");
        }
        if (ka != kb) {
            throw new Functions.CallError("incompatible types for comparison");
        }
        return switch (ka) {
            case INT -> Long.compare(((Number) a).longValue(), ((Number) b).longValue());
            case FLOAT -> Double.compare(((Number) a).doubleValue(), ((Number) b).doubleValue());
            default -> ((String) a).compareTo((String) b);
        };
    }
}
