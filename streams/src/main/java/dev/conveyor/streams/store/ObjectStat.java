package dev.conveyor.streams.store;

/**
 * What a store says of an object without reading it: its size and a version tag that changes
 * when its bytes do (S3's ETag; a file's size and modification time).
 */
public record ObjectStat(long size, String etag) {}
