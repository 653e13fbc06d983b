/**
 * Multi-node simulation on one machine and fault injection: the S3 fault proxy
 * ({@code dev.conveyor.sim.faults}); its tests, and the cluster tests that run real
 * {@code conveyor node} processes on 127.0.0.1 and kill, pause or stop them
 * ({@code dev.conveyor.sim.cluster}, under src/test).
 */
package dev.conveyor.sim;
