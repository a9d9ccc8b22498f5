package io.dlsql.catalog.source;

import io.dlsql.catalog.ArrowColumns;
import io.dlsql.catalog.ColumnDef;
import io.dlsql.catalog.ColumnType;
import io.dlsql.catalog.DataSource;
import io.dlsql.catalog.RowIterator;
import io.dlsql.catalog.ScalarType;
import io.dlsql.catalog.UserException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.regex.Pattern;

/**
 * Reads UTF-8 CSV files as a table function. The first pass infers each column's type from all its
 * values (BOOLEAN, INTEGER, BIGINT, DOUBLE, or else VARCHAR; an empty unquoted field is NULL);
 * {@link DataSource#rows()} then streams the file again, converting each field.
 */
public final class CsvReader {
  private static final Pattern INTEGER = Pattern.compile("[+-]?\\d+");
  private static final Pattern DECIMAL =
      Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");
  private static final char BYTE_ORDER_MARK = '\uFEFF';
  private static final String GENERATED_COLUMN_PREFIX = "c";

  private CsvReader() {}

  /**
   * Reads the file once to find its columns and their types.
   *
   * @throws UserException for a missing or unreadable file, an empty file, or a record whose field
   *     count differs from the first record's (naming the line)
   */
  public static CsvSource read(Path file, CsvOptions options) {
    List<String> names = null;
    List<TypeGuess> guesses = null;
    try (Records records = new Records(file, options)) {
      List<Field> first = records.next();
      if (first == null) {
        throw new UserException("CSV file " + file + " is empty");
      }
      names = new ArrayList<>();
      guesses = new ArrayList<>();
      for (int i = 0; i < first.size(); i++) {
        String name = options.header() ? first.get(i).text().trim() : "";
        names.add(name.isEmpty() ? GENERATED_COLUMN_PREFIX + (i + 1) : name);
        guesses.add(new TypeGuess());
      }
      if (!options.header()) {
        observe(guesses, first);
      }
      for (List<Field> r = records.next(); r != null; r = records.next()) {
        records.checkWidth(r, first.size());
        observe(guesses, r);
      }
    }
    List<ColumnDef> columns = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      columns.add(new ColumnDef(names.get(i), guesses.get(i).type(), guesses.get(i).sawNull));
    }
    return new CsvSource(
        file, options, ArrowColumns.validateColumns(file.getFileName().toString(), columns));
  }

  private static void observe(List<TypeGuess> guesses, List<Field> record) {
    for (int i = 0; i < record.size(); i++) {
      guesses.get(i).observe(record.get(i));
    }
  }

  /** One field as read: its text and whether it was quoted (quoted empty text is not NULL). */
  private record Field(String text, boolean quoted) {
    boolean isNull() {
      return !quoted && text.isEmpty();
    }
  }

  /** The narrowest type every value of a column seen so far fits. */
  private static final class TypeGuess {
    private boolean bool = true;
    private boolean integer = true;
    private boolean bigint = true;
    private boolean decimal = true;
    private boolean sawValue;
    private boolean sawNull;

    void observe(Field f) {
      if (f.isNull()) {
        sawNull = true;
        return;
      }
      sawValue = true;
      String t = f.text().trim();
      bool &= t.equalsIgnoreCase("true") || t.equalsIgnoreCase("false");
      boolean isInteger = INTEGER.matcher(t).matches();
      if (bigint && !(isInteger && fitsLong(t))) {
        bigint = false;
      }
      if (integer && !(isInteger && fitsInt(t))) {
        integer = false;
      }
      decimal &= DECIMAL.matcher(t).matches();
    }

    ColumnType type() {
      if (!sawValue) {
        return ColumnType.VARCHAR;
      }
      if (bool) {
        return ColumnType.BOOLEAN;
      }
      if (integer) {
        return ColumnType.INTEGER;
      }
      if (bigint) {
        return ColumnType.BIGINT;
      }
      return decimal ? ColumnType.DOUBLE : ColumnType.VARCHAR;
    }

    private static boolean fitsInt(String t) {
      try {
        Integer.parseInt(t);
        return true;
      } catch (NumberFormatException e) {
        return false;
      }
    }

    private static boolean fitsLong(String t) {
      try {
        Long.parseLong(t);
        return true;
      } catch (NumberFormatException e) {
        return false;
      }
    }
  }

  /** A CSV file with inferred columns, readable any number of times. */
  public static final class CsvSource implements DataSource {
    private final Path file;
    private final CsvOptions options;
    private final List<ColumnDef> columns;

    private CsvSource(Path file, CsvOptions options, List<ColumnDef> columns) {
      this.file = file;
      this.options = options;
      this.columns = columns;
    }

    /** The file this source reads. */
    public Path file() {
      return file;
    }

    @Override
    public List<ColumnDef> columns() {
      return columns;
    }

    @Override
    public RowIterator rows() {
      Records records = new Records(file, options);
      if (options.header()) {
        records.next();
      }
      return new RowIterator() {
        private List<Field> pending = records.next();

        @Override
        public boolean hasNext() {
          return pending != null;
        }

        @Override
        public Object[] next() {
          if (pending == null) {
            throw new NoSuchElementException();
          }
          records.checkWidth(pending, columns.size());
          Object[] row = new Object[columns.size()];
          for (int i = 0; i < row.length; i++) {
            row[i] = convert(pending.get(i), columns.get(i));
          }
          pending = records.next();
          return row;
        }

        @Override
        public void close() {
          records.close();
        }
      };
    }

    private Object convert(Field f, ColumnDef c) {
      if (f.isNull()) {
        return null;
      }
      String t = f.text().trim();
      // Inference saw every value, so a parse failure here means the file changed since.
      try {
        return switch (c.type()) {
          case ScalarType.BOOLEAN -> Boolean.parseBoolean(t);
          case ScalarType.INTEGER -> Integer.parseInt(t);
          case ScalarType.BIGINT -> Long.parseLong(t);
          case ScalarType.DOUBLE -> Double.parseDouble(t);
          default -> f.text();
        };
      } catch (NumberFormatException e) {
        throw new UserException(
            "CSV file "
                + file
                + " changed while being read: '"
                + t
                + "' in column '"
                + c.name()
                + "' is not "
                + c.type().sqlName());
      }
    }
  }

  /** Splits a file into records of fields, following quotes across line breaks. */
  private static final class Records implements AutoCloseable {
    private final Path file;
    private final CsvOptions options;
    private final BufferedReader in;
    private int line = 1;
    private int recordLine;
    private boolean first = true;

    Records(Path file, CsvOptions options) {
      this.file = file;
      this.options = options;
      try {
        this.in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
      } catch (NoSuchFileException e) {
        throw new UserException("CSV file " + file + " does not exist");
      } catch (IOException e) {
        throw new UserException("CSV file " + file + " cannot be read: " + e.getMessage(), e);
      }
    }

    void checkWidth(List<Field> record, int expected) {
      if (record.size() != expected) {
        throw new UserException(
            "CSV file "
                + file
                + ", line "
                + recordLine
                + ": "
                + record.size()
                + " fields, expected "
                + expected);
      }
    }

    /** The next non-blank record, or null at the end of the file. */
    List<Field> next() {
      try {
        while (true) {
          List<Field> r = readRecord(in);
          if (r == null || !(r.size() == 1 && r.get(0).isNull())) {
            return r;
          }
        }
      } catch (CharacterCodingException e) {
        throw new UserException("CSV file " + file + " near line " + line + " is not valid UTF-8");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private int read(Reader r) throws IOException {
      int c = r.read();
      if (first) {
        first = false;
        if (c == BYTE_ORDER_MARK) {
          c = r.read();
        }
      }
      return c;
    }

    private List<Field> readRecord(BufferedReader r) throws IOException {
      int c = read(r);
      if (c < 0) {
        return null;
      }
      recordLine = line;
      List<Field> fields = new ArrayList<>();
      StringBuilder text = new StringBuilder();
      boolean quoted = false;
      boolean inQuotes = false;
      while (true) {
        if (c < 0) {
          if (inQuotes) {
            throw new UserException(
                "CSV file " + file + ", line " + recordLine + ": a quoted field is never closed");
          }
          fields.add(new Field(text.toString(), quoted));
          return fields;
        }
        char ch = (char) c;
        if (inQuotes) {
          if (ch == options.quote()) {
            r.mark(1);
            int after = r.read();
            if (after == options.quote()) {
              text.append(ch);
            } else {
              inQuotes = false;
              r.reset();
            }
          } else {
            if (ch == '\n') {
              line++;
            }
            text.append(ch);
          }
        } else if (ch == options.delimiter()) {
          fields.add(new Field(text.toString(), quoted));
          text.setLength(0);
          quoted = false;
        } else if (ch == '\n' || ch == '\r') {
          if (ch == '\r') {
            r.mark(1);
            if (r.read() != '\n') {
              r.reset();
            }
          }
          line++;
          fields.add(new Field(text.toString(), quoted));
          return fields;
        } else if (ch == options.quote() && text.toString().isBlank() && !quoted) {
          inQuotes = true;
          quoted = true;
          text.setLength(0);
        } else {
          text.append(ch);
        }
        c = r.read();
      }
    }

    @Override
    public void close() {
      try {
        in.close();
      } catch (IOException e) {
        // Read-only; nothing to lose.
      }
    }
  }
}
