/**
 * The wire format between nodes: {@link dev.conveyor.workers.wire.KryoSerializer}, bound in
 * this module's {@code reference.conf} to every type that crosses nodes, with the fixed ids of
 * {@link dev.conveyor.workers.wire.WireRegistry}; Java serialization is off.
 */
package dev.conveyor.workers.wire;
