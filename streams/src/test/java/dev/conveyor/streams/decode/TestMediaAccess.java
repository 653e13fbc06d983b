package dev.conveyor.streams.decode;

/** {@link TestMedia} for tests in other packages. */
public final class TestMediaAccess {
  private TestMediaAccess() {}

  public static byte[] clip() throws Exception {
    return TestMedia.numberedClip(40, 10, 64, 48);
  }

  public static byte[] png() throws Exception {
    return TestMedia.halvesPng(80, 60);
  }

  public static byte[] audioOnly() throws Exception {
    return TestMedia.audioOnly();
  }

  public static byte[] pngDeclaring(int w, int h) {
    return TestMedia.pngDeclaring(w, h);
  }
}
