/**
 * What a node hosts for a job, whichever runtime runs it (a cluster of one in a {@code run}
 * process, or a node of a cluster): {@code reader} — the {@code ShardReader} actor that reads
 * leased slices and {@code LeasedSlices}, a rank's side of them; {@code decoder} — the
 * supervised {@code DecoderPool}, which gives each group of samples to an idle decoder;
 * {@code feeder} — the {@code RankFeeder}, the hand-off of a rank's batches to its trainer,
 * and {@code LockstepTrainers}, the threads that stand in for a node's trainers; {@code wire} —
 * the Kryo wire format of everything that crosses nodes.
 */
package dev.conveyor.workers;
