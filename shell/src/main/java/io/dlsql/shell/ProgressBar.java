package io.dlsql.shell;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Renders a {@link ProgressRow} as one status line that fits the terminal, e.g.
 * {@code train convnet  epoch 2/5 [######........] 120/422  loss 0.4123  1234 img/s  ETA 0:42}.
 * Parts the server does not know are left out; the bar takes the width that is left.
 */
final class ProgressBar {
  static final int MIN_BAR_WIDTH = 10;
  static final int MAX_BAR_WIDTH = 30;
  private static final char DONE = '#';
  private static final char TODO = '.';
  private static final String SEPARATOR = "  ";
  /** The bar's two brackets and the space before its {@code batch/batches} count. */
  private static final int BAR_DECORATION = 3;
  private static final int SECONDS_PER_MINUTE = 60;
  private static final int SECONDS_PER_HOUR = 3600;

  private ProgressBar() {}

  /** The status line for {@code row}, at most {@code width - 1} characters (no wrap). */
  static String render(ProgressRow row, int width) {
    List<String> head = new ArrayList<>();
    addIfKnown(head, row.phase());
    addIfKnown(head, row.model());
    if (row.epoch() != ProgressRow.UNKNOWN && row.epochs() > 0) {
      head.add("epoch " + row.epoch() + "/" + row.epochs());
    }
    List<String> tail = new ArrayList<>();
    if (!Double.isNaN(row.loss())) {
      tail.add(String.format(Locale.ROOT, "loss %.4f", row.loss()));
    }
    if (!Double.isNaN(row.imagesPerSecond())) {
      tail.add(String.format(Locale.ROOT, "%.0f img/s", row.imagesPerSecond()));
    }
    if (!Double.isNaN(row.etaSeconds()) && row.etaSeconds() >= 0) {
      tail.add("ETA " + duration(row.etaSeconds()));
    }
    String headText = String.join(" ", head);
    String tailText = String.join(SEPARATOR, tail);
    String bar = "";
    if (row.batch() != ProgressRow.UNKNOWN && row.batches() > 0) {
      String count = row.batch() + "/" + row.batches();
      int fixed = headText.length() + tailText.length() + count.length() + 2 * SEPARATOR.length() + BAR_DECORATION;
      int barWidth = Math.min(MAX_BAR_WIDTH, width - 1 - fixed);
      bar = barWidth >= MIN_BAR_WIDTH ? bar(row.batch(), row.batches(), barWidth) + " " + count : count;
    }
    List<String> parts = new ArrayList<>();
    for (String part : List.of(headText, bar, tailText)) {
      if (!part.isEmpty()) {
        parts.add(part);
      }
    }
    String line = String.join(SEPARATOR, parts);
    return line.length() < width ? line : line.substring(0, Math.max(0, width - 1));
  }

  /** {@code [####......]}: {@code width} cells between the brackets, filled by done/total. */
  static String bar(int done, int total, int width) {
    int filled = (int) Math.min(width, Math.max(0, (long) done * width / total));
    return "[" + String.valueOf(DONE).repeat(filled) + String.valueOf(TODO).repeat(width - filled) + "]";
  }

  /** {@code m:ss} or {@code h:mm:ss}. */
  static String duration(double seconds) {
    long total = Math.round(seconds);
    long hours = total / SECONDS_PER_HOUR;
    long minutes = total % SECONDS_PER_HOUR / SECONDS_PER_MINUTE;
    long secs = total % SECONDS_PER_MINUTE;
    return hours > 0
        ? String.format(Locale.ROOT, "%d:%02d:%02d", hours, minutes, secs)
        : String.format(Locale.ROOT, "%d:%02d", minutes, secs);
  }

  private static void addIfKnown(List<String> parts, String value) {
    if (value != null && !value.isBlank()) {
      parts.add(value);
    }
  }
}
