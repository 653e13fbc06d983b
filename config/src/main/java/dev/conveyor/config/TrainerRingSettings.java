package dev.conveyor.config;

import com.typesafe.config.Config;

/**
 * The shared-memory rings through which trainer processes (the Python package) take their
 * ranks' batches: the {@code conveyor.node.trainer-ring} section.
 *
 * @param dir           the folder of the rings' files; empty: /dev/shm, or the temp folder where it is missing
 * @param bytes         bytes one ring may take at most; 0: a quarter of the folder's free space, at most 1 GiB
 * @param slotSize      bytes of one slot (one batch); 0: twice the first batch's size
 * @param minDepth      batches the writer runs ahead of the trainer to start with (the ring deepens for a trainer that waits)
 * @param attachTimeoutMillis how long a trainer has to map its ring once announced
 */
public record TrainerRingSettings(String dir, long bytes, long slotSize, int minDepth, long attachTimeoutMillis) {
  public static final String PATH = NodeSettings.PATH + ".trainer-ring";

  public static TrainerRingSettings fromConfig(Config config) {
    ConfigReader r = new ConfigReader(config, PATH);
    long slot = r.bytesAtLeast("slot-size", 0);
    if (slot != 0 && (slot < 4096 || slot % 64 != 0)) {
      throw new SettingsException(r.key("slot-size"), "must be 0 (twice the first batch) or a multiple of 64 bytes of"
          + " at least 4 KiB, got " + slot);
    }
    return new TrainerRingSettings(r.string("dir"), r.bytesAtLeast("bytes", 0), slot, r.intAtLeast("min-depth", 1),
        r.durationMillisAtLeast("attach-timeout", 1000));
  }
}
