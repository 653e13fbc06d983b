/**
 * The actors that will host pipeline stages on a node: shard readers, decoders, batchers, the
 * rank feeder and the node agent with its supervisor tree. Empty until the actor-runtime issue;
 * today a job runs its stream graph in one process (see {@code dev.conveyor.orchestrator.job}).
 */
package dev.conveyor.workers;
