package dev.conveyor.tools.datagen;

import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.SplittableRandom;

/**
 * A random picture that can move: a two-colour gradient, a few coloured shapes that drift
 * with time, and per-pixel noise so that codecs cannot compress it to nothing. Drawn without
 * anti-aliasing, so the pixels depend only on the seed and the time.
 */
final class Scene {
  static final String[] COLOUR_NAMES = {"red", "green", "blue", "yellow", "purple", "orange", "white", "black"};
  private static final Color[] COLOURS = {Color.RED, Color.GREEN, Color.BLUE, Color.YELLOW,
      new Color(128, 0, 160), Color.ORANGE, Color.WHITE, Color.BLACK};
  private static final String[] SHAPE_NAMES = {"circle", "square", "bar"};

  final int width;
  final int height;
  private final long noiseSeed;
  private final Color from;
  private final Color to;
  private final int[] shape;
  private final int[] colour;
  private final double[] x;
  private final double[] y;
  private final double[] dx;
  private final double[] dy;
  private final int[] size;

  Scene(SplittableRandom rnd, int width, int height) {
    this.width = width;
    this.height = height;
    this.noiseSeed = rnd.nextLong();
    this.from = new Color(rnd.nextInt(256), rnd.nextInt(256), rnd.nextInt(256));
    this.to = new Color(rnd.nextInt(256), rnd.nextInt(256), rnd.nextInt(256));
    int n = 1 + rnd.nextInt(4);
    shape = new int[n];
    colour = new int[n];
    x = new double[n];
    y = new double[n];
    dx = new double[n];
    dy = new double[n];
    size = new int[n];
    for (int i = 0; i < n; i++) {
      shape[i] = rnd.nextInt(SHAPE_NAMES.length);
      colour[i] = rnd.nextInt(COLOURS.length);
      x[i] = rnd.nextInt(width);
      y[i] = rnd.nextInt(height);
      dx[i] = rnd.nextDouble(-3, 3);
      dy[i] = rnd.nextDouble(-3, 3);
      size[i] = 8 + rnd.nextInt(Math.max(1, Math.min(width, height) / 3));
    }
  }

  /** The label: the colour of the first shape. */
  int label() {
    return colour[0];
  }

  String caption() {
    StringBuilder b = new StringBuilder("a ");
    for (int i = 0; i < shape.length; i++) {
      if (i > 0) {
        b.append(i == shape.length - 1 ? " and a " : ", a ");
      }
      b.append(COLOUR_NAMES[colour[i]]).append(' ').append(SHAPE_NAMES[shape[i]]);
    }
    return b.append(" on a gradient").toString();
  }

  /** Frame {@code t} (0 for a still image), as 3-byte BGR. */
  BufferedImage render(int t) {
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_OFF);
    g.setPaint(new GradientPaint(0, 0, from, width, height, to));
    g.fillRect(0, 0, width, height);
    for (int i = 0; i < shape.length; i++) {
      int cx = Math.floorMod((int) (x[i] + dx[i] * t), width);
      int cy = Math.floorMod((int) (y[i] + dy[i] * t), height);
      g.setColor(COLOURS[colour[i]]);
      switch (shape[i]) {
        case 0 -> g.fillOval(cx - size[i] / 2, cy - size[i] / 2, size[i], size[i]);
        case 1 -> g.fillRect(cx - size[i] / 2, cy - size[i] / 2, size[i], size[i]);
        default -> g.fillRect(cx - size[i], cy - 3, 2 * size[i], 6);
      }
    }
    g.dispose();
    addNoise(img, t);
    return img;
  }

  private void addNoise(BufferedImage img, int t) {
    SplittableRandom noise = new SplittableRandom(noiseSeed + t);
    byte[] px = ((java.awt.image.DataBufferByte) img.getRaster().getDataBuffer()).getData();
    for (int i = 0; i < px.length; i++) {
      int v = (px[i] & 0xff) + noise.nextInt(-12, 13);
      px[i] = (byte) Math.max(0, Math.min(255, v));
    }
  }
}
