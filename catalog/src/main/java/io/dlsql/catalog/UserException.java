package io.dlsql.catalog;

/**
 * A mistake in what the user asked for (unknown name, bad option, unreadable file, shape mismatch,
 * divergence): the statement ends with this message and changes nothing. Internal invariants use
 * {@link IllegalStateException} instead.
 */
public class UserException extends RuntimeException {
  public UserException(String message) {
    super(message);
  }

  public UserException(String message, Throwable cause) {
    super(message, cause);
  }
}
