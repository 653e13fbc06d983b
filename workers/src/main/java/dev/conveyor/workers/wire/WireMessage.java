package dev.conveyor.workers.wire;

/** A message of a protocol that crosses nodes: bound to {@link KryoSerializer} (its class must be in {@link WireRegistry}). */
public interface WireMessage {}
