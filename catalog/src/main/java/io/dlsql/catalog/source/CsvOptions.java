package io.dlsql.catalog.source;

import io.dlsql.catalog.UserException;

/**
 * How to read a CSV file: whether the first record names the columns, the field delimiter and the
 * quote character (a quote inside a quoted field is doubled, as in RFC 4180).
 */
public record CsvOptions(boolean header, char delimiter, char quote) {
  /** Header row, comma-separated, double quotes. */
  public static final CsvOptions DEFAULT = new CsvOptions(true, ',', '"');

  public CsvOptions {
    if (delimiter == quote
        || delimiter == '\n'
        || delimiter == '\r'
        || quote == '\n'
        || quote == '\r') {
      throw new UserException("CSV delimiter and quote must differ and must not be line breaks");
    }
  }

  /** These options with another header setting. */
  public CsvOptions withHeader(boolean h) {
    return new CsvOptions(h, delimiter, quote);
  }

  /** These options with another delimiter. */
  public CsvOptions withDelimiter(char d) {
    return new CsvOptions(header, d, quote);
  }
}
