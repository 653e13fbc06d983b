/**
 * Multi-node simulation on one machine, fault injection and benchmarks. Empty until the issues
 * that need them; the embedded S3 server they will start is
 * {@code dev.conveyor.streams.store.embedded.EmbeddedS3}.
 */
package dev.conveyor.sim;
