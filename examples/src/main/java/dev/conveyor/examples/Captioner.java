package dev.conveyor.examples;

import dev.conveyor.streams.decode.SampleMap;
import dev.conveyor.streams.sample.Decoded;
import dev.conveyor.streams.sample.RawSample;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A stand-in for a captioning model, as an actor-pool stage holds one: its constructor "loads
 * the model" — builds a 4,096-word vocabulary and a colour-to-word table, about 100 ms of work,
 * paid once per actor — and {@link #apply} writes a caption from the picture's or the clip's
 * frames' content: the colour words of a 4 x 4 grid of cells (their mean colour looked up in the
 * table) and of the frames' brightness trend, plus one word drawn from the sample's random stream
 * (a sampling temperature's worth of variety, the same on every run). The caption goes on as text
 * ({@code caption}) and as tokens (the words' numbers, {@code caption_tokens}) that a batch
 * carries. Deterministic: the same frames give the same caption on every node.
 */
public final class Captioner implements SampleMap {
  /** Words in the vocabulary. */
  static final int VOCABULARY = 4096;

  private final String[] words = new String[VOCABULARY];
  /** For each 4-bit-per-channel colour, the word that names it. */
  private final int[] colourWord = new int[1 << 12];

  public Captioner() {
    // the "model load": a vocabulary of made-up words from a seeded generator, and a table of
    // colour cells scored against every word (deliberately heavy, as loading weights is)
    SplittableRandom r = new SplittableRandom(0x5eed);
    StringBuilder w = new StringBuilder();
    for (int i = 0; i < VOCABULARY; i++) {
      w.setLength(0);
      int len = 3 + r.nextInt(6);
      for (int c = 0; c < len; c++) {
        w.append((char) ('a' + r.nextInt(26)));
      }
      words[i] = w.toString();
    }
    int[] wordHue = new int[VOCABULARY];
    for (int i = 0; i < VOCABULARY; i++) {
      wordHue[i] = words[i].hashCode() & 0xfff;
    }
    for (int c = 0; c < colourWord.length; c++) {
      int best = 0;
      int bestDistance = Integer.MAX_VALUE;
      for (int i = 0; i < VOCABULARY; i++) {
        int d = distance(c, wordHue[i]);
        if (d < bestDistance) {
          bestDistance = d;
          best = i;
        }
      }
      colourWord[c] = best;
    }
  }

  private static int distance(int a, int b) {
    int dr = (a >> 8) - (b >> 8);
    int dg = ((a >> 4) & 15) - ((b >> 4) & 15);
    int db = (a & 15) - (b & 15);
    return dr * dr + dg * dg + db * db;
  }

  @Override
  public RawSample apply(RawSample s, SplittableRandom random) {
    Decoded d = s.decoded().orElseThrow();
    List<Integer> tokens = new ArrayList<>();
    if (d.image().isPresent()) {
      Decoded.Picture p = d.image().get();
      cells(p.rgb(), 0, p.height(), p.width(), tokens);
    } else if (d.video().isPresent()) {
      Decoded.Clip c = d.video().get();
      int frame = c.height() * c.width() * 3;
      cells(c.rgb(), 0, c.height(), c.width(), tokens);                           // the first frame
      cells(c.rgb(), (c.frames() - 1) * frame, c.height(), c.width(), tokens);    // and the last
      tokens.add(brightness(c.rgb(), (c.frames() - 1) * frame, frame) > brightness(c.rgb(), 0, frame) ? 1 : 2);
    }
    tokens.add(3 + random.nextInt(VOCABULARY - 3));
    StringBuilder caption = new StringBuilder();
    int[] ids = new int[tokens.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = tokens.get(i);
      caption.append(i == 0 ? "" : " ").append(words[ids[i]]);
    }
    java.util.Map<String, String> text = new java.util.HashMap<>(d.text());
    text.put("caption", caption.toString());
    return s.withDecoded(new Decoded(d.image(), d.video(), text, d.tokens()).withTokens("caption_tokens", ids));
  }

  /** The word of each cell of a 4 x 4 grid over one frame at {@code offset}. */
  private void cells(byte[] rgb, int offset, int height, int width, List<Integer> tokens) {
    for (int cy = 0; cy < 4; cy++) {
      for (int cx = 0; cx < 4; cx++) {
        long r = 0;
        long g = 0;
        long b = 0;
        int n = 0;
        for (int y = cy * height / 4; y < (cy + 1) * height / 4; y++) {
          int at = offset + (y * width + cx * width / 4) * 3;
          for (int x = cx * width / 4; x < (cx + 1) * width / 4; x++, at += 3) {
            r += rgb[at] & 0xff;
            g += rgb[at + 1] & 0xff;
            b += rgb[at + 2] & 0xff;
            n++;
          }
        }
        n = Math.max(1, n);
        tokens.add(colourWord[(int) ((r / n) >> 4) << 8 | (int) ((g / n) >> 4) << 4 | (int) ((b / n) >> 4)]);
      }
    }
  }

  private static long brightness(byte[] rgb, int offset, int length) {
    long sum = 0;
    for (int i = offset; i < offset + length; i += 97) {
      sum += rgb[i] & 0xff;
    }
    return sum;
  }
}
