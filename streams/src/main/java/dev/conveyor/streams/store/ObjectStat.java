package dev.conveyor.streams.store;

/**
 * What a store says of an object without reading it: its size and a version tag that names
 * these bytes of this object and changes when they do — S3's ETag; for a file, its path, size
 * and modification time (two files never share one).
 */
public record ObjectStat(long size, String etag) {}
