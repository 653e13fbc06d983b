package dev.conveyor.streams.tar;

/** The bytes are not a well-formed tar archive (corrupt header, truncation, not a tar at all). */
public final class TarFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public TarFormatException(String message) {
    super(message);
  }
}
