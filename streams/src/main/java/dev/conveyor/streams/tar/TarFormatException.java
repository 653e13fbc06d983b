package dev.conveyor.streams.tar;

import java.util.Optional;

/** The bytes are not a well-formed tar archive (corrupt header, truncation, not a tar at all). */
public final class TarFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String member;

  public TarFormatException(String message) {
    this(message, null);
  }

  /** A failure inside the member at {@code member}'s path. */
  public TarFormatException(String message, String member) {
    super(message);
    this.member = member;
  }

  /** The path of the member the archive broke in, when it broke inside one. */
  public Optional<String> member() {
    return Optional.ofNullable(member);
  }
}
