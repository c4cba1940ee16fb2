package dev.hull.cli.format;

import java.util.ArrayList;
import java.util.List;

/**
 * Go's text/tabwriter as docker's tables use it (minwidth 10, tabwidth 1, padding 3, padded with spaces): a cell
 * ends at a tab; the cells of a column in consecutive lines take the width of the widest plus the padding; the last
 * cell of a line is not part of any column.
 */
public final class TabWriter {
    private final int minWidth;
    private final int padding;

    public TabWriter(int minWidth, int padding) {
        this.minWidth = minWidth;
        this.padding = padding;
    }

    /** docker's table writer: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0). */
    public static TabWriter docker() {
        return new TabWriter(10, 3);
    }

    public String format(String text) {
        List<List<String>> lines = new ArrayList<>();
        String[] raw = text.split("\n", -1);
        for (String l : raw) {
            List<String> cells = new ArrayList<>(List.of(l.split("\t", -1)));
            lines.add(cells);
        }
        StringBuilder out = new StringBuilder();
        block(out, lines, new ArrayList<>(), 0, lines.size());
        return out.toString();
    }

    /** Go's Writer.format: widths of the columns left of this one are known; find blocks of this column. */
    private void block(StringBuilder out, List<List<String>> lines, List<Integer> widths, int line0, int line1) {
        int column = widths.size();
        for (int i = line0; i < line1; i++) {
            if (column >= lines.get(i).size() - 1) {
                continue;
            }
            write(out, lines, widths, line0, i);
            line0 = i;
            int width = minWidth;
            for (; i < line1; i++) {
                List<String> line = lines.get(i);
                if (column >= line.size() - 1) {
                    break;
                }
                width = Math.max(width, width(line.get(column)) + padding);
            }
            widths.add(width);
            block(out, lines, widths, line0, i);
            widths.removeLast();
            line0 = i;
            i--;
        }
        write(out, lines, widths, line0, line1);
    }

    private void write(StringBuilder out, List<List<String>> lines, List<Integer> widths, int line0, int line1) {
        for (int i = line0; i < line1; i++) {
            List<String> line = lines.get(i);
            for (int j = 0; j < line.size(); j++) {
                String c = line.get(j);
                out.append(c);
                if (j < widths.size() && j < line.size() - 1) {
                    out.append(" ".repeat(widths.get(j) - width(c)));
                }
            }
            if (i + 1 < lines.size()) {
                out.append('\n');
            }
        }
    }

    private static int width(String s) {
        return s.codePointCount(0, s.length());
    }
}
