package dev.conveyor.streams.decode;

/** A member could not be decoded; the message is the dead-letter reason. */
public final class DecodeException extends Exception {
  private static final long serialVersionUID = 1L;

  public DecodeException(String message) {
    super(message);
  }

  public DecodeException(String message, Throwable cause) {
    super(message, cause);
  }

  /** The first line of a library exception's message, for a one-line reason. */
  static String firstLine(Exception e) {
    String m = e.getMessage();
    if (m == null) {
      return e.getClass().getSimpleName();
    }
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
