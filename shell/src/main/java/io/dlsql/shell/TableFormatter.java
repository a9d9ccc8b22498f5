package io.dlsql.shell;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * Draws a {@link ResultTable} as an aligned text table with a header and a footer line that
 * counts rows and, when timing is on, shows the elapsed time. Long cells are clipped and line
 * breaks inside cells are shown escaped, so every row stays one line.
 */
final class TableFormatter {
  /** Widest cell, in characters, before it is clipped. */
  static final int MAX_CELL_WIDTH = 48;

  private static final String CLIP_MARK = "...";
  private static final char BORDER_CORNER = '+';
  private static final char BORDER_LINE = '-';
  private static final char COLUMN_SEPARATOR = '|';
  private static final double NANOS_PER_SECOND = 1e9;

  private TableFormatter() {}

  /** Returns the table's lines: border, header, border, rows, border (no footer). */
  static List<String> format(ResultTable table) {
    List<ResultTable.Column> columns = table.columns();
    if (columns.isEmpty()) {
      return List.of();
    }
    List<List<String>> cells = new ArrayList<>(table.rows().size());
    for (List<String> row : table.rows()) {
      cells.add(row.stream().map(TableFormatter::fitCell).toList());
    }
    List<String> header = columns.stream().map(c -> fitCell(c.name())).toList();
    int[] widths = new int[columns.size()];
    for (int c = 0; c < widths.length; c++) {
      widths[c] = width(header.get(c));
      for (List<String> row : cells) {
        widths[c] = Math.max(widths[c], width(row.get(c)));
      }
    }
    String border = border(widths);
    List<String> lines = new ArrayList<>(cells.size() + 4);
    lines.add(border);
    lines.add(row(header, widths, columns));
    lines.add(border);
    for (List<String> row : cells) {
      lines.add(row(row, widths, columns));
    }
    lines.add(border);
    return lines;
  }

  /** The footer for a row count, e.g. {@code 3 rows (0.123 s)}; no time when it is empty. */
  static String rowsFooter(int rows, OptionalLong elapsedNanos) {
    return (rows == 1 ? "1 row" : rows + " rows") + elapsedSuffix(elapsedNanos);
  }

  /** The line for a statement without rows: {@code OK} or {@code OK (n rows affected)}. */
  static String updateFooter(OptionalLong affectedRows, OptionalLong elapsedNanos) {
    String text = "OK";
    if (affectedRows.isPresent()) {
      long count = affectedRows.getAsLong();
      text += count == 1 ? " (1 row affected)" : " (" + count + " rows affected)";
    }
    return text + elapsedSuffix(elapsedNanos);
  }

  private static String elapsedSuffix(OptionalLong elapsedNanos) {
    if (elapsedNanos.isEmpty()) {
      return "";
    }
    return String.format(Locale.ROOT, " (%.3f s)", elapsedNanos.getAsLong() / NANOS_PER_SECOND);
  }

  /** Escapes control characters and clips the cell to {@link #MAX_CELL_WIDTH}. */
  static String fitCell(String value) {
    StringBuilder text = new StringBuilder(value.length());
    value.codePoints().forEach(cp -> {
      switch (cp) {
        case '\n' -> text.append("\\n");
        case '\r' -> text.append("\\r");
        case '\t' -> text.append("\\t");
        default -> text.appendCodePoint(Character.isISOControl(cp) ? '?' : cp);
      }
    });
    String escaped = text.toString();
    if (width(escaped) <= MAX_CELL_WIDTH) {
      return escaped;
    }
    int keep = escaped.offsetByCodePoints(0, MAX_CELL_WIDTH - CLIP_MARK.length());
    return escaped.substring(0, keep) + CLIP_MARK;
  }

  private static int width(String text) {
    return text.codePointCount(0, text.length());
  }

  private static String border(int[] widths) {
    StringBuilder line = new StringBuilder().append(BORDER_CORNER);
    for (int width : widths) {
      line.append(String.valueOf(BORDER_LINE).repeat(width + 2)).append(BORDER_CORNER);
    }
    return line.toString();
  }

  private static String row(List<String> cells, int[] widths, List<ResultTable.Column> columns) {
    StringBuilder line = new StringBuilder().append(COLUMN_SEPARATOR);
    for (int c = 0; c < widths.length; c++) {
      String cell = cells.get(c);
      String padding = " ".repeat(widths[c] - width(cell));
      line.append(' ');
      if (columns.get(c).numeric()) {
        line.append(padding).append(cell);
      } else {
        line.append(cell).append(padding);
      }
      line.append(' ').append(COLUMN_SEPARATOR);
    }
    return line.toString();
  }
}
