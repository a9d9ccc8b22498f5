package io.dlsql.shell;

import java.util.ArrayList;
import java.util.List;
import org.jline.reader.CompletingParsedLine;
import org.jline.reader.EOFError;
import org.jline.reader.ParsedLine;
import org.jline.reader.Parser;

/**
 * Tells JLine when the buffer holds complete statements (every statement ended by {@code ;},
 * no open string or comment) and splits it into words for completion. An incomplete buffer
 * makes Enter continue on a new line with the secondary prompt.
 */
final class SqlLineParser implements Parser {
  private static final String MISSING_END = ";";

  @Override
  public ParsedLine parse(String line, int cursor, ParseContext context) {
    if (context == ParseContext.ACCEPT_LINE && !isComplete(line)) {
      throw new EOFError(-1, -1, "statement not ended by ;", MISSING_END);
    }
    return words(line, cursor);
  }

  /** True when running the buffer now would leave nothing pending. */
  static boolean isComplete(String buffer) {
    StatementSplitter splitter = new StatementSplitter();
    for (String line : buffer.split("\r?\n", -1)) {
      splitter.feedLine(line);
    }
    return splitter.isComplete();
  }

  /**
   * Splits the buffer into words: identifier chains ({@code a.b}), quoted identifiers and
   * backslash commands; string literals and comments are no words. The word under the cursor
   * is empty when the cursor stands between words, and no completion happens inside a string
   * literal or comment.
   */
  static SqlParsedLine words(String line, int cursor) {
    List<String> words = new ArrayList<>();
    int wordIndex = -1;
    int wordCursor = 0;
    boolean cursorInLiteral = false;
    int i = 0;
    int length = line.length();
    while (i < length) {
      char c = line.charAt(i);
      int start = i;
      int end;
      boolean literal = false;
      if (c == '\'' ) {
        end = closing(line, i, '\'');
        literal = true;
      } else if (c == '-' && line.startsWith("--", i)) {
        int newline = line.indexOf('\n', i);
        end = newline < 0 ? length : newline;
        literal = true;
      } else if (c == '/' && line.startsWith("/*", i)) {
        int close = line.indexOf("*/", i + 2);
        end = close < 0 ? length : close + 2;
        literal = true;
      } else if (isWordChar(c) || c == '\\' || c == '"') {
        end = wordEnd(line, i);
      } else {
        i++;
        continue;
      }
      if (literal) {
        if (cursor > start && (cursor < end || end == length)) {
          cursorInLiteral = true;
        }
      } else {
        if (wordIndex < 0 && cursor < start) {
          wordIndex = words.size();
          words.add("");
          wordCursor = 0;
        }
        if (wordIndex < 0 && cursor <= end) {
          wordIndex = words.size();
          wordCursor = cursor - start;
        }
        words.add(line.substring(start, end));
      }
      i = Math.max(end, start + 1);
    }
    if (wordIndex < 0) {
      wordIndex = words.size();
      words.add("");
      wordCursor = 0;
    }
    return new SqlParsedLine(line, cursor, List.copyOf(words), wordIndex, wordCursor, cursorInLiteral);
  }

  private static boolean isWordChar(char c) {
    return Identifiers.isIdentifierChar(c) || c == '.';
  }

  /** The end of a word: identifier characters, dots, and quoted parts. */
  private static int wordEnd(String line, int start) {
    int i = start;
    if (line.charAt(i) == '\\') {
      i++;
    }
    while (i < line.length()) {
      char c = line.charAt(i);
      if (c == '"') {
        i = closing(line, i, '"');
      } else if (isWordChar(c)) {
        i++;
      } else {
        break;
      }
    }
    return i;
  }

  /** The index after the quote closing the one at {@code open}; the line's end if none. */
  private static int closing(String line, int open, char quote) {
    int i = open + 1;
    while (i < line.length()) {
      if (line.charAt(i) == quote) {
        if (i + 1 < line.length() && line.charAt(i + 1) == quote) {
          i += 2;
          continue;
        }
        return i + 1;
      }
      i++;
    }
    return line.length();
  }

  /**
   * The buffer split into words. Candidates are inserted as given (names come already quoted
   * where needed), so raw word and word coincide.
   */
  record SqlParsedLine(
      String line,
      int cursor,
      List<String> words,
      int wordIndex,
      int wordCursor,
      boolean cursorInLiteral)
      implements CompletingParsedLine {
    @Override
    public String word() {
      return words.get(wordIndex);
    }

    @Override
    public CharSequence escape(CharSequence candidate, boolean complete) {
      return candidate;
    }

    @Override
    public int rawWordCursor() {
      return wordCursor;
    }

    @Override
    public int rawWordLength() {
      return word().length();
    }
  }
}
