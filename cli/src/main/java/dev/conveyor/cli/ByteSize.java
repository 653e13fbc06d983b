package dev.conveyor.cli;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import picocli.CommandLine;

/**
 * A size on the command line — {@code 64MB}, {@code 1GiB}, {@code 512kB}, {@code 4096} — read
 * as HOCON reads sizes (and {@code KB} as {@code kB}). Options take it with {@code converter =
 * ByteSize.class}, so a value that is none names its own option: {@code Invalid value for
 * option '--max-member-size': a size like 64MB or 1GiB, got "12XB"}.
 */
final class ByteSize implements CommandLine.ITypeConverter<Long> {
  @Override
  public Long convert(String value) {
    String v = value.trim().replaceAll("KB$", "kB");
    if (v.isEmpty() || v.indexOf('"') >= 0 || v.indexOf('\\') >= 0) {
      throw notASize(value);
    }
    try {
      return ConfigFactory.parseString("s = \"" + v + "\"").getBytes("s");
    } catch (ConfigException e) {
      throw notASize(value);
    }
  }

  private static CommandLine.TypeConversionException notASize(String value) {
    return new CommandLine.TypeConversionException("a size like 64MB or 1GiB, got \"" + value + "\"");
  }
}
