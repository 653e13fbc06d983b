package dev.conveyor.streams.cursor;

/**
 * A cursor token that cannot be read: not a token, from another version, altered (its checksum
 * does not match) or malformed inside. The message says which; it repeats at most the token's
 * first 40 characters, and no control character.
 */
public final class CursorException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  CursorException(String message) {
    super(message);
  }
}
