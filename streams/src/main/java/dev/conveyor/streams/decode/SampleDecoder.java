package dev.conveyor.streams.decode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.config.DecodeSettings;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.sample.Decoded;
import dev.conveyor.streams.sample.Member;
import dev.conveyor.streams.sample.RawSample;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Decodes a sample's members by extension (the part after the last dot: {@code seg.jpg} is an
 * image): images and the first video to RGB tensors, text strictly as UTF-8 (JSON reduced to
 * the configured fields), anything else passed through as bytes. Thread-safe: one instance
 * serves a whole decoder pool.
 */
public final class SampleDecoder {
  static final Set<String> IMAGES = Set.of("jpg", "jpeg", "png", "webp");
  static final Set<String> VIDEOS = Set.of("mp4", "webm", "mkv", "mov");
  static final Set<String> TEXTS = Set.of("json", "txt", "cls");

  private final DecodeSettings settings;
  private final ImageDecoder images;
  private final VideoDecoder videos;

  public SampleDecoder(DecodeSettings settings) {
    this.settings = settings;
    this.images = new ImageDecoder(settings);
    this.videos = new VideoDecoder(settings);
  }

  /** A sample's seeded randomness for decoding (crops, flips): from (recipe seed, epoch, shard, key). */
  public static java.util.SplittableRandom random(long recipeSeed, int epoch, RawSample raw) {
    return dev.conveyor.streams.plan.Seeds.random(recipeSeed, epoch, dev.conveyor.streams.plan.StableHash.of(raw.shard()),
        dev.conveyor.streams.plan.StableHash.of(raw.key()));
  }

  /** {@code raw} with its decoded content; {@code rnd} is the sample's seeded randomness. */
  public RawSample decode(RawSample raw, SplittableRandom rnd) throws DecodeException {
    Decoded.Picture picture = null;
    Decoded.Clip clip = null;
    Map<String, String> text = new LinkedHashMap<>();
    int[] media = media(raw.members());
    for (int i = 0; i < raw.members().size(); i++) {
      Member m = raw.members().get(i);
      String kind = kind(m.ext());
      try {
        // toArrayUnsafe: a member as the tar parser makes it (one compact array) is read in
        // place, not copied; decoders only read it
        if (i == media[0]) {
          var d = images.decode(m.data().toArrayUnsafe(), rnd);
          picture = new Decoded.Picture(d.rgb(), d.height(), d.width(), d.originalWidth(), d.originalHeight());
        } else if (i == media[1]) {
          var d = videos.decode(m.data().toArrayUnsafe(), rnd);
          clip = new Decoded.Clip(d.rgb(), d.frames(), d.height(), d.width(), d.originalWidth(), d.originalHeight(), d.frameIndices());
        } else if (TEXTS.contains(kind)) {
          String s = utf8(m.data().asByteBuffer());
          text.put(m.ext(), kind.equals("json") ? fields(s) : s);
        }
      } catch (DecodeException e) {
        throw new DecodeException("." + m.ext() + ": " + e.getMessage(), e);
      }
    }
    return raw.withDecoded(new Decoded(Optional.ofNullable(picture), Optional.ofNullable(clip), text));
  }

  /**
   * {@code decoded} without the members its picture and clip were decoded from ({@link #media}):
   * what goes on to batches and across nodes once no stage needs the compressed bytes any more.
   * Text members and members of other types stay (text members order the sample's text in its
   * digest).
   */
  public static RawSample withoutDecodedMedia(RawSample decoded) {
    if (decoded.decoded().isEmpty()) {
      throw new IllegalArgumentException(decoded.key() + " is not decoded");
    }
    int[] media = media(decoded.members());
    List<Member> kept = new ArrayList<>(decoded.members().size());
    for (int i = 0; i < decoded.members().size(); i++) {
      if (i != media[0] && i != media[1]) {
        kept.add(decoded.members().get(i));
      }
    }
    return new RawSample(decoded.shard(), decoded.key(), kept, decoded.decoded());
  }

  /** The members decoded to tensors: the first image member and the first video member (-1 where there is none). */
  private static int[] media(List<Member> members) {
    int[] media = {-1, -1};
    for (int i = 0; i < members.size(); i++) {
      String kind = kind(members.get(i).ext());
      if (media[0] < 0 && IMAGES.contains(kind)) {
        media[0] = i;
      } else if (media[1] < 0 && VIDEOS.contains(kind)) {
        media[1] = i;
      }
    }
    return media;
  }

  static String kind(String ext) {
    return ext.substring(ext.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
  }

  private static String utf8(ByteBuffer b) throws DecodeException {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(b).toString();
    } catch (CharacterCodingException e) {
      throw new DecodeException("not valid UTF-8 text");
    }
  }

  private String fields(String json) throws DecodeException {
    if (settings.textFields().isEmpty()) {
      return json;
    }
    JsonNode doc;
    try {
      doc = Json.parse(json);
    } catch (IllegalArgumentException e) {
      throw new DecodeException(e.getMessage());
    }
    ObjectNode kept = Json.object();
    for (String f : settings.textFields()) {
      JsonNode v = doc.at("/" + f.replace(".", "/")); // a dotted name reaches into nested objects
      if (!v.isMissingNode()) {
        kept.set(f, v);
      }
    }
    return Json.compact(kept);
  }
}
