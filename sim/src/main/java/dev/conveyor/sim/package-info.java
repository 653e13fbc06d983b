/**
 * {@code conveyor sim}: multi-node fault scenarios on one machine. A {@code scenario} file names
 * the nodes, the job and the faults; {@code run.Simulation} starts real {@code conveyor node}
 * processes (on 127.0.0.1, or in network namespaces when the scenario cuts nodes off), the
 * embedded S3 server behind the fault proxy ({@code faults}), a fault-free reference run and the
 * job, while the {@code nemesis} applies the faults; everything seen goes into the
 * {@code history}, which {@code check.Checker} judges against the reference, and the
 * {@code report} draws. The CLI's tests that run node processes live in {@code cli}, which runs
 * this module's simulations as a command.
 */
package dev.conveyor.sim;
