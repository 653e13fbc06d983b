package dev.conveyor.streams.dsl;

import dev.conveyor.config.Resources;

/**
 * One stage of a pipeline as {@code conveyor explain} shows it ({@link Pipeline#describe}).
 *
 * @param name      its name in the pipeline, {@code name#i}
 * @param kind      {@code map}, {@code filter}, {@code flatMap} or {@code actor}
 * @param runs      {@code before-decode}, {@code decoders}, or {@code pool NAME#I}: an actor stage's
 *                  pool, or the pool whose actors run a fused stage written after it
 * @param resources what one instance asks
 * @param min       an actor pool's least actors (0 for a fused stage)
 * @param max       an actor pool's most actors; a fused stage's cap on decoders, or 0
 */
public record StageView(String name, String kind, String runs, Resources resources, int min, int max) {}
